#include "tests/testing/tensor_dict.h"

#include <fstream>
#include <iterator>
#include <vector>

#include "absl/strings/str_cat.h"
#include "torch/csrc/jit/serialization/pickle.h"

namespace mochi::testing {

absl::StatusOr<TensorDict> ReadTensorDict(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  const std::vector<char> bytes((std::istreambuf_iterator<char>(file)),
                                std::istreambuf_iterator<char>());
  c10::IValue value;
  try {
    value = torch::jit::pickle_load(bytes);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what()));
  }
  if (!value.isGenericDict()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a dict"));
  }
  TensorDict tensors;
  for (const auto& entry : value.toGenericDict()) {
    if (!entry.key().isString() || !entry.value().isTensor()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": not a dict of str -> tensor"));
    }
    tensors[entry.key().toStringRef()] = entry.value().toTensor();
  }
  return tensors;
}

absl::Status WriteTensorDict(const std::string& path, const TensorDict& tensors) {
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& [name, tensor] : tensors) dict.insert(name, tensor);
  const std::vector<char> bytes = torch::jit::pickle_save(c10::IValue(dict));
  std::ofstream file(path, std::ios::binary);
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!file) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

absl::StatusOr<std::set<std::string>> CasePrefixes(const TensorDict& tensors) {
  std::set<std::string> prefixes;
  for (const auto& [name, tensor] : tensors) {
    const size_t op_end = name.find('/');
    const size_t case_end = op_end == std::string::npos ? op_end : name.find('/', op_end + 1);
    if (case_end == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("bad key ", name, " (want op/case/field)"));
    }
    prefixes.insert(name.substr(0, case_end + 1));
  }
  return prefixes;
}

}  // namespace mochi::testing
