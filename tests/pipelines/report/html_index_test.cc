#include "pipelines/report/html_index.h"

#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/port/text_proto.h"
#include "pipelines/report/markdown_html.h"
#include "tests/pipelines/report/fake_results.h"
#include "tests/testing/status_matchers.h"

namespace mochi::report {
namespace {

using ::mochi::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(MarkdownHtmlTest, HeadingsParagraphsListsAndCode) {
  const std::string html = MarkdownToHtml(
      "<!-- @generated; do not edit. -->\n# Table 1: <IN-100>\n\nFirst line\nsecond `a<b` "
      "**bold** [csv](t.csv).\n\n- one\n- two `x`\n\n```\nraw <b>\n```\n");
  EXPECT_THAT(html, Not(HasSubstr("generated")));
  EXPECT_THAT(html, HasSubstr("<h1 id=\"table-1-in-100\">Table 1: &lt;IN-100&gt;</h1>\n"));
  EXPECT_THAT(html, HasSubstr("<p>First line second <code>a&lt;b</code> <strong>bold</strong> "
                              "<a href=\"t.csv\">csv</a>.</p>\n"));
  EXPECT_THAT(html, HasSubstr("<ul>\n<li>one</li>\n<li>two <code>x</code></li>\n</ul>\n"));
  EXPECT_THAT(html, HasSubstr("<pre><code>raw &lt;b&gt;</code></pre>"));
}

TEST(MarkdownHtmlTest, TablesKeepTheSignificanceStarAndEscapedPipes) {
  const std::string html = MarkdownToHtml(
      "| Method | top-1 | p |\n| :--- | ---: | ---: |\n| MoCHi \\| x | 86.00 ± 1.00 (3 seeds) | "
      "0.004 * |\n| `a\\|b` | 1 |\n");
  EXPECT_THAT(html, HasSubstr("<th class=\"left\">Method</th><th class=\"right\">top-1</th>"));
  EXPECT_THAT(html, HasSubstr("<td class=\"left\">MoCHi | x</td><td class=\"right\">86.00 ± 1.00 "
                              "(3 seeds)</td><td class=\"right\">0.004 *</td>"));
  // Short rows are padded to the header's width.
  EXPECT_THAT(html, HasSubstr("<td class=\"left\"><code>a|b</code></td><td class=\"right\">1</td>"
                              "<td class=\"right\"></td>"));
}

TEST(MarkdownHtmlTest, ImagesGetThePrefix) {
  MarkdownOptions options;
  options.url_prefix = "reports/";
  options.id_prefix = "t1-";
  const std::string html = MarkdownToHtml(
      "## Figures\n\n![Proxy \"acc\"](t1_proxy.svg)\n\n![abs](https://x/y.svg)\n", options);
  EXPECT_THAT(html, HasSubstr("<h2 id=\"t1-figures\">"));
  EXPECT_THAT(html, HasSubstr("<img src=\"reports/t1_proxy.svg\" alt=\"Proxy &quot;acc&quot;\">"));
  EXPECT_THAT(html, HasSubstr("<img src=\"https://x/y.svg\""));
}

TEST(HtmlIndexTest, ListsAndRendersEveryReport) {
  const std::string dir = testing::TestDir("html_index_test");
  testing::WriteFile(dir, "table2.md", "# Second table\n\n| a | b |\n|---|---|\n| 1 | 2 |\n");
  testing::WriteFile(dir, "table1.md", "# First table\n\n![fig](table1_proxy.svg)\n");
  testing::WriteFile(dir, "table1.csv", "row_id\n");
  testing::WriteFile(dir, "notes.txt", "not a report");
  auto reports = ScanReports(dir);
  MOCHI_ASSERT_OK(reports);
  ASSERT_EQ(reports->size(), 2u);
  EXPECT_EQ((*reports)[0].name, "table1");
  EXPECT_EQ((*reports)[0].title, "First table");
  EXPECT_TRUE((*reports)[0].has_csv);
  EXPECT_FALSE((*reports)[1].has_csv);

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
  EXPECT_THAT(*html, HasSubstr("<section class=\"report\" id=\"report-table1\">"));
  EXPECT_THAT(*html, HasSubstr("<img src=\"table1_proxy.svg\" alt=\"fig\">"));
  EXPECT_THAT(*html, HasSubstr("<td>1</td><td>2</td>"));
  EXPECT_THAT(*html, Not(HasSubstr("not a report")));
  EXPECT_THAT(*html, HasSubstr("</html>\n"));
}

TEST(HtmlIndexTest, PageOutsideTheReportsDirLinksIntoIt) {
  const std::string dir = testing::TestDir("html_index_outside");
  std::filesystem::create_directories(dir + "/reports");
  testing::WriteFile(dir + "/reports", "t.md", "# T\n\n![f](t_f.svg)\n");
  MOCHI_ASSERT_OK(WriteIndex(dir + "/reports", dir + "/index.html"));
  auto html = ReadFileToString(dir + "/index.html");
  MOCHI_ASSERT_OK(html);
  EXPECT_THAT(*html, HasSubstr("<img src=\"reports/t_f.svg\""));
  EXPECT_THAT(*html, HasSubstr("href=\"reports/t.md\""));
}

TEST(HtmlIndexTest, MissingDirectory) {
  EXPECT_THAT(ScanReports("/nonexistent/reports"), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace mochi::report
