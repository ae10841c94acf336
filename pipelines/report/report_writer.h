// The report generator end to end: spec file in, <table>.md, its document <table>.report.json,
// <table>.csv and one SVG per figure out. //pipelines/report:make_report is a thin flag wrapper
// around WriteReport and WriteIndex.
#ifndef PIPELINES_REPORT_REPORT_WRITER_H_
#define PIPELINES_REPORT_REPORT_WRITER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace mochi::report {

struct ReportRequest {
  std::string spec_path;  // JSON ReportSpec (see report_spec.h)
  std::string out_dir;    // created if missing
  std::string root;       // relative result paths are taken from here ("" = current directory)
  std::string machine;    // DescribeThisMachine() in the binary; fixed in tests
  absl::Time now;         // report generation time
};

// Returns the paths written. Errors name the spec, row, seed, column/figure and file; nothing
// is written unless every input is present and well-formed.
//
// Example:
//   MOCHI_ASSIGN_OR_RETURN(std::vector<std::string> files,
//                          WriteReport({"table1.json", "reports", "", DescribeThisMachine(),
//                                      absl::Now()}));
absl::StatusOr<std::vector<std::string>> WriteReport(const ReportRequest& request);

}  // namespace mochi::report

#endif  // PIPELINES_REPORT_REPORT_WRITER_H_
