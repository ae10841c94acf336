#include "pipelines/report/html_index.h"

#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/port/text_proto.h"
#include "pipelines/report/report_document.h"
#include "tests/pipelines/report/fake_results.h"
#include "tests/testing/status_matchers.h"

namespace mochi::report {
namespace {

using ::mochi::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

// Writes <dir>/<name>.report.json holding the document of `text_proto`.
void WriteDocument(const std::string& dir, const std::string& name, const std::string& text_proto) {
  ReportDocument document;
  MOCHI_ASSERT_OK(ParseTextProto(text_proto, name, &document));
  auto json = ReportDocumentToJson(document);
  MOCHI_ASSERT_OK(json);
  testing::WriteFile(dir, name + ".report.json", *json);
}

TEST(HtmlIndexTest, ListsAndRendersEveryReportDocument) {
  const std::string dir = testing::TestDir("html_index_test");
  WriteDocument(dir, "table2", R"pb(
    blocks { heading { level: 1 text: "Second table" } }
    blocks {
      table {
        header { spans { text: "a" } }
        header { spans { text: "b" } }
        rows {
          cells { spans { text: "1" } }
          cells { spans { text: "2" } }
        }
      }
    }
  )pb");
  WriteDocument(dir, "table1", R"pb(
    blocks { generated { generator: "make_report" source: "spec.json" } }
    blocks { heading { level: 1 text: "First table" } }
    blocks { image { src: "table1_proxy.svg" alt: "fig" } }
  )pb");
  WriteDocument(dir, "untitled", "");
  testing::WriteFile(dir, "table1.md", "# First table, as Markdown\n");
  testing::WriteFile(dir, "table1.csv", "row_id\n");
  testing::WriteFile(dir, "old.md", "# A report without a document\n");
  testing::WriteFile(dir, "README.md", "# Reports\n\nWritten by hand.\n");
  testing::WriteFile(dir, "notes.txt", "not a report");
  auto index = ScanReports(dir);
  MOCHI_ASSERT_OK(index);
  EXPECT_TRUE(index->has_readme);
  ASSERT_EQ(index->reports.size(), 3u);
  EXPECT_EQ(index->reports[0].name, "table1");
  EXPECT_EQ(index->reports[0].title, "First table");
  EXPECT_TRUE(index->reports[0].has_csv);
  EXPECT_EQ(index->reports[1].name, "table2");
  EXPECT_FALSE(index->reports[1].has_csv);
  EXPECT_EQ(index->reports[2].title, "untitled");  // no heading: the file name

  MOCHI_ASSERT_OK(WriteIndex(dir, dir + "/index.html"));
  auto html = ReadFileToString(dir + "/index.html");
  MOCHI_ASSERT_OK(html);
  EXPECT_THAT(*html, ::testing::StartsWith("<!DOCTYPE html>"));
  EXPECT_THAT(*html, HasSubstr("<style>"));
  EXPECT_THAT(*html, HasSubstr("<li><a href=\"#report-table1\">First table</a> <span "
                               "class=\"files\">(<a href=\"table1.md\">table1.md</a>, <a "
                               "href=\"table1.csv\">table1.csv</a>)</span></li>"));
  EXPECT_THAT(*html, HasSubstr("<a href=\"#report-table2\">Second table</a>"));
  EXPECT_LT(html->find("report-table1"), html->find("report-table2"));
  EXPECT_THAT(*html, HasSubstr("<section class=\"report\" id=\"report-table1\">\n"
                               "<h1 id=\"table1-first-table\">First table</h1>\n"
                               "<p><img src=\"table1_proxy.svg\" alt=\"fig\"></p>\n"
                               "</section>\n"));
  EXPECT_THAT(*html, HasSubstr("<td>1</td><td>2</td>"));
  // README.md is linked from the header, not rendered; Markdown files are not read.
  EXPECT_THAT(*html, HasSubstr("<a href=\"README.md\">README.md</a>"));
  EXPECT_THAT(*html, Not(HasSubstr("Written by hand")));
  EXPECT_THAT(*html, Not(HasSubstr("as Markdown")));
  EXPECT_THAT(*html, Not(HasSubstr("without a document")));
  EXPECT_THAT(*html, Not(HasSubstr("not a report")));
  EXPECT_THAT(*html, HasSubstr("</html>\n"));
}

TEST(HtmlIndexTest, PageOutsideTheReportsDirLinksIntoIt) {
  const std::string dir = testing::TestDir("html_index_outside");
  std::filesystem::create_directories(dir + "/reports");
  WriteDocument(dir + "/reports", "t", R"pb(
    blocks { heading { level: 1 text: "T" } }
    blocks { image { src: "t_f.svg" alt: "f" } }
  )pb");
  testing::WriteFile(dir + "/reports", "README.md", "# Reports\n");
  MOCHI_ASSERT_OK(WriteIndex(dir + "/reports", dir + "/index.html"));
  auto html = ReadFileToString(dir + "/index.html");
  MOCHI_ASSERT_OK(html);
  EXPECT_THAT(*html, HasSubstr("<img src=\"reports/t_f.svg\""));
  EXPECT_THAT(*html, HasSubstr("href=\"reports/t.md\""));
  EXPECT_THAT(*html, HasSubstr("href=\"reports/README.md\""));
}

TEST(HtmlIndexTest, DashboardOrderPutsTablesFirstThenAppendixThenFigures) {
  std::vector<std::string> names = {"figure_overhead", "table_appendix_queue", "table3",
                                    "notes",           "table1",               "figure_hardness",
                                    "table2",          "table_appendix_mixing_type"};
  std::sort(names.begin(), names.end(), DashboardOrder);
  EXPECT_THAT(names, ::testing::ElementsAre("table1", "table2", "table3",
                                            "table_appendix_mixing_type", "table_appendix_queue",
                                            "figure_hardness", "figure_overhead", "notes"));
}

TEST(HtmlIndexTest, NoDocuments) {
  const std::string dir = testing::TestDir("html_index_empty");
  auto index = ScanReports(dir);
  MOCHI_ASSERT_OK(index);
  EXPECT_FALSE(index->has_readme);
  const std::string html = RenderIndexHtml(*index, "");
  EXPECT_THAT(html, HasSubstr("<p>No reports (*.report.json) found.</p>"));
  EXPECT_THAT(html, Not(HasSubstr("README")));
}

// A report installed before reports were documents has only its Markdown: it is linked, so the
// page still lists every report, and rendered once it is regenerated.
TEST(HtmlIndexTest, MarkdownOnlyReportsAreLinked) {
  const std::string dir = testing::TestDir("html_index_markdown_only");
  testing::WriteFile(dir, "README.md", "# Reports\n");
  testing::WriteFile(dir, "table2.md", "# Old table\n");
  testing::WriteFile(dir, "notes.txt", "not a report");
  auto index = ScanReports(dir);
  MOCHI_ASSERT_OK(index);
  EXPECT_TRUE(index->reports.empty());
  EXPECT_THAT(index->markdown_only, ::testing::ElementsAre("table2"));
  const std::string html = RenderIndexHtml(*index, "");
  EXPECT_THAT(html, HasSubstr("<li><a href=\"table2.md\">table2.md</a> <span class=\"files\">"
                              "(Markdown only"));
  EXPECT_THAT(html, Not(HasSubstr("No reports")));
  EXPECT_THAT(html, Not(HasSubstr("<section")));
}

TEST(HtmlIndexTest, BadDocumentIsAnError) {
  const std::string dir = testing::TestDir("html_index_bad");
  testing::WriteFile(dir, "t.report.json", "{\"blocks\": 3}");
  EXPECT_THAT(ScanReports(dir),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("t.report.json")));
}

TEST(HtmlIndexTest, MissingDirectory) {
  EXPECT_THAT(ScanReports("/nonexistent/reports"), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace mochi::report
