#include "pipelines/report/report_install.h"

#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/port/text_proto.h"
#include "pipelines/report/document_markdown.h"
#include "pipelines/report/report_document.h"
#include "tests/pipelines/report/fake_results.h"
#include "tests/pipelines/report/sample_document.h"
#include "tests/testing/status_matchers.h"

namespace mochi::report {
namespace {

using ::mochi::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kInstalledAt =
    absl::FromCivil(absl::CivilSecond(2026, 1, 2, 3, 4, 5), absl::UTCTimeZone());

TEST(ReportInstallTest, WritesTheStampedDocumentAndItsMarkdown) {
  const std::string dir = testing::TestDir("report_install_test");
  const ReportDocument generated = testing::SampleDocument();
  auto json = ReportDocumentToJson(generated);
  MOCHI_ASSERT_OK(json);
  const std::string document_path = testing::WriteFile(dir, "t1.report.json", *json);

  auto written = InstallReport({document_path, dir + "/reports", kInstalledAt});
  MOCHI_ASSERT_OK(written);
  EXPECT_THAT(*written, ElementsAre(dir + "/reports/t1.md", dir + "/reports/t1.report.json"));
  // The Markdown is the generated one with the line the install script used to append.
  auto md = ReadFileToString(dir + "/reports/t1.md");
  MOCHI_ASSERT_OK(md);
  EXPECT_EQ(*md,
            RenderMarkdown(generated) + "\nInstalled by bazel run: 2026-01-02T03:04:05 UTC.\n");
  auto installed = ReadReportDocument(dir + "/reports/t1.report.json");
  MOCHI_ASSERT_OK(installed);
  ASSERT_EQ(installed->blocks_size(), generated.blocks_size() + 1);
  EXPECT_EQ(RenderMarkdown(*installed), *md);
}

TEST(ReportInstallTest, StampIsAParagraphInUtc) {
  ReportDocument document;
  AppendInstallStamp(kInstalledAt + absl::Milliseconds(700), &document);
  ASSERT_EQ(document.blocks_size(), 1);
  ASSERT_EQ(document.blocks(0).paragraph().spans_size(), 1);
  EXPECT_EQ(document.blocks(0).paragraph().spans(0).text(),
            "Installed by bazel run: 2026-01-02T03:04:05 UTC.");
}

TEST(ReportInstallTest, OnlyReportDocuments) {
  const std::string dir = testing::TestDir("report_install_errors");
  const std::string md = testing::WriteFile(dir, "t1.md", "# T\n");
  EXPECT_THAT(InstallReport({md, dir + "/reports", kInstalledAt}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("t1.md")));
  EXPECT_THAT(InstallReport({dir + "/t2.report.json", dir + "/reports", kInstalledAt}),
              StatusIs(absl::StatusCode::kNotFound));
  const std::string bad = testing::WriteFile(dir, "t3.report.json", "# T\n");
  EXPECT_THAT(InstallReport({bad, dir + "/reports", kInstalledAt}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("t3.report.json")));
}

}  // namespace
}  // namespace mochi::report
