// A report document as an HTML fragment, for the index page (html_index.h). All text and
// attribute values are escaped (XmlEscape, svg_plot.h), so a report cannot inject markup.
#ifndef PIPELINES_REPORT_DOCUMENT_HTML_H_
#define PIPELINES_REPORT_DOCUMENT_HTML_H_

#include <string>

#include "pipelines/report/report_document.pb.h"

namespace mochi::report {

struct HtmlOptions {
  std::string id_prefix;   // prefixed to heading ids, to keep them unique in a page of reports
  std::string url_prefix;  // prefixed to relative image and link URLs (e.g. "reports/")
};

// Headings get ids from their text ("Table 1: X" -> "table-1-x"), table cells the class of their
// column's alignment ("left", "right"), images are <p><img></p>; the @generated comment is left
// out (the page has its own).
//
// Example:
//   RenderHtml(document, {"table1-", "reports/"})
//   == "<h1 id=\"table1-table-1\">Table 1</h1>\n<p><img src=\"reports/table1_f.svg\" ...";
std::string RenderHtml(const ReportDocument& document, const HtmlOptions& options = {});

}  // namespace mochi::report

#endif  // PIPELINES_REPORT_DOCUMENT_HTML_H_
