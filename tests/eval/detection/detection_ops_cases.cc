// Runs //eval/detection's ops on the inputs torchvision_reference_test.py wrote, for its
// comparison with torchvision. Cases are keys "<op>/<case>/<field>" of a tensor dict
// (tests/testing:tensor_dict):
//   roi_align/C/{features, rois, grad_output, options = [out_h, out_w, scale, sampling, aligned]}
//     -> roi_align/C/{output, grad_features}
//   nms/C/{boxes, scores, threshold} -> nms/C/keep
//   batched_nms/C/{boxes, scores, categories, threshold} -> batched_nms/C/keep
//   box_iou/C/{boxes1, boxes2} -> box_iou/C/iou
//   usage: detection_ops_cases IN.pt OUT.pt
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "ATen/ATen.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "eval/detection/boxes.h"
#include "eval/detection/nms.h"
#include "eval/detection/roi_align.h"
#include "mochi/port/status_macros.h"
#include "tests/testing/tensor_dict.h"
#include "torch/autograd.h"

namespace mochi::eval::detection {
namespace {

using ::mochi::testing::TensorDict;

absl::Status RunRoiAlign(const std::string& prefix, const TensorDict& in, TensorDict& out) {
  const at::Tensor options_tensor = in.at(prefix + "options");
  RoiAlignOptions options;
  options.output_height = options_tensor[0].item<int64_t>();
  options.output_width = options_tensor[1].item<int64_t>();
  options.spatial_scale = options_tensor[2].item<double>();
  options.sampling_ratio = options_tensor[3].item<int64_t>();
  options.aligned = options_tensor[4].item<double>() != 0;
  const at::Tensor features = in.at(prefix + "features").clone().set_requires_grad(true);
  MOCHI_ASSIGN_OR_RETURN(const at::Tensor output,
                         RoiAlign(features, in.at(prefix + "rois"), options));
  const at::Tensor grad =
      torch::autograd::grad({output}, {features}, {in.at(prefix + "grad_output")})[0];
  out[prefix + "output"] = output.detach();
  out[prefix + "grad_features"] = grad;
  return absl::OkStatus();
}

absl::Status RunCase(const std::string& op, const std::string& prefix, const TensorDict& in,
                     TensorDict& out) {
  if (op == "roi_align") return RunRoiAlign(prefix, in, out);
  if (op == "nms") {
    MOCHI_ASSIGN_OR_RETURN(out[prefix + "keep"],
                           Nms(in.at(prefix + "boxes"), in.at(prefix + "scores"),
                               in.at(prefix + "threshold").item<double>()));
    return absl::OkStatus();
  }
  if (op == "batched_nms") {
    MOCHI_ASSIGN_OR_RETURN(
        out[prefix + "keep"],
        BatchedNms(in.at(prefix + "boxes"), in.at(prefix + "scores"), in.at(prefix + "categories"),
                   in.at(prefix + "threshold").item<double>()));
    return absl::OkStatus();
  }
  if (op == "box_iou") {
    MOCHI_ASSIGN_OR_RETURN(out[prefix + "iou"],
                           PairwiseIou(in.at(prefix + "boxes1"), in.at(prefix + "boxes2")));
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown op ", op));
}

absl::Status Run(const std::string& in_path, const std::string& out_path) {
  MOCHI_ASSIGN_OR_RETURN(const TensorDict in, testing::ReadTensorDict(in_path));
  MOCHI_ASSIGN_OR_RETURN(const std::set<std::string> prefixes, testing::CasePrefixes(in));
  TensorDict out;
  for (const std::string& prefix : prefixes) {
    const absl::Status status = RunCase(prefix.substr(0, prefix.find('/')), prefix, in, out);
    if (!status.ok()) {
      return absl::Status(status.code(), absl::StrCat(prefix, ": ", status.message()));
    }
  }
  return testing::WriteTensorDict(out_path, out);
}

}  // namespace
}  // namespace mochi::eval::detection

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: detection_ops_cases IN.pt OUT.pt\n");
    return EXIT_FAILURE;
  }
  const absl::Status status = mochi::eval::detection::Run(argv[1], argv[2]);
  if (!status.ok()) {
    std::fprintf(stderr, "detection_ops_cases: %s\n", status.ToString().c_str());
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
