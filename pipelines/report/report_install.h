// Installing a generated report into the reports directory (what `bazel run //pipelines:<table>`
// does): its document gets an "Installed by bazel run" paragraph, and the directory receives the
// stamped <table>.report.json and the <table>.md rendered from it.
#ifndef PIPELINES_REPORT_REPORT_INSTALL_H_
#define PIPELINES_REPORT_REPORT_INSTALL_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pipelines/report/report_document.pb.h"

namespace mochi::report {

struct InstallRequest {
  std::string document_path;  // <table>.report.json as make_report wrote it
  std::string out_dir;        // the reports directory; created if missing
  absl::Time installed_at;
};

// Appends the paragraph "Installed by bazel run: 2026-01-02T03:04:05 UTC." (UTC, to the second).
void AppendInstallStamp(absl::Time installed_at, ReportDocument* document);

// Returns the paths written: <out_dir>/<table>.md and <out_dir>/<table>.report.json. The code
// version is not stamped: the provenance block already lists the revisions the runs were trained
// at. InvalidArgument if `document_path` is not a <table>.report.json document.
//
// Example:
//   MOCHI_ASSIGN_OR_RETURN(std::vector<std::string> files,
//                          InstallReport({"bazel-bin/.../table1.report.json", "reports",
//                                         absl::Now()}));
absl::StatusOr<std::vector<std::string>> InstallReport(const InstallRequest& request);

}  // namespace mochi::report

#endif  // PIPELINES_REPORT_REPORT_INSTALL_H_
