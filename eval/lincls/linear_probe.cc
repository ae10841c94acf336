#include "eval/lincls/linear_probe.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "ATen/ATen.h"
#include "ATen/CPUGeneratorImpl.h"
#include "ATen/core/grad_mode.h"
#include "absl/strings/str_cat.h"
#include "mochi/data/rng.h"
#include "mochi/engine/lr_schedule.h"

namespace mochi::eval {
namespace {

absl::Status CheckLabels(const at::Tensor& labels, int64_t num_classes) {
  if (labels.numel() &&
      (labels.min().item<int64_t>() < 0 || labels.max().item<int64_t>() >= num_classes)) {
    return absl::InvalidArgumentError(
        absl::StrCat("linear probe: labels must lie in [0, ", num_classes,
                     ") (does the label set match the dataset the classifier is built for?)"));
  }
  return absl::OkStatus();
}

class CachedBatches : public FeatureBatches {
 public:
  CachedBatches(at::Tensor features, at::Tensor labels, int64_t batch_size, uint64_t seed)
      : features_(features.to(at::kFloat).contiguous()),
        labels_(labels.to(at::kLong).reshape(-1)),
        batch_size_(batch_size),
        seed_(seed) {}

  absl::Status StartEpoch(int64_t epoch) override {
    at::Generator generator =
        at::make_generator<at::CPUGeneratorImpl>(data::MixSeed(seed_, epoch + 1));
    order_ = at::randperm(features_.size(0), generator, at::TensorOptions().dtype(at::kLong));
    next_ = 0;
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<FeatureBatch>> Next() override {
    if (!order_.defined()) return absl::FailedPreconditionError("StartEpoch() first");
    if (next_ >= order_.size(0)) return std::nullopt;
    const at::Tensor index = order_.slice(0, next_, std::min(order_.size(0), next_ + batch_size_));
    next_ += index.size(0);
    return FeatureBatch{features_.index_select(0, index), labels_.index_select(0, index)};
  }

 private:
  const at::Tensor features_, labels_;
  const int64_t batch_size_;
  const uint64_t seed_;
  at::Tensor order_;
  int64_t next_ = 0;
};

}  // namespace

std::unique_ptr<FeatureBatches> CachedFeatureBatches(at::Tensor features, at::Tensor labels,
                                                     int64_t batch_size, uint64_t seed) {
  return std::make_unique<CachedBatches>(std::move(features), std::move(labels), batch_size, seed);
}

absl::StatusOr<LinearProbeResult> TrainLinearProbe(FeatureBatches& train, int64_t feature_dim,
                                                   const at::Tensor& test_features,
                                                   const at::Tensor& test_labels,
                                                   int64_t num_classes,
                                                   const LinearProbeOptions& options) {
  if (test_features.dim() != 2 || test_features.size(1) != feature_dim) {
    return absl::InvalidArgumentError(absl::StrCat(
        "linear probe: test features must be [M, ", feature_dim, "], got ",
        test_features.dim() == 2
            ? absl::StrCat("[", test_features.size(0), ", ", test_features.size(1), "]")
            : absl::StrCat(test_features.dim(), " dimensions")));
  }
  if (test_labels.numel() != test_features.size(0)) {
    return absl::InvalidArgumentError("linear probe: one label per test feature row required");
  }
  if (num_classes < 2) {
    return absl::InvalidArgumentError("linear probe: needs >= 2 classes");
  }
  if (options.epochs <= 0 || options.batch_size <= 0 || options.lr <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("linear probe: epochs = ", options.epochs,
                                                   ", batch_size = ", options.batch_size,
                                                   ", lr = ", options.lr, " must be > 0"));
  }
  const at::Device device = options.device;
  const at::Tensor test_labels_cpu = test_labels.to(at::kCPU, at::kLong).reshape(-1);
  if (absl::Status s = CheckLabels(test_labels_cpu, num_classes); !s.ok()) return s;
  const at::Tensor test_y = test_labels_cpu.to(device);

  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);
  // main_lincls: fc.weight ~ N(0, 0.01), fc.bias = 0.
  at::Tensor weight = at::normal(0.0, 0.01, {num_classes, feature_dim}, generator).to(device);
  at::Tensor bias = at::zeros({num_classes}, at::device(device));
  at::Tensor weight_velocity = at::zeros_like(weight);
  at::Tensor bias_velocity = at::zeros_like(bias);
  weight.requires_grad_(true);
  bias.requires_grad_(true);

  LinearProbeResult result;
  for (int64_t epoch = 0; epoch < options.epochs; ++epoch) {
    const double lr = StepDecay(options.lr, options.milestones, options.gamma, epoch);
    if (absl::Status s = train.StartEpoch(epoch); !s.ok()) return s;
    at::Tensor loss_sum = at::zeros({}, at::device(device).dtype(at::kDouble));
    int64_t rows = 0;
    while (true) {
      absl::StatusOr<std::optional<FeatureBatch>> batch = train.Next();
      if (!batch.ok()) return batch.status();
      if (!batch->has_value()) break;
      const at::Tensor x = (*batch)->features.to(device, at::kFloat);
      const at::Tensor labels = (*batch)->labels.to(at::kLong).reshape(-1);
      if (x.dim() != 2 || x.size(1) != feature_dim || labels.numel() != x.size(0)) {
        return absl::InvalidArgumentError(absl::StrCat("linear probe: a training batch is not [b, ",
                                                       feature_dim, "] with b labels"));
      }
      // Checked before the move: the loader's labels are on the CPU, so a GPU run does not
      // wait on every batch.
      if (absl::Status s = CheckLabels(labels, num_classes); !s.ok()) return s;
      const at::Tensor y = labels.to(device);
      const at::Tensor loss = at::cross_entropy_loss(at::addmm(bias, x, weight.t()), y);
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
      loss_sum.add_(loss.detach().to(at::kDouble) * x.size(0));
      rows += x.size(0);
    }
    if (rows == 0) return absl::InvalidArgumentError("linear probe: the training set is empty");
    const double epoch_loss = loss_sum.item<double>() / rows;
    if (!std::isfinite(epoch_loss)) {
      return absl::FailedPreconditionError(absl::StrCat("linear probe diverged at epoch ", epoch,
                                                        " (loss ", epoch_loss, "); lower the lr"));
    }
    result.epoch_loss.push_back(epoch_loss);
  }
  at::NoGradGuard no_grad;
  const at::Tensor logits = at::addmm(bias, test_features.to(device, at::kFloat), weight.t());
  const int64_t k = std::min<int64_t>(5, num_classes);
  const at::Tensor top = std::get<1>(logits.topk(k, 1));
  const at::Tensor hit1 = top.select(1, 0).eq(test_y).to(at::kDouble);
  const at::Tensor hit5 = top.eq(test_y.unsqueeze(1)).any(1).to(at::kDouble);
  result.top1 = hit1.numel() ? hit1.mean().item<double>() : 0.0;
  result.top5 = hit5.numel() ? hit5.mean().item<double>() : 0.0;
  for (int64_t c = 0; c < num_classes; ++c) {
    const at::Tensor mask = test_y.eq(c);
    result.per_class_top1.push_back(
        mask.any().item<bool>() ? hit1.masked_select(mask).mean().item<double>() : -1.0);
  }
  return result;
}

absl::StatusOr<LinearProbeResult> TrainLinearProbe(const at::Tensor& train_features,
                                                   const at::Tensor& train_labels,
                                                   const at::Tensor& test_features,
                                                   const at::Tensor& test_labels,
                                                   int64_t num_classes,
                                                   const LinearProbeOptions& options) {
  if (train_features.dim() != 2 || train_features.size(0) == 0) {
    return absl::InvalidArgumentError("linear probe: train features must be a non-empty [N, D]");
  }
  if (train_labels.numel() != train_features.size(0)) {
    return absl::InvalidArgumentError("linear probe: one label per train feature row required");
  }
  if (options.batch_size <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("linear probe: batch_size = ", options.batch_size, " must be > 0"));
  }
  std::unique_ptr<FeatureBatches> batches =
      CachedFeatureBatches(train_features, train_labels, options.batch_size, options.seed);
  return TrainLinearProbe(*batches, train_features.size(1), test_features, test_labels, num_classes,
                          options);
}

}  // namespace mochi::eval
