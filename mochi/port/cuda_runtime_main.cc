// bazel run --config=cuda //mochi/port:cuda_runtime_info: what the CUDA runtime and NCCL see.
#include <cstdio>

#include "mochi/port/cuda_runtime.h"

int main() {
  std::printf("%s\n", mochi::DescribeCudaRuntime().c_str());
  return 0;
}
