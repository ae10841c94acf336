// Linear classification on frozen features (MoCo's main_lincls protocol): a single fully
// connected layer trained with SGD + momentum and a step schedule on the trainer's loop
// (mochi/engine/trainer.h), then top-1 / top-5 on the test features. The training rows come from
// a BatchSource whose batches hold features [b, D] as views[0]: cached features, or features of
// freshly augmented images through the frozen backbone (see linear_eval.cc).
#ifndef EVAL_LINCLS_LINEAR_PROBE_H_
#define EVAL_LINCLS_LINEAR_PROBE_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "ATen/core/Tensor.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "c10/core/Device.h"
#include "mochi/engine/trainer.h"

namespace mochi::eval {

struct LinearProbeOptions {
  int64_t epochs = 100;
  int64_t batch_size = 256;
  double lr = 30.0;  // main_lincls
  double momentum = 0.9;
  double weight_decay = 0.0;
  std::vector<int64_t> milestones = {60, 80};  // lr x gamma at each
  double gamma = 0.1;
  uint64_t seed = 0;  // initialisation (and the shuffling of cached features)
  // Where the classifier trains; batches and test features are moved there. The initial
  // weights are drawn on the CPU, so every device starts from the same classifier.
  c10::Device device = c10::kCPU;
};

struct LinearProbeResult {
  double top1 = 0;  // fractions of the test set
  double top5 = 0;
  std::vector<double> per_class_top1;  // -1 where a class has no test rows
  std::vector<double> epoch_loss;      // mean training loss per epoch
};

// Features [N, D] held in memory; epoch e visits them in data::Permutation(N, MixSeed(seed, e + 1))
// order (the project's counter-based RNG, as the data loader's shuffle).
std::unique_ptr<BatchSource> CachedFeatureBatches(at::Tensor features, at::Tensor labels,
                                                  int64_t batch_size, uint64_t seed);

// Trains on `train` (batches of features [b, D] in views[0], feature width `feature_dim`) and
// scores the test features [M, D] with labels in [0, num_classes). InvalidArgument for
// shape/label/option errors; FailedPrecondition when training diverges (non-finite loss); errors of
// `train` are passed on.
absl::StatusOr<LinearProbeResult> TrainLinearProbe(BatchSource& train, int64_t feature_dim,
                                                   const at::Tensor& test_features,
                                                   const at::Tensor& test_labels,
                                                   int64_t num_classes,
                                                   const LinearProbeOptions& options);

// The cached-features case: train_features [N, D] (any float dtype), labels int64 [N].
absl::StatusOr<LinearProbeResult> TrainLinearProbe(const at::Tensor& train_features,
                                                   const at::Tensor& train_labels,
                                                   const at::Tensor& test_features,
                                                   const at::Tensor& test_labels,
                                                   int64_t num_classes,
                                                   const LinearProbeOptions& options);

}  // namespace mochi::eval

#endif  // EVAL_LINCLS_LINEAR_PROBE_H_
