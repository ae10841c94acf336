// A backbone with a linear classifier on its pooled features: the supervised baseline's model
// (the paper's "supervised" initialisation). Its state-dict keys are backbone.* and classifier.*.
//
// Example:
//   models::Classifier model(backbone, /*num_classes=*/10);
//   at::Tensor logits = model->forward(images);  // [B, 10]
#ifndef MOCHI_MODELS_CLASSIFIER_H_
#define MOCHI_MODELS_CLASSIFIER_H_

#include <cstdint>

#include "mochi/models/resnet.h"
#include "torch/nn/module.h"
#include "torch/nn/modules/linear.h"

namespace mochi::models {

class ClassifierImpl : public torch::nn::Module {
 public:
  ClassifierImpl(ResNet backbone, int64_t num_classes);
  // images [B, C, H, W] -> logits [B, num_classes].
  torch::Tensor forward(const torch::Tensor& images);

  ResNet backbone{nullptr};
  torch::nn::Linear classifier{nullptr};
};
TORCH_MODULE(Classifier);

}  // namespace mochi::models

#endif  // MOCHI_MODELS_CLASSIFIER_H_
