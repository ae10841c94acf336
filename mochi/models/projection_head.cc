#include "mochi/models/projection_head.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "c10/util/Exception.h"

namespace mochi::models {

absl::Status ValidateProjectionHeadOptions(const ProjectionHeadOptions& options) {
  if (options.in_dim <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ProjectionHeadOptions.in_dim must be > 0, got ", options.in_dim));
  }
  if (options.hidden_dim < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ProjectionHeadOptions.hidden_dim must be >= 0 (0 = in_dim), got ", options.hidden_dim));
  }
  if (options.out_dim <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ProjectionHeadOptions.out_dim must be > 0, got ", options.out_dim));
  }
  return absl::OkStatus();
}

ProjectionHeadImpl::ProjectionHeadImpl(const ProjectionHeadOptions& options) : options_(options) {
  const absl::Status status = ValidateProjectionHeadOptions(options_);
  TORCH_CHECK_VALUE(status.ok(), std::string(status.message()));
  if (options_.hidden_dim == 0) options_.hidden_dim = options_.in_dim;

  if (options_.mlp) {
    fc0_ = register_module("0", torch::nn::Linear(options_.in_dim, options_.hidden_dim));
    relu1_ = register_module("1", torch::nn::ReLU());
    fc2_ = register_module("2", torch::nn::Linear(options_.hidden_dim, options_.out_dim));
  } else {
    // The parameters of a Linear (so its default init), registered on the head itself.
    torch::nn::Linear linear(options_.in_dim, options_.out_dim);
    weight_ = register_parameter("weight", linear->weight);
    bias_ = register_parameter("bias", linear->bias);
  }
}

torch::Tensor ProjectionHeadImpl::forward(torch::Tensor x) {
  TORCH_CHECK(x.dim() == 2 && x.size(1) == options_.in_dim,
              "ProjectionHead::forward: expected x of shape [B, ", options_.in_dim, "], got ",
              x.sizes());
  if (options_.mlp) return fc2_(relu1_(fc0_(x)));  // [B, out_dim]
  return torch::linear(x, weight_, bias_);         // [B, out_dim]
}

absl::StatusOr<ProjectionHead> MakeProjectionHead(const ProjectionHeadOptions& options) {
  const absl::Status status = ValidateProjectionHeadOptions(options);
  if (!status.ok()) return status;
  return ProjectionHead(options);
}

}  // namespace mochi::models
