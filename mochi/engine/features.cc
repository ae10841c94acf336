#include "mochi/engine/features.h"

#include <algorithm>
#include <string>

#include "ATen/ATen.h"
#include "mochi/data/augment.h"
#include "mochi/port/status_macros.h"
#include "mochi/port/torch_status.h"
#include "torch/autograd.h"

namespace mochi {
namespace {

// Images [start, end) of the dataset after the evaluation transform, stacked, and their labels.
absl::Status Chunk(const data::Dataset& dataset, const EvalGeometry& g, int64_t start, int64_t end,
                   at::Tensor* images, std::vector<int64_t>* labels) {
  std::vector<at::Tensor> batch;
  for (int64_t i = start; i < end; ++i) {
    MOCHI_ASSIGN_OR_RETURN(data::Example example, dataset.Get(i));
    const int side = static_cast<int>(std::min(example.image.size(1), example.image.size(2)));
    const int resize = g.resize > 0 ? g.resize : side;
    const int crop = g.crop_size > 0 ? g.crop_size : side;
    MOCHI_RETURN_IF_ERROR(TorchToStatus("evaluation transform", [&] {
      batch.push_back(data::CenterCropNormalize(example.image, resize, crop, g.output_channels,
                                                g.mean, g.std));
    }));
    labels->push_back(example.label);
  }
  *images = at::stack(batch);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Features> ExtractFeatures(models::ResNet& backbone, const data::Dataset& dataset,
                                         const EvalGeometry& geometry, const c10::Device& device,
                                         int64_t chunk_size) {
  std::vector<at::Tensor> parts;
  std::vector<int64_t> labels;
  const bool was_training = backbone->is_training();
  backbone->eval();
  torch::NoGradGuard no_grad;
  for (int64_t start = 0; start < dataset.size(); start += chunk_size) {
    at::Tensor images;
    MOCHI_RETURN_IF_ERROR(Chunk(dataset, geometry, start,
                                std::min(dataset.size(), start + chunk_size), &images, &labels));
    MOCHI_RETURN_IF_ERROR(TorchToStatus("feature extraction", [&] {
      parts.push_back(backbone->forward_features(images.to(device)).cpu());
    }));
  }
  backbone->train(was_training);
  return Features{at::cat(parts), at::tensor(labels, at::kLong)};
}

absl::StatusOr<Features> PixelFeatures(const data::Dataset& dataset, const EvalGeometry& geometry) {
  std::vector<at::Tensor> parts;
  std::vector<int64_t> labels;
  for (int64_t start = 0; start < dataset.size(); start += 4096) {
    at::Tensor images;
    MOCHI_RETURN_IF_ERROR(Chunk(dataset, geometry, start, std::min(dataset.size(), start + 4096),
                                &images, &labels));
    parts.push_back(images.reshape({images.size(0), -1}));
  }
  return Features{at::cat(parts), at::tensor(labels, at::kLong)};
}

}  // namespace mochi
