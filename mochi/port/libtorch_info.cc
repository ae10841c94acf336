#include "mochi/port/libtorch_info.h"

#include "ATen/Context.h"
#include "ATen/Version.h"

namespace mochi {

std::string BuildSetting(const std::string& show_config, const std::string& key) {
  const std::string needle = key + "=";
  size_t at = 0;
  // The key must start a setting: at the text's start or after a space or a comma.
  while ((at = show_config.find(needle, at)) != std::string::npos) {
    if (at == 0 || show_config[at - 1] == ' ' || show_config[at - 1] == ',') break;
    at += needle.size();
  }
  if (at == std::string::npos) return "unknown";
  const size_t begin = at + needle.size();
  const size_t end = show_config.find_first_of(",\n", begin);
  return show_config.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

LibTorchInfo LinkedLibTorch() {
  const std::string config = at::show_config();
  LibTorchInfo info;
  info.version = BuildSetting(config, "TORCH_VERSION");
  info.blas = BuildSetting(config, "BLAS_INFO");
  info.has_mkl = at::hasMKL();
  return info;
}

}  // namespace mochi
