// The pretraining run: MoCo-v2 (optionally MoCHi), or the supervised baseline when the config
// sets `supervised`, from a validated PretrainConfig.
#ifndef MOCHI_ENGINE_PRETRAIN_H_
#define MOCHI_ENGINE_PRETRAIN_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "c10/core/Device.h"
#include "mochi/data/dataset.h"
#include "mochi/engine/hooks.h"
#include "mochi/engine/trainer.h"
#include "mochi/models/resnet.h"
#include "mochi/proto/pretrain.pb.h"

namespace mochi {

// What a run offers the hooks it is given (valid while RunPretrain runs).
struct PretrainContext {
  const proto::PretrainConfig* config;
  models::ResNet backbone;           // the representation being trained
  const data::Dataset* train_set;
  c10::Device device;
  std::string output_dir;
  bool is_chief;                     // the process that writes files
};

// Makes a hook for a run, or null when it does not apply to this run.
using PretrainHookFactory =
    std::function<absl::StatusOr<std::unique_ptr<HookBase>>(const PretrainContext&)>;

struct PretrainRunOptions {
  // Receives config.pbtxt, env.txt, metrics.jsonl, checkpoint.pt (and what extra hooks write).
  std::string output_dir;
  // Continue from output_dir/checkpoint.pt (bit-for-bit on CPU). Without it an existing
  // checkpoint is an error, so a finished run is never overwritten by accident.
  bool resume = false;
  // Stop (with a checkpoint) after this many steps in total; 0 = run all epochs. For tests.
  int64_t max_steps = 0;
  // Run after the standard hooks (schedule, progress, stop, metrics, checkpoint), in this order:
  // evaluation monitors such as eval/knn's kNN monitor.
  std::vector<PretrainHookFactory> extra_hooks;
};

// Runs (or resumes) training. SIGINT/SIGTERM finish the current step, write a checkpoint and
// return Cancelled, so `--resume` continues where it stopped.
absl::Status RunPretrain(const proto::PretrainConfig& config, const PretrainRunOptions& options);

}  // namespace mochi

#endif  // MOCHI_ENGINE_PRETRAIN_H_
