#include "eval/detection/detection_objective.h"

#include <cmath>
#include <utility>

#include "ATen/ATen.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "eval/detection/detection_input.h"
#include "mochi/data/rng.h"
#include "mochi/port/status_macros.h"
#include "mochi/port/torch_status.h"
#include "torch/optim/sgd.h"

namespace mochi::eval::detection {

DetectionBatches::DetectionBatches(int64_t num_images, int64_t images_per_step, int64_t steps,
                                   uint64_t seed)
    : num_images_(num_images), images_per_step_(images_per_step), steps_(steps), seed_(seed) {}

absl::Status DetectionBatches::StartEpoch(int64_t epoch) {
  if (epoch != 0) {
    return absl::InvalidArgumentError("detection training is one epoch of max_iter steps");
  }
  if (num_images_ <= 0 || images_per_step_ <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no training images (", num_images_, ") or images per step (", images_per_step_, ")"));
  }
  step_ = 0;
  return absl::OkStatus();
}

absl::StatusOr<std::optional<data::Batch>> DetectionBatches::Next() {
  if (step_ == steps_) return std::nullopt;
  data::Batch batch;
  batch.step_in_epoch = step_;
  batch.indices = at::empty({images_per_step_}, at::kLong);
  int64_t* indices = batch.indices.data_ptr<int64_t>();
  for (int64_t b = 0; b < images_per_step_; ++b) {
    // Image slot k of the run is image k mod n of pass k / n.
    const int64_t slot = step_ * images_per_step_ + b;
    const int64_t pass = slot / num_images_;
    if (pass != order_pass_) {
      order_ = data::Permutation(num_images_, data::MixSeed(seed_, static_cast<uint64_t>(pass)));
      order_pass_ = pass;
    }
    indices[b] = order_[slot % num_images_];
  }
  ++step_;
  return batch;
}

DetectionObjective::DetectionObjective(FasterRcnn model, torch::optim::Optimizer& optimizer,
                                       const std::vector<DetectionRecord>& records,
                                       const proto::DetectionConfig& config,
                                       at::Generator generator)
    : model_(std::move(model)),
      optimizer_(optimizer),
      records_(records),
      config_(config),
      generator_(std::move(generator)) {}

void DetectionObjective::BeginEpoch(const TrainerState&) {
  loss_sum_ = 0;
  steps_ = 0;
  model_->train();
}

absl::Status DetectionObjective::Step(const data::Batch& batch) {
  const int64_t images_per_step = batch.indices.size(0);
  const uint64_t seed = static_cast<uint64_t>(config_.run().seed());
  std::vector<at::Tensor> images;
  std::vector<ImageTargets> targets;
  for (int64_t b = 0; b < images_per_step; ++b) {
    const DetectionRecord& record = records_.at(batch.indices[b].item<int64_t>());
    // One epoch: the step in the epoch is the run's step.
    data::Rng rng(data::MixSeed(seed + 1, batch.step_in_epoch * images_per_step + b));
    const int min_size =
        config_.min_size_train(static_cast<int>(rng.UniformInt(config_.min_size_train_size())));
    const bool flip = rng.Bernoulli(config_.flip_prob());
    MOCHI_ASSIGN_OR_RETURN(DetectionInput input,
                           LoadDetectionInput(record, config_.backbone().in_channels(), min_size,
                                              config_.max_size(), flip));
    images.push_back(input.image);
    targets.push_back(std::move(input.targets));
  }
  MOCHI_ASSIGN_OR_RETURN(RcnnLosses losses, model_->Losses(images, targets, generator_));
  const double lr =
      static_cast<torch::optim::SGDOptions&>(optimizer_.param_groups().at(0).options()).lr();
  double total = 0;
  MOCHI_RETURN_IF_ERROR(TorchToStatus("training step", [&] {
    const at::Tensor loss = losses.Total();
    total = loss.item<double>();
    if (!std::isfinite(total)) return;
    optimizer_.zero_grad();
    loss.backward();
    optimizer_.step();
  }));
  if (!std::isfinite(total)) {
    return absl::InternalError(absl::StrCat("the loss is ", total, " at iteration ",
                                            batch.step_in_epoch, " (lr ", lr,
                                            "): training diverged"));
  }
  loss_sum_ += total;
  ++steps_;
  // The loss terms stay tensors until read (last(), Progress()): no device sync per step.
  last_losses_ = {losses.rpn_cls.detach(), losses.rpn_loc.detach(), losses.cls.detach(),
                  losses.box_reg.detach(),
                  losses.mask.defined() ? losses.mask.detach() : at::Tensor()};
  last_iter_ = batch.step_in_epoch + 1;
  last_total_ = total;
  last_lr_ = lr;
  return absl::OkStatus();
}

proto::TransferIteration DetectionObjective::last() const {
  proto::TransferIteration last;
  if (steps_ == 0) return last;
  last.set_iter(static_cast<int32_t>(last_iter_));
  last.set_total_loss(last_total_);
  last.set_loss_rpn_cls(last_losses_.rpn_cls.item<double>());
  last.set_loss_rpn_loc(last_losses_.rpn_loc.item<double>());
  last.set_loss_cls(last_losses_.cls.item<double>());
  last.set_loss_box_reg(last_losses_.box_reg.item<double>());
  if (last_losses_.mask.defined()) last.set_loss_mask(last_losses_.mask.item<double>());
  last.set_lr(last_lr_);
  return last;
}

EpochMetrics DetectionObjective::Summary() const {
  EpochMetrics metrics;
  metrics.objective = "detection";
  metrics.loss = steps_ > 0 ? loss_sum_ / steps_ : std::nan("");
  return metrics;
}

std::string DetectionObjective::Progress() const {
  const proto::TransferIteration step = last();
  std::string text = absl::StrFormat("(last: %.4f = rpn_cls %.4f rpn_loc %.4f cls %.4f box %.4f",
                                     step.total_loss(), step.loss_rpn_cls(), step.loss_rpn_loc(),
                                     step.loss_cls(), step.loss_box_reg());
  if (step.has_loss_mask()) absl::StrAppendFormat(&text, " mask %.4f", step.loss_mask());
  return text + ")";
}

}  // namespace mochi::eval::detection
