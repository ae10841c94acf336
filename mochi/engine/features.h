// Frozen-backbone features of a whole dataset (for kNN and linear evaluation).
#ifndef MOCHI_ENGINE_FEATURES_H_
#define MOCHI_ENGINE_FEATURES_H_

#include <vector>

#include "ATen/core/Tensor.h"
#include "absl/status/statusor.h"
#include "c10/core/Device.h"
#include "mochi/data/dataset.h"
#include "mochi/models/resnet.h"

namespace mochi {

// Deterministic evaluation geometry: resize the short side, center-crop, normalise.
struct EvalGeometry {
  int resize = 0;     // 0 = the image's own size (no resize, no crop)
  int crop_size = 0;
  int output_channels = 1;
  std::vector<float> mean, std;
};

struct Features {
  at::Tensor features;  // float [N, D], on the CPU
  at::Tensor labels;    // int64 [N]
};

// Runs `backbone` in eval mode (restoring train mode after) over the dataset in chunks.
absl::StatusOr<Features> ExtractFeatures(models::ResNet& backbone, const data::Dataset& dataset,
                                         const EvalGeometry& geometry, const c10::Device& device,
                                         int64_t chunk_size = 512);

// The same images as flattened normalised pixels (the raw-pixel baseline).
absl::StatusOr<Features> PixelFeatures(const data::Dataset& dataset, const EvalGeometry& geometry);

}  // namespace mochi

#endif  // MOCHI_ENGINE_FEATURES_H_
