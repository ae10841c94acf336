#include "mochi/models/split_batch_norm.h"

#include "ATen/ATen.h"
#include "c10/util/Exception.h"

namespace mochi::models {
namespace {

void SetGroups(torch::nn::Module& module, int64_t groups) {
  for (const auto& child : module.modules(/*include_self=*/true)) {
    if (auto* bn = child->as<SplitBatchNorm2dImpl>()) bn->set_groups(groups);
  }
}

}  // namespace

void SplitBatchNorm2dImpl::set_groups(int64_t groups) {
  TORCH_CHECK(groups >= 1, "SplitBatchNorm2d: groups = ", groups, " must be >= 1");
  groups_ = groups;
}

torch::Tensor SplitBatchNorm2dImpl::forward(const torch::Tensor& x) {
  if (groups_ == 1 || !is_training()) return torch::nn::BatchNorm2dImpl::forward(x);
  const int64_t g = groups_;
  TORCH_CHECK(x.dim() == 4 && x.size(0) % g == 0, "SplitBatchNorm2d: [B, C, H, W] with B a ",
              "multiple of groups = ", g, " expected, got ", x.sizes());
  const int64_t batch = x.size(0), channels = x.size(1);
  const bool track = options.track_running_stats();
  at::Tensor mean, var;
  if (track) {
    mean = running_mean.detach().repeat({g});
    var = running_var.detach().repeat({g});
    torch::NoGradGuard no_grad;
    num_batches_tracked += 1;
  }
  // As BatchNorm2d: without a momentum, the cumulative average.
  const double momentum = options.momentum().has_value()
                              ? *options.momentum()
                              : (track ? 1.0 / num_batches_tracked.item<double>() : 0.0);
  const bool affine = options.affine();
  // A view for contiguous NCHW input; other layouts are copied by reshape.
  const at::Tensor folded = x.reshape({batch / g, g * channels, x.size(2), x.size(3)});
  const at::Tensor out =
      at::batch_norm(folded, affine ? weight.repeat({g}) : at::Tensor(),
                     affine ? bias.repeat({g}) : at::Tensor(), mean, var, /*training=*/true,
                     momentum, options.eps(), at::globalContext().userEnabledCuDNN());
  if (track) {
    torch::NoGradGuard no_grad;
    running_mean.copy_(mean.view({g, channels}).mean(0));
    running_var.copy_(var.view({g, channels}).mean(0));
  }
  return out.reshape(x.sizes()).contiguous(x.suggest_memory_format());
}

ScopedBatchNormGroups::ScopedBatchNormGroups(torch::nn::Module& module, int64_t groups)
    : module_(module) {
  SetGroups(module_, groups);
}

ScopedBatchNormGroups::~ScopedBatchNormGroups() { SetGroups(module_, 1); }

}  // namespace mochi::models
