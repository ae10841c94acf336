#include "pipelines/report/output_files.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "mochi/port/status_macros.h"
#include "mochi/port/text_proto.h"

namespace mochi::report {

absl::StatusOr<std::vector<std::string>> WriteOutputFiles(
    const std::string& out_dir, const std::vector<std::pair<std::string, std::string>>& files) {
  std::error_code error;
  std::filesystem::create_directories(out_dir, error);
  if (error) {
    return absl::PermissionDeniedError(
        absl::StrCat("--out_dir: cannot create ", out_dir, ": ", error.message()));
  }
  std::vector<std::string> written;
  for (const auto& [name, contents] : files) {
    const std::string path = (std::filesystem::path(out_dir) / name).string();
    MOCHI_RETURN_IF_ERROR(WriteFileAtomically(path, contents));
    written.push_back(path);
  }
  return written;
}

}  // namespace mochi::report
