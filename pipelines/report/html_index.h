// index.html over a directory of installed reports: a list of links, then every report's document
// (<table>.report.json) rendered as HTML (tables, paragraphs, figures as <img>), with inline CSS so
// the page is one self-contained file next to its SVGs. The directory's hand-written README.md is
// linked from the page header.
#ifndef PIPELINES_REPORT_HTML_INDEX_H_
#define PIPELINES_REPORT_HTML_INDEX_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pipelines/report/report_document.pb.h"

namespace mochi::report {

struct IndexedReport {
  std::string name;         // file name stem: "table1" for table1.report.json
  std::string title;        // the first level-1 heading, else the stem
  ReportDocument document;  // the file's contents
  bool has_csv = false;     // <name>.csv exists beside it
};

struct ReportIndex {
  std::vector<IndexedReport> reports;  // by name
  // Stems of <name>.md reports without a document (installed before reports were documents),
  // by name: linked, not rendered, until they are regenerated.
  std::vector<std::string> markdown_only;
  bool has_readme = false;  // README.md exists beside them
};

// The dashboard's order of report names: table1, table2, table3, the other (appendix) tables,
// the figures, anything else; by name within each group.
bool DashboardOrder(const std::string& a, const std::string& b);

// The *.report.json files directly in `dir`, and the *.md files without one (README.md aside).
// NotFound if `dir` is not a directory; InvalidArgument naming the file if one is not a report
// document.
absl::StatusOr<ReportIndex> ScanReports(const std::string& dir);

// The page. `url_prefix` leads from the page's directory to the reports' ("" when the page is in
// the reports directory).
std::string RenderIndexHtml(const ReportIndex& index, const std::string& url_prefix);

// ScanReports + RenderIndexHtml, written atomically to `out` (links relative to `out`'s folder).
//
// Example:
//   MOCHI_RETURN_IF_ERROR(WriteIndex("reports", "reports/index.html"));
absl::Status WriteIndex(const std::string& reports_dir, const std::string& out);

}  // namespace mochi::report

#endif  // PIPELINES_REPORT_HTML_INDEX_H_
