// ResNet backbones in torchvision's exact layout (He et al. 2016, arXiv 1512.03385).
//
// Module names, and therefore state-dict keys, equal torchvision's `resnet{18,34,50,101}`:
//   conv1, bn1, layer{1..4}.{i}.{conv1,bn1,conv2,bn2[,conv3,bn3]}, layer{1..4}.0.downsample.{0,1},
//   fc
// so weights cross between PyTorch and MoCHi without a renaming table. Depths 18/34 use the
// BasicBlock, 50/101 the Bottleneck "v1.5" (the stride sits on the 3x3 conv, as torchvision) with
// expansion 4. Initialisation is torchvision's: kaiming_normal_(fan_out, relu) for convs, BN
// weight 1 / bias 0, Linear's default init, and optionally the last BN gamma of every residual
// branch zeroed (`zero_init_residual`, Goyal et al. arXiv 1706.02677).
//
// `small_input_stem` swaps the ImageNet stem (7x7/2 conv + 3x3/2 max-pool) for a 3x3/1 conv and
// no max-pool, the usual choice for 28x28 / 32x32 inputs (Fashion-MNIST, CIFAR). With
// `small_input_stem_stride` 2 that conv has stride 2: every later map has a quarter of the cells,
// so a step costs about a quarter (more epochs per CPU-hour).
//
// Example:
//   MOCHI_ASSIGN_OR_RETURN(ResNet net, MakeResNet(ResNetOptions().depth(50).num_classes(0)));
//   torch::Tensor features = net->forward_features(images);  // [B, 2048]
#ifndef MOCHI_MODELS_RESNET_H_
#define MOCHI_MODELS_RESNET_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mochi/models/split_batch_norm.h"
#include "torch/arg.h"
#include "torch/nn/module.h"
#include "torch/nn/modules/batchnorm.h"
#include "torch/nn/modules/container/sequential.h"
#include "torch/nn/modules/conv.h"
#include "torch/nn/modules/linear.h"
#include "torch/nn/pimpl.h"

namespace mochi::models {

// ResNetOptions: the architecture, LibTorch-style (`ResNetOptions().depth(18).width(16)`).
struct ResNetOptions {
  // 18 or 34 (BasicBlock), 50 or 101 (Bottleneck, expansion 4).
  TORCH_ARG(int64_t, depth) = 50;
  // Channels of the stem and layer1; layer{1..4} have width * {1, 2, 4, 8} (x4 at the output of
  // a Bottleneck).
  TORCH_ARG(int64_t, width) = 64;
  // 1 (grey-scale) or 3 (RGB).
  TORCH_ARG(int64_t, in_channels) = 3;
  // false: 7x7 stride-2 conv + 3x3 stride-2 max-pool (ImageNet); true: 3x3 stride-1 conv, no
  // max-pool (28x28 / 32x32 inputs).
  TORCH_ARG(bool, small_input_stem) = false;
  // Stride of the small-input stem's conv: 1 or 2 (ignored with the ImageNet stem).
  TORCH_ARG(int64_t, small_input_stem_stride) = 1;
  // Outputs of `fc`; 0 registers no fc layer (backbone only).
  TORCH_ARG(int64_t, num_classes) = 1000;
  // Zero-init the last BN gamma of each residual block (bn2 in BasicBlock, bn3 in Bottleneck).
  TORCH_ARG(bool, zero_init_residual) = false;
};

// ValidateResNetOptions: InvalidArgument naming the option and its value when `options` is not
// a supported architecture.
absl::Status ValidateResNetOptions(const ResNetOptions& options);

// ResNetImpl: the network. Construct through MakeResNet() to get a Status instead of a
// c10::ValueError for bad options.
class ResNetImpl : public torch::nn::Module {
 public:
  explicit ResNetImpl(const ResNetOptions& options = {});

  // x: [B, in_channels, H, W] -> [B, feature_dim()] (global average pool, flattened).
  torch::Tensor forward_features(torch::Tensor x);

  // x: [B, in_channels, H, W] -> logits [B, num_classes]. Requires num_classes > 0.
  torch::Tensor forward(torch::Tensor x);

  // The C4 split of Faster R-CNN R50-C4 (detectron2 ResNet + Res5ROIHeads): the trunk is the stem
  // and layer1..3 (res2..res4), res5 is layer4, run per region of interest.
  // forward_res4: x [B, in_channels, H, W] -> [B, res4_channels(), ~H / res4_stride(), ...].
  torch::Tensor forward_res4(torch::Tensor x);
  // forward_res5: res4 features [R, res4_channels(), h, w] -> [R, feature_dim(), ~h / 2, ~w / 2].
  torch::Tensor forward_res5(torch::Tensor x);
  // Channels of res4 (layer3): feature_dim() / 2.
  int64_t res4_channels() const { return feature_dim_ / 2; }
  // Input pixels per res4 cell: 16 with the ImageNet stem, 4 x the stem stride with the
  // small-input stem.
  int64_t res4_stride() const {
    return options_.small_input_stem() ? 4 * options_.small_input_stem_stride() : 16;
  }

  // Channels after global pooling: 512 * width / 64 (depth 18/34), 2048 * width / 64 (50/101).
  int64_t feature_dim() const { return feature_dim_; }

  const ResNetOptions& options() const { return options_; }

 private:
  // Stem and layer1..3 (res2..res4), shared by forward_features and forward_res4; unchecked.
  torch::Tensor StemToRes4(torch::Tensor x);

  ResNetOptions options_;
  int64_t feature_dim_ = 0;
  torch::nn::Conv2d conv1_{nullptr};
  SplitBatchNorm2d bn1_{nullptr};
  torch::nn::Sequential layer1_{nullptr};
  torch::nn::Sequential layer2_{nullptr};
  torch::nn::Sequential layer3_{nullptr};
  torch::nn::Sequential layer4_{nullptr};
  torch::nn::Linear fc_{nullptr};  // null when num_classes == 0
};

TORCH_MODULE(ResNet);

// MakeResNet: validates `options` (see ValidateResNetOptions) and builds the network.
//
// Example:
//   absl::StatusOr<ResNet> net = MakeResNet(
//       ResNetOptions().depth(18).width(16).in_channels(1).small_input_stem(true).num_classes(10));
absl::StatusOr<ResNet> MakeResNet(const ResNetOptions& options);

}  // namespace mochi::models

#endif  // MOCHI_MODELS_RESNET_H_
