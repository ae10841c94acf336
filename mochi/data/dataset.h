// The dataset interface every reader implements (Fashion-MNIST idx, ImageFolder, scenes).
#ifndef MOCHI_DATA_DATASET_H_
#define MOCHI_DATA_DATASET_H_

#include <cstdint>
#include <string>

#include "ATen/core/Tensor.h"
#include "absl/status/statusor.h"

namespace mochi::data {

struct Example {
  at::Tensor image;  // uint8 [C, H, W], contiguous; C = channels()
  int64_t label = -1;  // class index in [0, num_classes())
};

class Dataset {
 public:
  virtual ~Dataset() = default;

  virtual int64_t size() const = 0;
  virtual int num_classes() const = 0;
  // 1 for grayscale data (Fashion-MNIST), 3 for RGB.
  virtual int channels() const = 0;
  // Thread-safe: the loader calls it from several workers at once.
  virtual absl::StatusOr<Example> Get(int64_t index) const = 0;
  // One line for provenance logs, e.g. "fashion_mnist(train, 60000, md5 ok)".
  virtual std::string Describe() const = 0;
};

}  // namespace mochi::data

#endif  // MOCHI_DATA_DATASET_H_
