// The pretraining objectives the trainer runs: MoCo-v2 (optionally with MoCHi's synthetic hard
// negatives) and the supervised baseline (cross-entropy on the labels). Each owns its step and
// the epoch's sums behind metrics.jsonl; the benchmark times the same Step().
#ifndef MOCHI_ENGINE_OBJECTIVES_H_
#define MOCHI_ENGINE_OBJECTIVES_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "ATen/core/Generator.h"
#include "ATen/core/Tensor.h"
#include "mochi/dist/communicator.h"
#include "mochi/engine/trainer.h"
#include "mochi/models/classifier.h"
#include "mochi/ssl/hard_negative_mixing.h"
#include "mochi/ssl/moco.h"
#include "torch/optim/optimizer.h"

namespace mochi {

struct MocoObjectiveOptions {
  const ssl::MixingOptions* mixing = nullptr;  // null: MoCo-v2
  int64_t mixing_start_epoch = 0;              // MoCHi adds synthetic negatives from here on
  int64_t stats_queries = 0;                   // queries per epoch for the paper's statistics
};

// Momentum update, forward (queue, shuffle BN, mixing), backward, averaged gradients, SGD step,
// enqueue. The epoch's statistics are taken from the logits before the enqueue.
class MocoObjective : public Objective {
 public:
  MocoObjective(ssl::Moco moco, torch::optim::Optimizer& optimizer, std::vector<at::Tensor> trained,
                dist::Communicator& communicator, at::Generator mixing_generator, at::Device device,
                MocoObjectiveOptions options);
  ~MocoObjective() override;

  void BeginEpoch(const TrainerState& state) override;
  absl::Status Step(const data::Batch& batch) override;
  EpochMetrics Summary() const override;

 private:
  class Statistics;
  ssl::Moco moco_;
  torch::optim::Optimizer& optimizer_;
  const std::vector<at::Tensor> trained_;
  dist::Communicator& communicator_;
  at::Generator mixing_generator_;
  const at::Device device_;
  const MocoObjectiveOptions options_;
  bool mix_ = false;
  double loss_sum_ = 0, proxy_correct_ = 0, proxy_correct_real_ = 0, seen_ = 0;
  std::unique_ptr<Statistics> statistics_;
};

// Cross-entropy of the classifier's logits on one view; "proxy" accuracy is the training top-1.
class SupervisedObjective : public Objective {
 public:
  SupervisedObjective(models::Classifier model, torch::optim::Optimizer& optimizer,
                      std::vector<at::Tensor> trained, dist::Communicator& communicator,
                      at::Device device);

  void BeginEpoch(const TrainerState& state) override;
  absl::Status Step(const data::Batch& batch) override;
  EpochMetrics Summary() const override;

 private:
  models::Classifier model_;
  torch::optim::Optimizer& optimizer_;
  const std::vector<at::Tensor> trained_;
  dist::Communicator& communicator_;
  const at::Device device_;
  double loss_sum_ = 0, correct_ = 0, seen_ = 0;
};

}  // namespace mochi

#endif  // MOCHI_ENGINE_OBJECTIVES_H_
