#include "mochi/port/cuda_runtime.h"

#include "absl/strings/str_cat.h"

#ifdef MOCHI_WITH_CUDA_RUNTIME
#include <cuda_runtime_api.h>
#include <nccl.h>
#endif

namespace mochi {

std::string DescribeCudaRuntime() {
#ifdef MOCHI_WITH_CUDA_RUNTIME
  int devices = 0;
  const cudaError_t error = cudaGetDeviceCount(&devices);
  int nccl = 0;
  ncclGetVersion(&nccl);
  return absl::StrCat("cuda runtime ", CUDART_VERSION, ", ",
                      error == cudaSuccess ? devices : 0, " devices (",
                      cudaGetErrorString(error), "), nccl ", nccl);
#else
  return "cuda: not built in (bazel --config=cuda)";
#endif
}

}  // namespace mochi
