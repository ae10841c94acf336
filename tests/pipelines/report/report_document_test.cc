#include "pipelines/report/report_document.h"

#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/pipelines/report/fake_results.h"
#include "tests/pipelines/report/sample_document.h"
#include "tests/testing/status_matchers.h"

namespace mochi::report {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::mochi::testing::StatusIs;
using ::testing::EndsWith;
using ::testing::HasSubstr;

TEST(ReportDocumentTest, RoundTripsThroughJson) {
  const ReportDocument document = testing::SampleDocument();
  auto json = ReportDocumentToJson(document);
  MOCHI_ASSERT_OK(json);
  // The .proto field names, not protobuf's lowerCamelCase ones.
  EXPECT_THAT(*json, HasSubstr("\"bullet_list\""));
  EXPECT_THAT(*json, HasSubstr("\"code\": \"t1\""));
  EXPECT_THAT(*json, EndsWith("}\n"));
  auto parsed = ParseReportDocumentJson(*json, "doc.report.json");
  MOCHI_ASSERT_OK(parsed);
  EXPECT_TRUE(MessageDifferencer::Equals(*parsed, document)) << parsed->DebugString();
}

TEST(ReportDocumentTest, ReadsTheFile) {
  const std::string dir = testing::TestDir("report_document_test");
  auto json = ReportDocumentToJson(testing::SampleDocument());
  MOCHI_ASSERT_OK(json);
  auto read = ReadReportDocument(testing::WriteFile(dir, "t1.report.json", *json));
  MOCHI_ASSERT_OK(read);
  EXPECT_TRUE(MessageDifferencer::Equals(*read, testing::SampleDocument()));
  EXPECT_THAT(ReadReportDocument(dir + "/missing.report.json"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST(ReportDocumentTest, RejectsWhatIsNotADocument) {
  EXPECT_THAT(ParseReportDocumentJson("{\"blocks\": [{\"chart\": {}}]}", "t1.report.json"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("t1.report.json")));
  EXPECT_THAT(ParseReportDocumentJson("# Markdown", "t1.report.json"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(SpanWriterTest, ConsecutiveTextMakesOneSpan) {
  Paragraph paragraph;
  SpanWriter(paragraph.mutable_spans())
      .Text("Table ")
      .Text("")
      .Code("t1")
      .Text(", profile ")
      .Text("ci")
      .Strong("!")
      .Link("csv", "t1.csv");
  ASSERT_EQ(paragraph.spans_size(), 5);
  EXPECT_EQ(paragraph.spans(0).text(), "Table ");
  EXPECT_EQ(paragraph.spans(1).code(), "t1");
  EXPECT_EQ(paragraph.spans(2).text(), ", profile ci");
  EXPECT_EQ(paragraph.spans(3).strong(), "!");
  EXPECT_EQ(paragraph.spans(4).link().href(), "t1.csv");
}

}  // namespace
}  // namespace mochi::report
