// What CUDA and NCCL report, for run provenance (env.txt) and device checks. Under
// --config=cuda it asks the wheel's CUDA runtime and NCCL; otherwise it says CUDA is not built in.
#ifndef MOCHI_PORT_CUDA_RUNTIME_H_
#define MOCHI_PORT_CUDA_RUNTIME_H_

#include <string>

namespace mochi {

// Whether this binary was built with --config=cuda (linked against libtorch_cuda and NCCL).
bool CudaBuiltIn();

// e.g. "cuda runtime 13000, 0 devices (CUDA driver version is insufficient...), nccl 22809".
std::string DescribeCudaRuntime();

}  // namespace mochi

#endif  // MOCHI_PORT_CUDA_RUNTIME_H_
