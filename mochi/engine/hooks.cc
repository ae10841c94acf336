#include "mochi/engine/hooks.h"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <utility>

#include "ATen/ATen.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "mochi/port/json_proto.h"
#include "torch/optim/sgd.h"

namespace mochi {
namespace {

std::atomic<int> g_stop_signal{0};

void OnStopSignal(int signal) { g_stop_signal.store(signal); }

std::string Duration(double seconds) {
  const int64_t s = static_cast<int64_t>(seconds);
  if (s >= 3600) return absl::StrFormat("%dh%02dm", s / 3600, (s % 3600) / 60);
  return absl::StrFormat("%dm%02ds", s / 60, s % 60);
}

}  // namespace

LrScheduleHook::LrScheduleHook(Schedule schedule, torch::optim::Optimizer* optimizer, Every every)
    : schedule_(std::move(schedule)), optimizer_(optimizer), every_(every) {}

absl::Status LrScheduleHook::BeforeEpoch(TrainerState& state) {
  if (every_ == Every::kEpoch) Apply(state, state.epoch);
  return absl::OkStatus();
}

absl::Status LrScheduleHook::BeforeStep(TrainerState& state) {
  if (every_ == Every::kStep) Apply(state, state.position.global_step);
  return absl::OkStatus();
}

void LrScheduleHook::Apply(TrainerState& state, int64_t t) const {
  state.lr = schedule_(t);
  if (optimizer_ == nullptr) return;
  for (auto& group : optimizer_->param_groups()) {
    static_cast<torch::optim::SGDOptions&>(group.options()).lr(state.lr);
  }
}

MetricsLog::MetricsLog(std::string path) : path_(std::move(path)) {
  out_.open(path_, std::ios::app);
}

absl::StatusOr<std::unique_ptr<MetricsLog>> MetricsLog::Open(const std::string& path) {
  std::unique_ptr<MetricsLog> log(new MetricsLog(path));
  if (!log->out_) return absl::UnavailableError(absl::StrCat("cannot append to ", path));
  return log;
}

absl::Status MetricsLog::Append(const proto::PretrainEpoch& epoch) {
  out_ << ToJsonLine(epoch) << "\n" << std::flush;
  if (!out_) return absl::UnavailableError(absl::StrCat("writing ", path_, " failed"));
  return absl::OkStatus();
}

ProgressHook::ProgressHook(int64_t every_steps, int64_t global_batch_size,
                           const Objective& objective)
    : every_steps_(every_steps), batch_size_(global_batch_size), objective_(objective) {}

absl::Status ProgressHook::BeforeTrain(TrainerState& state) {
  last_log_ = absl::Now();
  last_log_step_ = state.position.global_step;
  return absl::OkStatus();
}

absl::Status ProgressHook::AfterStep(TrainerState& state) {
  const TrainPosition& p = state.position;
  if (p.global_step % every_steps_ != 0 && p.step_in_epoch != state.steps_per_epoch) {
    return absl::OkStatus();
  }
  const absl::Time now = absl::Now();
  const double interval =
      absl::ToDoubleSeconds(now - last_log_) / std::max<int64_t>(1, p.global_step - last_log_step_);
  recent_per_step_ = recent_per_step_ < 0 ? interval : 0.7 * recent_per_step_ + 0.3 * interval;
  last_log_ = now;
  last_log_step_ = p.global_step;
  const int64_t total_steps = state.epochs * state.steps_per_epoch;
  const std::string detail = objective_.Progress();
  std::fprintf(stderr,
               "epoch %lld/%lld step %lld/%lld  loss %.4f%s%s  lr %.4g  %.0f img/s  ETA %s\n",
               static_cast<long long>(state.epoch + 1), static_cast<long long>(state.epochs),
               static_cast<long long>(p.step_in_epoch),
               static_cast<long long>(state.steps_per_epoch), objective_.Summary().loss,
               detail.empty() ? "" : " ", detail.c_str(), state.lr, batch_size_ / recent_per_step_,
               Duration(recent_per_step_ * (total_steps - p.global_step)).c_str());
  return absl::OkStatus();
}

StopHook::StopHook(dist::Communicator& communicator, c10::Device device, int64_t max_steps,
                   std::string checkpoint_path)
    : communicator_(communicator),
      device_(device),
      max_steps_(max_steps),
      checkpoint_path_(std::move(checkpoint_path)) {}

StopHook::~StopHook() {
  if (!installed_) return;
  std::signal(SIGINT, previous_int_);
  std::signal(SIGTERM, previous_term_);
}

absl::Status StopHook::BeforeTrain(TrainerState&) {
  g_stop_signal.store(0);
  previous_int_ = std::signal(SIGINT, OnStopSignal);
  previous_term_ = std::signal(SIGTERM, OnStopSignal);
  installed_ = true;
  return absl::OkStatus();
}

absl::Status StopHook::AfterStep(TrainerState& state) {
  bool stop_requested = g_stop_signal.load() != 0;
  if (communicator_.world_size() > 1) {
    // Stop together: a process leaving alone would hang the others in a collective.
    at::Tensor flag = at::full({1}, stop_requested ? 1.0f : 0.0f, at::device(device_));
    communicator_.AllReduceMean({flag});
    stop_requested = flag.item<float>() > 0;
  }
  if (stop_requested) {
    state.stop = absl::CancelledError(absl::StrCat("interrupted by signal ", g_stop_signal.load(),
                                                   "; checkpoint written to ", checkpoint_path_,
                                                   "; continue with --resume"));
  } else if (max_steps_ > 0 && state.position.global_step >= max_steps_) {
    state.stop = absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status EpochMetricsHook::AfterEpoch(TrainerState& state, const EpochMetrics& m) {
  proto::PretrainEpoch line;
  line.set_epoch(static_cast<int32_t>(state.epoch));
  line.set_objective(m.objective);
  line.set_loss(m.loss);
  line.set_lr(state.lr);
  line.set_proxy_acc(m.proxy_accuracy);
  line.set_proxy_acc_without_synthetic(m.proxy_accuracy_real);
  line.set_mixing(m.mixing);
  line.set_seconds(state.epoch_seconds);
  line.MergeFrom(m.statistics);
  return log_.Append(line);
}

CheckpointHook::CheckpointHook(std::string path, int64_t every_epochs, torch::nn::Module& model,
                               torch::optim::Optimizer& optimizer, NamedGenerators generators,
                               dist::Communicator& communicator, int64_t every_steps)
    : path_(std::move(path)),
      every_epochs_(every_epochs),
      every_steps_(every_steps),
      model_(model),
      optimizer_(optimizer),
      generators_(std::move(generators)),
      communicator_(communicator) {}

absl::Status CheckpointHook::Save(const TrainerState& state) {
  // Every rank's RNG streams (they differ: the mixing streams are seeded per rank, and only
  // some ranks draw some permutations), so that a resumed multi-process run is bit for bit.
  RngStatesByRank by_rank;
  if (communicator_.world_size() > 1) {
    const std::vector<at::Tensor> parameters = model_.parameters();
    // NCCL gathers device tensors only.
    const at::Device device = parameters.empty() ? at::Device(at::kCPU) : parameters[0].device();
    for (const auto& [name, generator] : generators_) {
      const at::Tensor local = generator.get_state().unsqueeze(0).to(device);
      by_rank.emplace_back(name, communicator_.AllGather(local).to(at::kCPU));
    }
  }
  absl::Status status =
      communicator_.rank() == 0
          ? SaveCheckpoint(path_, model_, optimizer_, state.position, generators_, by_rank)
          : absl::OkStatus();
  communicator_.Barrier();
  return status;
}

absl::Status CheckpointHook::AfterStep(TrainerState& state) {
  const int64_t step = state.position.global_step;
  // The run's last step is saved by AfterEpoch, a stop by OnStop.
  if (every_steps_ > 0 && step % every_steps_ == 0 && !state.stop.has_value() &&
      step < state.epochs * state.steps_per_epoch) {
    return Save(state);
  }
  return absl::OkStatus();
}

absl::Status CheckpointHook::AfterEpoch(TrainerState& state, const EpochMetrics&) {
  const int64_t done = state.position.epoch;
  if (done % every_epochs_ == 0 || done == state.epochs) return Save(state);
  return absl::OkStatus();
}

absl::Status CheckpointHook::OnStop(TrainerState& state) { return Save(state); }

}  // namespace mochi
