// Projection heads of MoCo (He et al. 2020) and MoCo-v2 (Chen et al. 2020, arXiv 2003.04297).
//
// moco's builder replaces the encoder's `fc` by the head, so its state-dict keys are
//   MoCo-v2 (mlp = true):  fc.0.weight, fc.0.bias, fc.2.weight, fc.2.bias
//                          (Sequential(Linear(in, hidden), ReLU, Linear(hidden, out)))
//   MoCo v1 (mlp = false): fc.weight, fc.bias (a single Linear(in, out))
// ProjectionHead registers exactly these names under itself ("0", "1", "2" children, or the
// "weight" / "bias" parameters), so registering it as "fc" reproduces moco's keys.
//
// Example:
//   ProjectionHeadOptions options;
//   options.in_dim = backbone->feature_dim();  // e.g. 2048
//   MOCHI_ASSIGN_OR_RETURN(ProjectionHead head, MakeProjectionHead(options));
//   torch::Tensor z = head(features);  // [B, 128], not normalised
#ifndef MOCHI_MODELS_PROJECTION_HEAD_H_
#define MOCHI_MODELS_PROJECTION_HEAD_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "torch/nn/module.h"
#include "torch/nn/modules/activation.h"
#include "torch/nn/modules/linear.h"
#include "torch/nn/pimpl.h"

namespace mochi::models {

// ProjectionHeadOptions: dimensions and variant.
struct ProjectionHeadOptions {
  int64_t in_dim = 0;      // backbone feature_dim(); must be set (> 0)
  int64_t hidden_dim = 0;  // 0 = in_dim, as MoCo-v2 (mlp only)
  int64_t out_dim = 128;   // moco's `dim`
  bool mlp = true;         // false: MoCo v1 linear head
};

// ValidateProjectionHeadOptions: InvalidArgument naming the field and its value.
absl::Status ValidateProjectionHeadOptions(const ProjectionHeadOptions& options);

// ProjectionHeadImpl: Linear-ReLU-Linear (mlp) or Linear. Construct through MakeProjectionHead()
// to get a Status instead of a c10::ValueError for bad options.
class ProjectionHeadImpl : public torch::nn::Module {
 public:
  explicit ProjectionHeadImpl(const ProjectionHeadOptions& options);

  // x: [B, in_dim] -> [B, out_dim] (not L2-normalised; the contrastive loss normalises).
  torch::Tensor forward(torch::Tensor x);

  // The effective options (hidden_dim resolved to in_dim when it was 0).
  const ProjectionHeadOptions& options() const { return options_; }

 private:
  ProjectionHeadOptions options_;
  // mlp: children "0", "1", "2".
  torch::nn::Linear fc0_{nullptr};
  torch::nn::ReLU relu1_{nullptr};
  torch::nn::Linear fc2_{nullptr};
  // linear: parameters "weight" [out_dim, in_dim] and "bias" [out_dim].
  torch::Tensor weight_;
  torch::Tensor bias_;
};

TORCH_MODULE(ProjectionHead);

// MakeProjectionHead: validates `options` and builds the head.
//
// Example (MoCo v1 linear head):
//   ProjectionHeadOptions options;
//   options.in_dim = 512;
//   options.mlp = false;
//   absl::StatusOr<ProjectionHead> v1 = MakeProjectionHead(options);
absl::StatusOr<ProjectionHead> MakeProjectionHead(const ProjectionHeadOptions& options);

}  // namespace mochi::models

#endif  // MOCHI_MODELS_PROJECTION_HEAD_H_
