// Fine-tuning a detector on the trainer's loop (mochi/engine/trainer.h), as detectron2's
// iteration-based training: one epoch of max_iter steps, ims_per_batch images per step.
//   DetectionBatches: which training images each step takes. Pass p over the images visits them
//     in Permutation(n, MixSeed(seed, p)); passes follow each other across steps.
//   DetectionObjective: the step. Image slot i of the run (step * ims_per_batch + b) draws its
//     shorter side and flip from Rng(MixSeed(seed + 1, i)); then the R-CNN losses, backward and
//     SGD. All draws use the project's counter-based RNG (mochi/data/rng.h), the same on every
//     standard library, so a run (and a resumed one) is reproducible.
//
// Example:
//   DetectionBatches batches(records.size(), config.ims_per_batch(), config.max_iter(), seed);
//   DetectionObjective objective(model, optimizer, records, config, generator);
//   TrainerState state;
//   state.epochs = 1;
//   state.steps_per_epoch = config.max_iter();
//   MOCHI_RETURN_IF_ERROR(Train(batches, objective, hooks, state));
#ifndef EVAL_DETECTION_DETECTION_OBJECTIVE_H_
#define EVAL_DETECTION_DETECTION_OBJECTIVE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ATen/core/Generator.h"
#include "eval/detection/detection_record.h"
#include "eval/detection/faster_rcnn.h"
#include "mochi/engine/trainer.h"
#include "mochi/proto/detection.pb.h"
#include "mochi/proto/results.pb.h"
#include "torch/optim/optimizer.h"

namespace mochi::eval::detection {

// Steps of `images_per_step` training-image indices in [0, num_images); data::Batch::indices
// holds them (views and labels stay empty).
class DetectionBatches : public BatchSource {
 public:
  DetectionBatches(int64_t num_images, int64_t images_per_step, int64_t steps, uint64_t seed);
  absl::Status StartEpoch(int64_t epoch) override;
  absl::StatusOr<std::optional<data::Batch>> Next() override;

 private:
  const int64_t num_images_, images_per_step_, steps_;
  const uint64_t seed_;
  int64_t step_ = 0;
  std::vector<int64_t> order_;  // the image order of pass order_pass_
  int64_t order_pass_ = -1;
};

class DetectionObjective : public Objective {
 public:
  // `records` (the training images) and `optimizer` must outlive the objective; `generator`
  // draws the anchor and region samples.
  DetectionObjective(FasterRcnn model, torch::optim::Optimizer& optimizer,
                     const std::vector<DetectionRecord>& records,
                     const proto::DetectionConfig& config, at::Generator generator);

  void BeginEpoch(const TrainerState& state) override;
  // Internal when the loss is not finite (training diverged).
  absl::Status Step(const data::Batch& batch) override;
  EpochMetrics Summary() const override;
  // The last step's loss terms.
  std::string Progress() const override;

  // The last step: its iteration (1-based), losses and learning rate (empty before a step).
  proto::TransferIteration last() const;

 private:
  FasterRcnn model_;
  torch::optim::Optimizer& optimizer_;
  const std::vector<DetectionRecord>& records_;
  const proto::DetectionConfig config_;
  at::Generator generator_;
  double loss_sum_ = 0;
  int64_t steps_ = 0;
  RcnnLosses last_losses_;
  int64_t last_iter_ = 0;
  double last_total_ = 0, last_lr_ = 0;
};

}  // namespace mochi::eval::detection

#endif  // EVAL_DETECTION_DETECTION_OBJECTIVE_H_
