#include "pipelines/report/report_writer.h"

#include <filesystem>
#include <string>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/port/text_proto.h"
#include "pipelines/report/document_markdown.h"
#include "pipelines/report/report_document.h"
#include "tests/pipelines/report/fake_results.h"
#include "tests/testing/status_matchers.h"

namespace mochi::report {
namespace {

using ::mochi::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(ReportWriterTest, WritesMarkdownDocumentCsvAndOneSvgPerFigure) {
  const std::string dir = testing::TestDir("report_writer_test");
  const std::string out = dir + "/out";
  auto written = WriteReport({testing::WriteFakeSpec(dir), out, "", "Test CPU", absl::UnixEpoch()});
  MOCHI_ASSERT_OK(written);
  EXPECT_THAT(*written, ElementsAre(EndsWith("/tablex_proxy_accuracy.svg"),
                                    EndsWith("/tablex_hardness.svg"), EndsWith("/tablex.md"),
                                    EndsWith("/tablex.report.json"), EndsWith("/tablex.csv")));
  auto md = ReadFileToString(out + "/tablex.md");
  MOCHI_ASSERT_OK(md);
  EXPECT_THAT(*md, HasSubstr("| MoCHi (16, 32, 8) | 3 | 86.00 ± 1.00 | 73.0 ± 2.0 | +5.00 | "
                             "0.004 * |"));
  EXPECT_THAT(*md, HasSubstr("- Report generated: 1970-01-01 00:00:00 UTC"));
  // The document beside it is what the Markdown was rendered from.
  auto document = ReadReportDocument(out + "/tablex.report.json");
  MOCHI_ASSERT_OK(document);
  EXPECT_EQ(RenderMarkdown(*document), *md);
  auto svg = ReadFileToString(out + "/tablex_hardness.svg");
  MOCHI_ASSERT_OK(svg);
  EXPECT_THAT(*svg, StartsWith("<svg "));
  EXPECT_THAT(*svg, HasSubstr("MoCo-v2, last epoch"));
}

TEST(ReportWriterTest, MissingMetricFailsAndWritesNothing) {
  const std::string dir = testing::TestDir("report_writer_missing_metric");
  const std::string out = dir + "/out";
  // The fake knn.json files set top1 and k, not raw_pixels_top1.
  const std::string spec = testing::WriteFakeSpec(
      dir, ", {\"id\": \"raw\", \"label\": \"raw\", \"result\": \"knn\", "
           "\"metric\": \"raw_pixels_top1\"}");
  EXPECT_THAT(WriteReport({spec, out, "", "Test CPU", absl::UnixEpoch()}),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("row \"mocov2\", seed 0, column \"raw\""),
                             HasSubstr(dir + "/mocov2_s0_knn.json"),
                             HasSubstr("\"raw_pixels_top1\" is not set"))));
  EXPECT_FALSE(std::filesystem::exists(out + "/tablex.md"));
}

TEST(ReportWriterTest, UnknownMetricFailsBeforeReadingResults) {
  const std::string dir = testing::TestDir("report_writer_unknown_metric");
  const std::string spec = testing::WriteFakeSpec(
      dir, ", {\"id\": \"top5\", \"label\": \"top-5\", \"result\": \"knn\", \"metric\": \"top5\"}");
  EXPECT_THAT(WriteReport({spec, dir + "/out", "", "Test CPU", absl::UnixEpoch()}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("columns[2]"),
                             HasSubstr("KnnResult has no field \"top5\""))));
}

TEST(ReportWriterTest, MissingSpec) {
  EXPECT_THAT(WriteReport({"/nonexistent/spec.json", "/tmp", "", "", absl::UnixEpoch()}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/spec.json")));
}

}  // namespace
}  // namespace mochi::report
