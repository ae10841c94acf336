// A report's output files written into a directory, each atomically (WriteFileAtomically), so a
// reader never sees a half-written report file.
#ifndef PIPELINES_REPORT_OUTPUT_FILES_H_
#define PIPELINES_REPORT_OUTPUT_FILES_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace mochi::report {

// Creates `out_dir` if needed and writes every (file name, contents); returns the paths written.
// PermissionDenied naming `out_dir` when it cannot be created.
absl::StatusOr<std::vector<std::string>> WriteOutputFiles(
    const std::string& out_dir, const std::vector<std::pair<std::string, std::string>>& files);

}  // namespace mochi::report

#endif  // PIPELINES_REPORT_OUTPUT_FILES_H_
