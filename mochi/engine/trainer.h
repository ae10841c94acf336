// The training loop, shared by every objective: epochs of batches, one Objective::Step per
// batch, and hooks around it (Detectron2's TrainerBase / HookBase). Everything that is not the
// step itself (learning-rate schedule, progress and ETA, metrics, checkpoints, stop signals,
// evaluation monitors) is a hook, so a run is configured by the hooks it is given.
#ifndef MOCHI_ENGINE_TRAINER_H_
#define MOCHI_ENGINE_TRAINER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mochi/data/loader.h"
#include "mochi/engine/checkpoint.h"
#include "mochi/proto/results.pb.h"

namespace mochi {

// What the loop and its hooks share. `position` is what a checkpoint records.
struct TrainerState {
  int64_t epochs = 0;
  int64_t steps_per_epoch = 0;
  TrainPosition position;
  int64_t epoch = 0;         // the epoch running (AfterEpoch: the one just finished)
  double lr = 0;             // set by the schedule hook before each epoch (or step)
  double epoch_seconds = 0;  // AfterEpoch: wall time of the epoch's steps
  // A hook sets this to end the run after the current step: OK when a budget is reached, an
  // error (e.g. Cancelled for a signal) otherwise. The loop then calls OnStop and returns it.
  std::optional<absl::Status> stop;
};

// The epoch's aggregate of what the steps measured.
struct EpochMetrics {
  std::string objective;           // "moco", "supervised", "linear_probe"
  double loss = 0;                 // mean over the epoch's samples
  double proxy_accuracy = 0;       // MoCo: the positive ranks first; supervised: train top-1
  double proxy_accuracy_real = 0;  // the same without synthetic negatives
  bool mixing = false;             // whether MoCHi's synthetic negatives were on
  // The objective's further statistics (MoCo: the paper's), merged into its metrics.jsonl line.
  proto::PretrainEpoch statistics;
};

// What is trained: the step on one batch and the epoch's sums.
class Objective {
 public:
  virtual ~Objective() = default;
  // Resets the epoch's sums; an objective may switch behaviour per epoch (MoCHi's start epoch)
  // and read the epoch's state.lr (set by the schedule hook before this call).
  virtual void BeginEpoch(const TrainerState& state) = 0;
  // Forward, backward, gradient averaging across processes and the optimizer step.
  virtual absl::Status Step(const data::Batch& batch) = 0;
  // The epoch so far (after its last step: the whole epoch).
  virtual EpochMetrics Summary() const = 0;
  // Further text for the progress line, e.g. the detector's loss terms of the last step.
  virtual std::string Progress() const { return ""; }
};

class HookBase {
 public:
  virtual ~HookBase() = default;
  virtual absl::Status BeforeTrain(TrainerState&) { return absl::OkStatus(); }
  virtual absl::Status BeforeEpoch(TrainerState&) { return absl::OkStatus(); }
  // `state.position` points at the step about to run.
  virtual absl::Status BeforeStep(TrainerState&) { return absl::OkStatus(); }
  virtual absl::Status AfterStep(TrainerState&) { return absl::OkStatus(); }
  // `state.position` already points at the next epoch.
  virtual absl::Status AfterEpoch(TrainerState&, const EpochMetrics&) { return absl::OkStatus(); }
  // The run ends early (state.stop is set): e.g. write a checkpoint to resume from.
  virtual absl::Status OnStop(TrainerState&) { return absl::OkStatus(); }
  // Every epoch has run.
  virtual absl::Status AfterTrain(TrainerState&) { return absl::OkStatus(); }
};

// Batches one epoch at a time: a data::DataLoader (LoaderBatches), or an evaluator's own source
// (the linear probe's cached features, the detector's image lists).
class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual absl::Status StartEpoch(int64_t epoch) = 0;
  // The next batch of the epoch, or nullopt at its end.
  virtual absl::StatusOr<std::optional<data::Batch>> Next() = 0;
};

class LoaderBatches : public BatchSource {
 public:
  explicit LoaderBatches(data::DataLoader& loader) : loader_(loader) {}
  absl::Status StartEpoch(int64_t epoch) override { return loader_.StartEpoch(epoch); }
  absl::StatusOr<std::optional<data::Batch>> Next() override { return loader_.Next(); }

 private:
  data::DataLoader& loader_;
};

// Runs epochs [state.position.epoch, state.epochs), resuming mid-epoch by skipping the batches
// state.position.step_in_epoch says are done. Hooks run in the order given. Returns the first
// error of the batches, the objective or a hook, or what a hook put in state.stop.
absl::Status Train(BatchSource& batches, Objective& objective,
                   const std::vector<std::unique_ptr<HookBase>>& hooks, TrainerState& state);
absl::Status Train(data::DataLoader& loader, Objective& objective,
                   const std::vector<std::unique_ptr<HookBase>>& hooks, TrainerState& state);

}  // namespace mochi

#endif  // MOCHI_ENGINE_TRAINER_H_
