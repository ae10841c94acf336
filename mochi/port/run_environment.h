// The provenance of a run: the "key: value" lines of a run directory's env.txt, which the
// reports' provenance block reads (git_revision, libtorch, blas, device, intra_op_threads, ...).
#ifndef MOCHI_PORT_RUN_ENVIRONMENT_H_
#define MOCHI_PORT_RUN_ENVIRONMENT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace mochi {

// The code version: $MOCHI_GIT_REVISION (pipeline actions set it from Bazel's workspace status,
// tools/workspace_status.sh), else `git rev-parse HEAD` in $BUILD_WORKSPACE_DIRECTORY (bazel run),
// else "unknown".
std::string CodeRevision();

// The "model name" of a /proc/cpuinfo text (e.g. "AMD EPYC 9B14"), or "unknown CPU": the
// reports tell the runs of different CPUs apart by it, since another CPU's floating-point path
// can move a result where the same machine repeats it bit for bit.
std::string CpuModel(absl::string_view cpuinfo);

// git_revision, libtorch, blas, device, intra_op_threads, cpu (this machine's CpuModel), then
// `extra` in order, the CUDA runtime's lines and `started` (RFC 3339). One line each,
// "key: value\n".
std::string RunEnvironmentText(const std::string& device, int intra_op_threads,
                               const std::vector<std::pair<std::string, std::string>>& extra,
                               absl::Time started);

}  // namespace mochi

#endif  // MOCHI_PORT_RUN_ENVIRONMENT_H_
