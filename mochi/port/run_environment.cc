#include "mochi/port/run_environment.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "mochi/port/cuda_runtime.h"
#include "mochi/port/libtorch_info.h"

namespace mochi {

std::string CodeRevision() {
  if (const char* revision = std::getenv("MOCHI_GIT_REVISION"); revision && *revision) {
    return revision;
  }
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  if (workspace == nullptr) return "unknown";
  const std::string command =
      absl::StrCat("git -C '", workspace, "' rev-parse HEAD 2>/dev/null");
  std::string out;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buffer[128];
    while (fgets(buffer, sizeof buffer, pipe)) out += buffer;
    pclose(pipe);
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out.empty() ? "unknown" : out;
}

std::string CpuModel(absl::string_view cpuinfo) {
  for (absl::string_view line : absl::StrSplit(cpuinfo, '\n')) {
    if (!absl::StartsWith(line, "model name")) continue;
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    const absl::string_view model = absl::StripAsciiWhitespace(line.substr(colon + 1));
    if (!model.empty()) return std::string(model);
  }
  return "unknown CPU";
}

std::string RunEnvironmentText(const std::string& device, int intra_op_threads,
                               const std::vector<std::pair<std::string, std::string>>& extra,
                               absl::Time started) {
  const LibTorchInfo libtorch = LinkedLibTorch();
  std::string text = absl::StrCat("git_revision: ", CodeRevision(), "\nlibtorch: ",
                                  libtorch.version, "\nblas: ", libtorch.blas, "\ndevice: ", device,
                                  "\nintra_op_threads: ", intra_op_threads, "\n");
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::stringstream cpuinfo_text;
  cpuinfo_text << cpuinfo.rdbuf();
  absl::StrAppend(&text, "cpu: ", CpuModel(cpuinfo_text.str()), "\n");
  for (const auto& [key, value] : extra) absl::StrAppend(&text, key, ": ", value, "\n");
  absl::StrAppend(&text, DescribeCudaRuntime(), "\nstarted: ", absl::FormatTime(started),
                  "\n");
  return text;
}

}  // namespace mochi
