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

absl::Status SaveCheckpoint(const std::string& path, torch::nn::Module& model,
                            torch::optim::Optimizer& optimizer, const TrainPosition& position,
                            const NamedGenerators& generators);

// Restores into `model`, `optimizer` (may be null) and `generators`. NotFound for a missing file,
// DataLoss for an unreadable or truncated one, FailedPrecondition when the weights do not fit
// `model` (a different architecture).
absl::StatusOr<TrainPosition> LoadCheckpoint(const std::string& path, torch::nn::Module& model,
                                             torch::optim::Optimizer* optimizer,
                                             const NamedGenerators& generators);

}  // namespace mochi

#endif  // MOCHI_ENGINE_CHECKPOINT_H_
