// Linear classification on frozen features (MoCo's main_lincls protocol, on cached features):
// a single fully connected layer trained with SGD + momentum and a step schedule, then top-1 /
// top-5 on the test features.
#ifndef EVAL_LINCLS_LINEAR_PROBE_H_
#define EVAL_LINCLS_LINEAR_PROBE_H_

#include <cstdint>
#include <vector>

#include "ATen/core/Tensor.h"
#include "absl/status/statusor.h"

namespace mochi::eval {

struct LinearProbeOptions {
  int64_t epochs = 100;
  int64_t batch_size = 256;
  double lr = 30.0;  // main_lincls
  double momentum = 0.9;
  double weight_decay = 0.0;
  std::vector<int64_t> milestones = {60, 80};  // lr x gamma at each
  double gamma = 0.1;
  uint64_t seed = 0;  // shuffling and initialisation
};

struct LinearProbeResult {
  double top1 = 0;                     // fractions of the test set
  double top5 = 0;
  std::vector<double> per_class_top1;  // -1 where a class has no test rows
  std::vector<double> epoch_loss;      // mean training loss per epoch
};

// Features [N, D] (any float dtype), labels int64 [N] in [0, num_classes). InvalidArgument for
// shape/label/option errors; FailedPrecondition when training diverges (non-finite loss).
absl::StatusOr<LinearProbeResult> TrainLinearProbe(const at::Tensor& train_features,
                                                   const at::Tensor& train_labels,
                                                   const at::Tensor& test_features,
                                                   const at::Tensor& test_labels,
                                                   int64_t num_classes,
                                                   const LinearProbeOptions& options);

}  // namespace mochi::eval

#endif  // EVAL_LINCLS_LINEAR_PROBE_H_
