// Named tensors exchanged with the reference Python tests: a {name: tensor} dict in torch.save's
// format (torch::jit::pickle_save / pickle_load), so Python reads and writes it with torch.save and
// torch.load.
//
// Example (a runner that computes what the Python script compares):
//   MOCHI_ASSIGN_OR_RETURN(TensorDict in, ReadTensorDict(argv[1]));
//   TensorDict out = {{"iou", *PairwiseIou(in.at("a"), in.at("b"))}};
//   MOCHI_RETURN_IF_ERROR(WriteTensorDict(argv[2], out));
#ifndef TESTS_TESTING_TENSOR_DICT_H_
#define TESTS_TESTING_TENSOR_DICT_H_

#include <map>
#include <set>
#include <string>

#include "ATen/core/Tensor.h"
#include "absl/status/statusor.h"

namespace mochi::testing {

using TensorDict = std::map<std::string, at::Tensor>;

// InvalidArgument unless the file holds a dict of str -> tensor.
absl::StatusOr<TensorDict> ReadTensorDict(const std::string& path);
absl::Status WriteTensorDict(const std::string& path, const TensorDict& tensors);

// The runners' cases: keys are "<op>/<case>/<field>"; returns every "<op>/<case>/" once, in
// order. InvalidArgument for a key without both parts.
absl::StatusOr<std::set<std::string>> CasePrefixes(const TensorDict& tensors);

}  // namespace mochi::testing

#endif  // TESTS_TESTING_TENSOR_DICT_H_
