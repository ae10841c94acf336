// Mask R-CNN's mask head for the C4 detector (MaskRCNNConvUpsampleHead, NUM_CONV 0): a region's
// res5 map [R, C5, 7, 7] -> 2x2 stride-2 deconvolution + ReLU -> 1x1 conv to K class-specific
// 14x14 mask logits.
#ifndef EVAL_DETECTION_MASK_HEAD_H_
#define EVAL_DETECTION_MASK_HEAD_H_

#include <cstdint>

#include "ATen/core/Tensor.h"
#include "torch/nn/module.h"
#include "torch/nn/modules/conv.h"
#include "torch/nn/pimpl.h"

namespace mochi::eval::detection {

class MaskHeadImpl : public torch::nn::Module {
 public:
  // Weights keep LibTorch's default initialisation; FasterRcnnImpl applies detectron2's.
  MaskHeadImpl(int64_t channels, int64_t conv_dim, int64_t num_classes);
  at::Tensor forward(const at::Tensor& region_features);

  torch::nn::ConvTranspose2d deconv{nullptr};
  torch::nn::Conv2d predictor{nullptr};
};
TORCH_MODULE(MaskHead);

}  // namespace mochi::eval::detection

#endif  // EVAL_DETECTION_MASK_HEAD_H_
