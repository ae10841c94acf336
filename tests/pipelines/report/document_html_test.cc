#include "pipelines/report/document_html.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/pipelines/report/sample_document.h"

namespace mochi::report {
namespace {

TEST(DocumentHtmlTest, RendersEveryBlockEscaped) {
  // No @generated comment; relative URLs get the prefix, absolute ones do not; the "*" mark and
  // "|" are plain text in HTML.
  EXPECT_EQ(RenderHtml(testing::SampleDocument(), {"t1-", "reports/"}),
            "<h1 id=\"t1-table-1-in-100-co\">Table 1: &lt;IN-100&gt; &amp; co</h1>\n"
            "<p>Table <code>t1</code>, see <a href=\"reports/t1.csv\">the CSV</a> and "
            "<strong>note</strong>.</p>\n"
            "<h2 id=\"t1-results\">Results</h2>\n"
            "<table>\n"
            "<thead><tr><th class=\"left\">Method</th><th class=\"right\">top-1 | %</th>"
            "<th class=\"right\">p (Welch)</th><th>note</th></tr></thead>\n"
            "<tbody>\n"
            "<tr><td class=\"left\">MoCHi | x &lt;y&gt; &amp; z</td>"
            "<td class=\"right\">86.00 ± 1.00 (3 seeds)</td><td class=\"right\">0.004 *</td>"
            "<td><code>a|b</code></td></tr>\n"
            "<tr><td class=\"left\">two\nlines</td><td class=\"right\">1</td>"
            "<td class=\"right\">n/a</td><td></td></tr>\n"
            "</tbody>\n"
            "</table>\n"
            "<h3 id=\"t1-proxy-task\">Proxy task</h3>\n"
            "<p><img src=\"reports/t1_proxy.svg\" alt=\"Proxy &quot;acc&quot;\"></p>\n"
            "<p><img src=\"https://example.org/x.svg\" alt=\"abs\"></p>\n"
            "<ul>\n"
            "<li>Profile: <code>ci</code></li>\n"
            "<li>a &lt; b &amp; c</li>\n"
            "</ul>\n");
}

TEST(DocumentHtmlTest, WithoutOptionsUrlsAndIdsAreAsWritten) {
  ReportDocument document;
  document.add_blocks()->mutable_image()->set_src("t1_proxy.svg");
  Heading* heading = document.add_blocks()->mutable_heading();
  heading->set_level(2);
  heading->set_text("***");  // nothing to make an id of
  EXPECT_EQ(RenderHtml(document),
            "<p><img src=\"t1_proxy.svg\" alt=\"\"></p>\n<h2 id=\"section\">***</h2>\n");
}

}  // namespace
}  // namespace mochi::report
