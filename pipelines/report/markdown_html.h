// A minimal Markdown-to-HTML converter for the generated reports: headings, paragraphs, pipe
// tables (with alignment), images, links, code spans, **bold**, fenced code blocks, flat
// bullet/numbered lists, backslash escapes; HTML comments are dropped. Everything else is text
// (escaped), so a report can never inject markup into the index. Single `*` is not emphasis:
// the tables use it as the significance mark.
#ifndef PIPELINES_REPORT_MARKDOWN_HTML_H_
#define PIPELINES_REPORT_MARKDOWN_HTML_H_

#include <string>

#include "absl/strings/string_view.h"

namespace mochi::report {

struct MarkdownOptions {
  std::string id_prefix;   // prefixed to heading ids, to keep them unique in a page of reports
  std::string url_prefix;  // prefixed to relative image and link URLs (e.g. "reports/")
};

// Example:
//   MarkdownToHtml("# T\n\n| a |\n|---|\n| `x` |\n")
//   == "<h1 id=\"t\">T</h1>\n<table>...<td><code>x</code></td>...</table>\n"
std::string MarkdownToHtml(absl::string_view markdown, const MarkdownOptions& options = {});

// HTML text and attribute values are escaped like SVG's: XmlEscape (svg_plot.h).

}  // namespace mochi::report

#endif  // PIPELINES_REPORT_MARKDOWN_HTML_H_
