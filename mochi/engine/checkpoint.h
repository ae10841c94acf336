// Checkpoints: weights + buffers (queue, queue pointer), optimizer state, RNG states, position in
// training and the resolved config, written atomically (temp file + rename) so an interruption
// never leaves a truncated checkpoint behind.
#ifndef MOCHI_ENGINE_CHECKPOINT_H_
#define MOCHI_ENGINE_CHECKPOINT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ATen/core/Generator.h"
#include "absl/status/statusor.h"
#include "torch/nn/module.h"
#include "torch/optim/optimizer.h"

namespace mochi {

struct TrainPosition {
  int64_t epoch = 0;          // epoch to run next (or in progress)
  int64_t step_in_epoch = 0;  // batches of `epoch` already done
  int64_t global_step = 0;
  std::string config_text;    // resolved config (text proto) of the run that wrote it
};

using NamedGenerators = std::vector<std::pair<std::string, at::Generator>>;

// Every process's generator states, for a multi-process checkpoint: per generator name, a
// [world_size, state bytes] tensor whose row r is rank r's state (CheckpointHook gathers them).
using RngStatesByRank = std::vector<std::pair<std::string, at::Tensor>>;

// `generators` are this (the writing) process's; `by_rank`, when not empty, every process's.
absl::Status SaveCheckpoint(const std::string& path, torch::nn::Module& model,
                            torch::optim::Optimizer& optimizer, const TrainPosition& position,
                            const NamedGenerators& generators, const RngStatesByRank& by_rank = {});

// Restores into `model`, `optimizer` (may be null) and `generators`. NotFound for a missing file,
// DataLoss for an unreadable or truncated one, FailedPrecondition when the weights do not fit
// `model` (a different architecture).
//
// Process `rank` of `world_size` gets its own RNG states when the checkpoint holds every
// process's from a run of the same size, so the resumed run continues bit for bit. A checkpoint
// from a different number of processes gives every rank the writer's states, with a warning:
// the run continues correctly, but not bit for bit.
absl::StatusOr<TrainPosition> LoadCheckpoint(const std::string& path, torch::nn::Module& model,
                                             torch::optim::Optimizer* optimizer,
                                             const NamedGenerators& generators, int rank = 0,
                                             int world_size = 1);

}  // namespace mochi

#endif  // MOCHI_ENGINE_CHECKPOINT_H_
