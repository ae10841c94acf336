// The pretraining run: MoCo-v2 (optionally MoCHi), or the supervised baseline when the config
// sets `supervised`, from a validated PretrainConfig.
#ifndef MOCHI_ENGINE_PRETRAIN_H_
#define MOCHI_ENGINE_PRETRAIN_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "mochi/proto/pretrain.pb.h"

namespace mochi {

struct PretrainRunOptions {
  // Receives config.pbtxt, env.txt, metrics.jsonl, checkpoint.pt, knn.json.
  std::string output_dir;
  // Continue from output_dir/checkpoint.pt (bit-for-bit on CPU). Without it an existing
  // checkpoint is an error, so a finished run is never overwritten by accident.
  bool resume = false;
  // Stop (with a checkpoint) after this many steps in total; 0 = run all epochs. For tests.
  int64_t max_steps = 0;
  // After training, kNN-classify the Fashion-MNIST test split with the query backbone.
  bool knn_eval = true;
};

// Runs (or resumes) training. SIGINT/SIGTERM finish the current step, write a checkpoint and
// return Cancelled, so `--resume` continues where it stopped.
absl::Status RunPretrain(const proto::PretrainConfig& config, const PretrainRunOptions& options);

}  // namespace mochi

#endif  // MOCHI_ENGINE_PRETRAIN_H_
