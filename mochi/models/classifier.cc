#include "mochi/models/classifier.h"

namespace mochi::models {

ClassifierImpl::ClassifierImpl(ResNet backbone_in, int64_t num_classes)
    : backbone(register_module("backbone", std::move(backbone_in))),
      classifier(
          register_module("classifier", torch::nn::Linear(backbone->feature_dim(), num_classes))) {}

torch::Tensor ClassifierImpl::forward(const torch::Tensor& images) {
  return classifier(backbone->forward_features(images));
}

}  // namespace mochi::models
