// The LibTorch this process actually loaded, read from the library at run time (at::show_config),
// not from the headers it was compiled against: provenance must name what computed the numbers.
#ifndef MOCHI_PORT_LIBTORCH_INFO_H_
#define MOCHI_PORT_LIBTORCH_INFO_H_

#include <string>

namespace mochi {

struct LibTorchInfo {
  std::string version;  // e.g. "2.11.0" (TORCH_VERSION of the build settings)
  std::string blas;     // e.g. "mkl" (BLAS_INFO)
  bool has_mkl = false;
};

LibTorchInfo LinkedLibTorch();

// The value of `key` in a show_config() text ("..., KEY=value, ..."); "unknown" if absent.
std::string BuildSetting(const std::string& show_config, const std::string& key);

}  // namespace mochi

#endif  // MOCHI_PORT_LIBTORCH_INFO_H_
