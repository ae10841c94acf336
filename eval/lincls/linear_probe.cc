#include "eval/lincls/linear_probe.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "ATen/ATen.h"
#include "ATen/CPUGeneratorImpl.h"
#include "ATen/core/grad_mode.h"
#include "absl/strings/str_cat.h"
#include "mochi/data/rng.h"
#include "mochi/engine/hooks.h"
#include "mochi/engine/lr_schedule.h"
#include "mochi/engine/trainer.h"

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

class CachedBatches : public BatchSource {
 public:
  CachedBatches(at::Tensor features, at::Tensor labels, int64_t batch_size, uint64_t seed)
      : features_(features.to(at::kFloat).contiguous()),
        labels_(labels.to(at::kLong).reshape(-1)),
        batch_size_(batch_size),
        seed_(seed) {}

  // The epoch's order is the project RNG's permutation (as the data loader's shuffle).
  absl::Status StartEpoch(int64_t epoch) override {
    const std::vector<int64_t> order = data::Permutation(
        features_.size(0), data::MixSeed(seed_, static_cast<uint64_t>(epoch) + 1));
    order_ = at::tensor(order, at::kLong);
    next_ = 0;
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<data::Batch>> Next() override {
    if (!order_.defined()) return absl::FailedPreconditionError("StartEpoch() first");
    if (next_ >= order_.size(0)) return std::nullopt;
    const at::Tensor index = order_.slice(0, next_, std::min(order_.size(0), next_ + batch_size_));
    next_ += index.size(0);
    data::Batch batch;
    batch.views.push_back(features_.index_select(0, index));
    batch.labels = labels_.index_select(0, index);
    return batch;
  }

 private:
  const at::Tensor features_, labels_;
  const int64_t batch_size_;
  const uint64_t seed_;
  at::Tensor order_;
  int64_t next_ = 0;
};

// The fully connected layer and its SGD with momentum and (coupled) weight decay, as
// torch.optim.SGD, at the epoch's state.lr. The loss is summed on the device: one sync per epoch.
class LinearProbeObjective : public Objective {
 public:
  LinearProbeObjective(int64_t feature_dim, int64_t num_classes, const LinearProbeOptions& options)
      : feature_dim_(feature_dim), num_classes_(num_classes), options_(options) {
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);
    // main_lincls: fc.weight ~ N(0, 0.01), fc.bias = 0.
    weight_ = at::normal(0.0, 0.01, {num_classes, feature_dim}, generator).to(options.device);
    bias_ = at::zeros({num_classes}, at::device(options.device));
    weight_velocity_ = at::zeros_like(weight_);
    bias_velocity_ = at::zeros_like(bias_);
    weight_.requires_grad_(true);
    bias_.requires_grad_(true);
  }

  void BeginEpoch(const TrainerState& state) override {
    lr_ = state.lr;
    loss_sum_ = at::zeros({}, at::device(options_.device).dtype(at::kDouble));
    rows_ = 0;
  }

  absl::Status Step(const data::Batch& batch) override {
    const at::Device device = options_.device;
    const at::Tensor x = batch.views[0].to(device, at::kFloat);
    const at::Tensor labels = batch.labels.to(at::kLong).reshape(-1);
    if (x.dim() != 2 || x.size(1) != feature_dim_ || labels.numel() != x.size(0)) {
      return absl::InvalidArgumentError(absl::StrCat("linear probe: a training batch is not [b, ",
                                                     feature_dim_, "] with b labels"));
    }
    // Checked before the move: the loader's labels are on the CPU, so a GPU run does not
    // wait on every batch.
    if (absl::Status s = CheckLabels(labels, num_classes_); !s.ok()) return s;
    const at::Tensor y = labels.to(device);
    const at::Tensor loss = at::cross_entropy_loss(at::addmm(bias_, x, weight_.t()), y);
    weight_.mutable_grad() = at::Tensor();
    bias_.mutable_grad() = at::Tensor();
    loss.backward();
    {
      at::NoGradGuard no_grad;
      at::Tensor gw = weight_.grad() + options_.weight_decay * weight_;
      weight_velocity_.mul_(options_.momentum).add_(gw);
      bias_velocity_.mul_(options_.momentum).add_(bias_.grad());
      weight_.sub_(lr_ * weight_velocity_);
      bias_.sub_(lr_ * bias_velocity_);
    }
    loss_sum_.add_(loss.detach().to(at::kDouble) * x.size(0));
    rows_ += x.size(0);
    return absl::OkStatus();
  }

  // The epoch's mean loss (NaN for an epoch without rows).
  EpochMetrics Summary() const override {
    EpochMetrics m;
    m.objective = "linear_probe";
    m.loss = rows_ ? loss_sum_.item<double>() / rows_ : std::nan("");
    return m;
  }

  int64_t rows() const { return rows_; }
  const at::Tensor& weight() const { return weight_; }
  const at::Tensor& bias() const { return bias_; }

 private:
  const int64_t feature_dim_, num_classes_;
  const LinearProbeOptions options_;
  at::Tensor weight_, bias_, weight_velocity_, bias_velocity_, loss_sum_;
  double lr_ = 0;
  int64_t rows_ = 0;
};

// After each epoch: its mean loss into `epoch_loss`; an error for an empty training set or a
// non-finite loss.
class ProbeEpochCheck : public HookBase {
 public:
  ProbeEpochCheck(const LinearProbeObjective& objective, std::vector<double>& epoch_loss)
      : objective_(objective), epoch_loss_(epoch_loss) {}
  absl::Status AfterEpoch(TrainerState& state, const EpochMetrics& metrics) override {
    if (objective_.rows() == 0) {
      return absl::InvalidArgumentError("linear probe: the training set is empty");
    }
    if (!std::isfinite(metrics.loss)) {
      return absl::FailedPreconditionError(absl::StrCat("linear probe diverged at epoch ",
                                                        state.epoch, " (loss ", metrics.loss,
                                                        "); lower the lr"));
    }
    epoch_loss_.push_back(metrics.loss);
    return absl::OkStatus();
  }

 private:
  const LinearProbeObjective& objective_;
  std::vector<double>& epoch_loss_;
};

}  // namespace

std::unique_ptr<BatchSource> CachedFeatureBatches(at::Tensor features, at::Tensor labels,
                                                  int64_t batch_size, uint64_t seed) {
  return std::make_unique<CachedBatches>(std::move(features), std::move(labels), batch_size, seed);
}

absl::StatusOr<LinearProbeResult> TrainLinearProbe(BatchSource& train, int64_t feature_dim,
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

  LinearProbeObjective objective(feature_dim, num_classes, options);
  LinearProbeResult result;
  std::vector<std::unique_ptr<HookBase>> hooks;
  hooks.push_back(std::make_unique<LrScheduleHook>(
      [&options](int64_t epoch) {
        return StepDecay(options.lr, options.milestones, options.gamma, epoch);
      },
      /*optimizer=*/nullptr));
  hooks.push_back(std::make_unique<ProbeEpochCheck>(objective, result.epoch_loss));
  TrainerState state;
  state.epochs = options.epochs;
  if (absl::Status s = Train(train, objective, hooks, state); !s.ok()) return s;
  const at::Tensor& weight = objective.weight();
  const at::Tensor& bias = objective.bias();
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
  std::unique_ptr<BatchSource> batches =
      CachedFeatureBatches(train_features, train_labels, options.batch_size, options.seed);
  return TrainLinearProbe(*batches, train_features.size(1), test_features, test_labels, num_classes,
                          options);
}

}  // namespace mochi::eval
