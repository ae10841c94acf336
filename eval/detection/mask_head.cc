#include "eval/detection/mask_head.h"

#include "ATen/ATen.h"

namespace mochi::eval::detection {

MaskHeadImpl::MaskHeadImpl(int64_t channels, int64_t conv_dim, int64_t num_classes) {
  deconv = register_module("deconv",
                           torch::nn::ConvTranspose2d(
                               torch::nn::ConvTranspose2dOptions(channels, conv_dim, 2).stride(2)));
  predictor = register_module(
      "predictor", torch::nn::Conv2d(torch::nn::Conv2dOptions(conv_dim, num_classes, 1)));
}

at::Tensor MaskHeadImpl::forward(const at::Tensor& region_features) {
  return predictor(at::relu(deconv(region_features)));
}

}  // namespace mochi::eval::detection
