#include "mochi/port/cuda_runtime.h"

#include "absl/strings/str_cat.h"

#ifdef MOCHI_WITH_CUDA_RUNTIME
#include <cuda_runtime_api.h>
#include <nccl.h>
#endif

namespace mochi {

bool CudaBuiltIn() {
#ifdef MOCHI_WITH_CUDA_RUNTIME
  return true;
#else
  return false;
#endif
}

std::string DescribeCudaRuntime() {
#ifdef MOCHI_WITH_CUDA_RUNTIME
  int devices = 0;
  const cudaError_t error = cudaGetDeviceCount(&devices);
  int runtime = 0;
  cudaRuntimeGetVersion(&runtime);
  int driver = 0;
  cudaDriverGetVersion(&driver);
  int nccl = 0;
  ncclGetVersion(&nccl);
  return absl::StrCat("cuda runtime ", runtime, ", driver ", driver, ", ",
                      error == cudaSuccess ? devices : 0, " devices (",
                      cudaGetErrorString(error), "), nccl ", nccl);
#else
  return "cuda: not built in (bazel --config=cuda)";
#endif
}

}  // namespace mochi
