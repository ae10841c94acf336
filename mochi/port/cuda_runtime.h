// What the CUDA runtime and NCCL report, for run provenance (env.txt). Built against
// /usr/local/cuda under --config=cuda; otherwise it says CUDA was not built in.
#ifndef MOCHI_PORT_CUDA_RUNTIME_H_
#define MOCHI_PORT_CUDA_RUNTIME_H_

#include <string>

namespace mochi {

// e.g. "cuda runtime 13000, 0 devices (CUDA driver version is insufficient...), nccl 22809".
std::string DescribeCudaRuntime();

}  // namespace mochi

#endif  // MOCHI_PORT_CUDA_RUNTIME_H_
