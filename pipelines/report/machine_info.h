// The machine a report is generated on (CPU model, cores, memory), read from /proc, and
// human-readable durations for the provenance block.
#ifndef PIPELINES_REPORT_MACHINE_INFO_H_
#define PIPELINES_REPORT_MACHINE_INFO_H_

#include <string>

#include "absl/strings/string_view.h"

namespace mochi::report {

// "<CPU model>, <n> logical cores, <x> GiB memory" from the texts of /proc/cpuinfo and
// /proc/meminfo; parts that cannot be read say "unknown ...".
std::string DescribeMachine(absl::string_view cpuinfo, absl::string_view meminfo);

// The same for this machine, now.
std::string DescribeThisMachine();

// 42 -> "42 s", 754 -> "12.6 min", 9000 -> "2.50 h".
std::string FormatDuration(double seconds);

}  // namespace mochi::report

#endif  // PIPELINES_REPORT_MACHINE_INFO_H_
