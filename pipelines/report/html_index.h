// index.html over a directory of generated reports: a list of links, then every report's
// Markdown rendered as HTML (tables, paragraphs, figures as <img>), with inline CSS so the page
// is one self-contained file next to its SVGs.
#ifndef PIPELINES_REPORT_HTML_INDEX_H_
#define PIPELINES_REPORT_HTML_INDEX_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mochi::report {

struct IndexedReport {
  std::string name;      // file name stem: "table1" for table1.md
  std::string title;     // the first "# " heading, else the stem
  std::string markdown;  // file contents
  bool has_csv = false;  // <name>.csv exists beside it
};

// The *.md files directly in `dir`, README.md first, then by name. NotFound if `dir` is not a
// directory.
absl::StatusOr<std::vector<IndexedReport>> ScanReports(const std::string& dir);

// The page. `url_prefix` leads from the page's directory to the reports' ("" when the page is in
// the reports directory).
std::string RenderIndexHtml(const std::vector<IndexedReport>& reports,
                            const std::string& url_prefix);

// ScanReports + RenderIndexHtml, written atomically to `out` (links relative to `out`'s folder).
//
// Example:
//   MOCHI_RETURN_IF_ERROR(WriteIndex("reports", "reports/index.html"));
absl::Status WriteIndex(const std::string& reports_dir, const std::string& out);

}  // namespace mochi::report

#endif  // PIPELINES_REPORT_HTML_INDEX_H_
