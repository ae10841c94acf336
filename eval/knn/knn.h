// Weighted k-nearest-neighbour classification on L2-normalised features (the InstDisc / MoCo
// monitor protocol): each of the k most cosine-similar train features votes for its class with
// weight exp(sim / temperature); the class with the largest total wins.
#ifndef EVAL_KNN_KNN_H_
#define EVAL_KNN_KNN_H_

#include <cstdint>
#include <vector>

#include "ATen/core/Tensor.h"
#include "absl/status/statusor.h"

namespace mochi::eval {

struct KnnOptions {
  int64_t k = 200;
  double temperature = 0.07;
  // Test rows scored per chunk: memory is chunk_size x num_train floats.
  int64_t chunk_size = 1024;
};

struct KnnResult {
  at::Tensor predictions;  // int64 [M]
  double top1 = 0;         // fraction of test rows predicted right
  std::vector<double> per_class_top1;  // fraction per class (-1 where the class has no test rows)
};

// Features need not be normalised (they are normalised here). InvalidArgument on shape, label or
// option errors; k larger than the train set is clamped to it.
absl::StatusOr<KnnResult> KnnClassify(const at::Tensor& train_features,
                                      const at::Tensor& train_labels,
                                      const at::Tensor& test_features,
                                      const at::Tensor& test_labels, int64_t num_classes,
                                      const KnnOptions& options);

}  // namespace mochi::eval

#endif  // EVAL_KNN_KNN_H_
