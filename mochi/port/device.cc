#include "mochi/port/device.h"

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "mochi/port/cuda_runtime.h"
#include "mochi/port/torch_status.h"
#include "torch/cuda.h"

namespace mochi {

absl::StatusOr<c10::Device> ResolveDevice(const std::string& name, int default_cuda_index) {
  std::optional<c10::Device> device;
  absl::Status parsed = TorchToStatus("run.device", [&] { device.emplace(name); });
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("run.device \"", name,
                                                   "\" is not a device (e.g. \"cpu\", \"cuda\", "
                                                   "\"cuda:1\")"));
  }
  if (device->is_cpu()) return *device;
  if (!device->is_cuda()) {
    return absl::InvalidArgumentError(
        absl::StrCat("run.device \"", name, "\": only \"cpu\" and \"cuda\" are supported"));
  }
  if (!CudaBuiltIn()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "run.device \"", name, "\": this binary was built without CUDA; build it with "
        "bazel --config=cuda (and bash tools/setup.sh --cuda)"));
  }
  const int64_t count = torch::cuda::device_count();
  if (count == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "run.device \"", name, "\": no CUDA device is present on this machine (",
        DescribeCudaRuntime(), ")"));
  }
  if (!device->has_index()) device->set_index(static_cast<c10::DeviceIndex>(default_cuda_index));
  if (device->index() >= count) {
    return absl::FailedPreconditionError(absl::StrCat("run.device \"", name, "\": device index ",
                                                      device->index(), " but this machine has ",
                                                      count, " CUDA device(s)"));
  }
  return *device;
}

}  // namespace mochi
