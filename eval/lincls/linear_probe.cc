#include "eval/lincls/linear_probe.h"

#include <algorithm>
#include <cmath>

#include "ATen/ATen.h"
#include "ATen/CPUGeneratorImpl.h"
#include "absl/strings/str_cat.h"

namespace mochi::eval {

absl::StatusOr<LinearProbeResult> TrainLinearProbe(const at::Tensor& train_features,
                                                   const at::Tensor& train_labels,
                                                   const at::Tensor& test_features,
                                                   const at::Tensor& test_labels,
                                                   int64_t num_classes,
                                                   const LinearProbeOptions& options) {
  if (train_features.dim() != 2 || test_features.dim() != 2 ||
      train_features.size(1) != test_features.size(1)) {
    return absl::InvalidArgumentError("linear probe: features must be [N, D] and [M, D] with the same D");
  }
  if (train_labels.numel() != train_features.size(0) || test_labels.numel() != test_features.size(0)) {
    return absl::InvalidArgumentError("linear probe: one label per feature row required");
  }
  if (train_features.size(0) == 0 || num_classes < 2) {
    return absl::InvalidArgumentError("linear probe: needs a non-empty train set and >= 2 classes");
  }
  if (options.epochs <= 0 || options.batch_size <= 0 || options.lr <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("linear probe: epochs = ", options.epochs,
                                                   ", batch_size = ", options.batch_size,
                                                   ", lr = ", options.lr, " must be > 0"));
  }
  const at::Tensor x = train_features.to(at::kFloat).contiguous();
  const at::Tensor y = train_labels.to(at::kLong).reshape(-1);
  const at::Tensor test_y = test_labels.to(at::kLong).reshape(-1);
  for (const at::Tensor* labels : {&y, &test_y}) {
    if (labels->numel() &&
        (labels->min().item<int64_t>() < 0 || labels->max().item<int64_t>() >= num_classes)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "linear probe: labels must lie in [0, ", num_classes,
          ") (does the label set match the dataset the classifier is built for?)"));
    }
  }
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);
  // main_lincls: fc.weight ~ N(0, 0.01), fc.bias = 0.
  at::Tensor weight = at::normal(0.0, 0.01, {num_classes, x.size(1)}, generator);
  at::Tensor bias = at::zeros({num_classes});
  at::Tensor weight_velocity = at::zeros_like(weight);
  at::Tensor bias_velocity = at::zeros_like(bias);
  weight.requires_grad_(true);
  bias.requires_grad_(true);

  LinearProbeResult result;
  const int64_t n = x.size(0);
  for (int64_t epoch = 0; epoch < options.epochs; ++epoch) {
    double lr = options.lr;
    for (int64_t m : options.milestones) {
      if (epoch >= m) lr *= options.gamma;
    }
    const at::Tensor order = at::randperm(n, generator, at::TensorOptions().dtype(at::kLong));
    double loss_sum = 0;
    for (int64_t start = 0; start < n; start += options.batch_size) {
      const at::Tensor index = order.slice(0, start, std::min(n, start + options.batch_size));
      const at::Tensor loss =
          at::cross_entropy_loss(at::addmm(bias, x.index_select(0, index), weight.t()),
                                 y.index_select(0, index));
      weight.mutable_grad() = at::Tensor();
      bias.mutable_grad() = at::Tensor();
      loss.backward();
      {
        // SGD with momentum and (coupled) weight decay, as torch.optim.SGD.
        at::NoGradGuard no_grad;
        at::Tensor gw = weight.grad() + options.weight_decay * weight;
        weight_velocity.mul_(options.momentum).add_(gw);
        bias_velocity.mul_(options.momentum).add_(bias.grad());
        weight.sub_(lr * weight_velocity);
        bias.sub_(lr * bias_velocity);
      }
      loss_sum += loss.item<double>() * index.size(0);
    }
    const double epoch_loss = loss_sum / n;
    if (!std::isfinite(epoch_loss)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "linear probe diverged at epoch ", epoch, " (loss ", epoch_loss, "); lower the lr"));
    }
    result.epoch_loss.push_back(epoch_loss);
  }
  at::NoGradGuard no_grad;
  const at::Tensor logits = at::addmm(bias, test_features.to(at::kFloat), weight.t());
  const int64_t k = std::min<int64_t>(5, num_classes);
  const at::Tensor top = std::get<1>(logits.topk(k, 1));
  const at::Tensor hit1 = top.select(1, 0).eq(test_y).to(at::kDouble);
  const at::Tensor hit5 = top.eq(test_y.unsqueeze(1)).any(1).to(at::kDouble);
  result.top1 = hit1.numel() ? hit1.mean().item<double>() : 0.0;
  result.top5 = hit5.numel() ? hit5.mean().item<double>() : 0.0;
  for (int64_t c = 0; c < num_classes; ++c) {
    const at::Tensor mask = test_y.eq(c);
    result.per_class_top1.push_back(mask.any().item<bool>() ? hit1.masked_select(mask).mean().item<double>()
                                                            : -1.0);
  }
  return result;
}

}  // namespace mochi::eval
