// The trainer's standard hooks: learning-rate schedule, progress with ETA, stop signals and step
// budget, metrics.jsonl, checkpoints. RunPretrain installs them in this order; monitors (e.g.
// eval/knn's) come after.
#ifndef MOCHI_ENGINE_HOOKS_H_
#define MOCHI_ENGINE_HOOKS_H_

#include <cstdint>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "c10/core/Device.h"
#include "mochi/dist/communicator.h"
#include "mochi/engine/checkpoint.h"
#include "mochi/engine/trainer.h"
#include "mochi/proto/results.pb.h"
#include "torch/nn/module.h"
#include "torch/optim/optimizer.h"

namespace mochi {

// Sets state.lr = schedule(t) and every parameter group's lr of `optimizer` (an SGD optimizer;
// may be null for an objective that applies state.lr itself), where t is the epoch, before each
// epoch, or the global step, before each step (iteration-based training such as detection).
// mochi/engine/lr_schedule.h has the schedules.
class LrScheduleHook : public HookBase {
 public:
  using Schedule = std::function<double(int64_t t)>;
  enum class Every { kEpoch, kStep };
  LrScheduleHook(Schedule schedule, torch::optim::Optimizer* optimizer,
                 Every every = Every::kEpoch);
  absl::Status BeforeEpoch(TrainerState& state) override;
  absl::Status BeforeStep(TrainerState& state) override;

 private:
  void Apply(TrainerState& state, int64_t t) const;
  const Schedule schedule_;
  torch::optim::Optimizer* const optimizer_;
  const Every every_;
};

// metrics.jsonl: one PretrainEpoch (results.proto) per line, as JSON; the file stays valid JSONL
// after an interruption.
class MetricsLog {
 public:
  static absl::StatusOr<std::unique_ptr<MetricsLog>> Open(const std::string& path);
  absl::Status Append(const proto::PretrainEpoch& epoch);

 private:
  explicit MetricsLog(std::string path);
  const std::string path_;
  std::ofstream out_;
};

// "epoch e/E step s/S  loss [Objective::Progress()]  lr  img/s  ETA" every `every_steps` steps
// and at epoch ends (the loss is the epoch's running mean). The throughput is a moving average
// over log intervals, so the ETA follows the machine's current speed (a long run's average lags
// behind load changes by hours).
class ProgressHook : public HookBase {
 public:
  ProgressHook(int64_t every_steps, int64_t global_batch_size, const Objective& objective);
  absl::Status BeforeTrain(TrainerState& state) override;
  absl::Status AfterStep(TrainerState& state) override;

 private:
  const int64_t every_steps_, batch_size_;
  const Objective& objective_;
  absl::Time last_log_;
  int64_t last_log_step_ = 0;
  double recent_per_step_ = -1;
};

// Ends the run after the step in which SIGINT/SIGTERM arrived (Cancelled, every process together)
// or once `max_steps` steps are done (OK; 0 = no budget). Restores the previous signal handlers.
class StopHook : public HookBase {
 public:
  StopHook(dist::Communicator& communicator, c10::Device device, int64_t max_steps,
           std::string checkpoint_path);
  ~StopHook() override;
  absl::Status BeforeTrain(TrainerState& state) override;
  absl::Status AfterStep(TrainerState& state) override;

 private:
  dist::Communicator& communicator_;
  const c10::Device device_;
  const int64_t max_steps_;
  const std::string checkpoint_path_;
  bool installed_ = false;
  void (*previous_int_)(int) = nullptr;
  void (*previous_term_)(int) = nullptr;
};

// One metrics.jsonl line per epoch.
class EpochMetricsHook : public HookBase {
 public:
  explicit EpochMetricsHook(MetricsLog& log) : log_(log) {}
  absl::Status AfterEpoch(TrainerState& state, const EpochMetrics& metrics) override;

 private:
  MetricsLog& log_;
};

// Writes the checkpoint every `every_epochs` epochs, after the last one and when the run stops
// early. Every process holds the same state; the chief writes it, the others wait for it.
class CheckpointHook : public HookBase {
 public:
  // `every_steps` > 0 also writes it every that many global steps (iteration-based training).
  CheckpointHook(std::string path, int64_t every_epochs, torch::nn::Module& model,
                 torch::optim::Optimizer& optimizer, NamedGenerators generators,
                 dist::Communicator& communicator, int64_t every_steps = 0);
  absl::Status AfterStep(TrainerState& state) override;
  absl::Status AfterEpoch(TrainerState& state, const EpochMetrics& metrics) override;
  absl::Status OnStop(TrainerState& state) override;

 private:
  absl::Status Save(const TrainerState& state);
  const std::string path_;
  const int64_t every_epochs_, every_steps_;
  torch::nn::Module& model_;
  torch::optim::Optimizer& optimizer_;
  const NamedGenerators generators_;
  dist::Communicator& communicator_;
};

}  // namespace mochi

#endif  // MOCHI_ENGINE_HOOKS_H_
