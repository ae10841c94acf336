#include "pipelines/report/machine_info.h"

#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "mochi/port/text_proto.h"

namespace mochi::report {
namespace {

// The value of the first "key : value" line whose key is `key`.
std::string ProcValue(absl::string_view text, absl::string_view key) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    if (absl::StripAsciiWhitespace(line.substr(0, colon)) == key) {
      return std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    }
  }
  return "";
}

}  // namespace

std::string DescribeMachine(absl::string_view cpuinfo, absl::string_view meminfo) {
  std::string model = ProcValue(cpuinfo, "model name");
  if (model.empty()) model = "unknown CPU";
  int cores = 0;
  for (absl::string_view line : absl::StrSplit(cpuinfo, '\n')) {
    if (absl::StartsWith(line, "processor")) ++cores;
  }
  const std::string cores_text =
      cores > 0 ? absl::StrCat(cores, " logical cores") : "unknown core count";
  // "MemTotal:       8123456 kB"
  std::string memory_text = "unknown memory";
  const std::string total = ProcValue(meminfo, "MemTotal");
  double kib = 0;
  if (absl::SimpleAtod(absl::StripSuffix(total, " kB"), &kib) && kib > 0) {
    memory_text = absl::StrFormat("%.1f GiB memory", kib / (1024.0 * 1024.0));
  }
  return absl::StrCat(model, ", ", cores_text, ", ", memory_text);
}

std::string DescribeThisMachine() {
  const std::string cpuinfo = ReadFileToString("/proc/cpuinfo").value_or("");
  const std::string meminfo = ReadFileToString("/proc/meminfo").value_or("");
  std::string description = DescribeMachine(cpuinfo, meminfo);
  if (cpuinfo.empty()) {
    absl::StrAppend(&description,
                    " (no /proc/cpuinfo; hardware threads: ", std::thread::hardware_concurrency(),
                    ")");
  }
  return description;
}

std::string FormatDuration(double seconds) {
  if (seconds < 120) return absl::StrFormat("%.0f s", seconds);
  if (seconds < 2 * 3600) return absl::StrFormat("%.1f min", seconds / 60);
  return absl::StrFormat("%.2f h", seconds / 3600);
}

}  // namespace mochi::report
