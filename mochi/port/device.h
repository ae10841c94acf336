// The torch::Device a config's run.device names, checked against this binary and this machine,
// so that "cuda" on a CPU build or on a machine without a GPU is a clear error, not a LibTorch
// backtrace from the first tensor moved.
#ifndef MOCHI_PORT_DEVICE_H_
#define MOCHI_PORT_DEVICE_H_

#include <string>

#include "absl/status/statusor.h"
#include "c10/core/Device.h"

namespace mochi {

// "cpu", "cuda", "cuda:1", ... A CUDA device without an index gets `default_cuda_index` (the
// local rank of a multi-process run). FailedPrecondition when the binary has no CUDA or the
// machine has no such CUDA device; InvalidArgument for a string LibTorch does not parse.
absl::StatusOr<c10::Device> ResolveDevice(const std::string& name, int default_cuda_index = 0);

}  // namespace mochi

#endif  // MOCHI_PORT_DEVICE_H_
