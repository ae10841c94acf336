#include "mochi/models/resnet.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "c10/util/Exception.h"
#include "torch/enum.h"
#include "torch/nn/init.h"

namespace mochi::models {
namespace {

constexpr double kBnMomentum = 0.1;  // torchvision (PyTorch) defaults
constexpr double kBnEps = 1e-5;

torch::nn::Conv2d Conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false));
}

SplitBatchNorm2d Bn(int64_t channels) {
  return SplitBatchNorm2d(
      torch::nn::BatchNorm2dOptions(channels).momentum(kBnMomentum).eps(kBnEps));
}

// downsample: 1x1 conv (stride) + BN on the identity path, named "0" and "1" as torchvision.
torch::nn::Sequential Downsample(int64_t in, int64_t out, int64_t stride) {
  return torch::nn::Sequential(Conv(in, out, 1, stride, 0), Bn(out));
}

// torchvision BasicBlock: 3x3 (stride) -> BN -> ReLU -> 3x3 -> BN, + identity, ReLU.
class BasicBlockImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kExpansion = 1;

  BasicBlockImpl(int64_t in_planes, int64_t planes, int64_t stride)
      : conv1_(register_module("conv1", Conv(in_planes, planes, 3, stride, 1))),
        bn1_(register_module("bn1", Bn(planes))),
        conv2_(register_module("conv2", Conv(planes, planes, 3, 1, 1))),
        bn2_(register_module("bn2", Bn(planes))) {
    if (stride != 1 || in_planes != planes * kExpansion) {
      downsample_ = register_module("downsample", Downsample(in_planes, planes, stride));
    }
  }

  // x: [B, in_planes, H, W] -> [B, planes, H / stride, W / stride]
  torch::Tensor forward(torch::Tensor x) {
    torch::Tensor out = torch::relu(bn1_(conv1_(x)));
    out = bn2_(conv2_(out));
    out += downsample_ ? downsample_->forward(x) : x;
    return torch::relu(out);
  }

  void ZeroInitResidual() { torch::nn::init::zeros_(bn2_->weight); }

 private:
  torch::nn::Conv2d conv1_;
  SplitBatchNorm2d bn1_;
  torch::nn::Conv2d conv2_;
  SplitBatchNorm2d bn2_;
  torch::nn::Sequential downsample_{nullptr};
};
TORCH_MODULE(BasicBlock);

// torchvision Bottleneck (ResNet v1.5): 1x1 -> 3x3 (stride) -> 1x1 (x4), BN after each, + identity.
class BottleneckImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kExpansion = 4;

  BottleneckImpl(int64_t in_planes, int64_t planes, int64_t stride)
      : conv1_(register_module("conv1", Conv(in_planes, planes, 1, 1, 0))),
        bn1_(register_module("bn1", Bn(planes))),
        conv2_(register_module("conv2", Conv(planes, planes, 3, stride, 1))),
        bn2_(register_module("bn2", Bn(planes))),
        conv3_(register_module("conv3", Conv(planes, planes * kExpansion, 1, 1, 0))),
        bn3_(register_module("bn3", Bn(planes * kExpansion))) {
    if (stride != 1 || in_planes != planes * kExpansion) {
      downsample_ =
          register_module("downsample", Downsample(in_planes, planes * kExpansion, stride));
    }
  }

  // x: [B, in_planes, H, W] -> [B, 4 * planes, H / stride, W / stride]
  torch::Tensor forward(torch::Tensor x) {
    torch::Tensor out = torch::relu(bn1_(conv1_(x)));
    out = torch::relu(bn2_(conv2_(out)));
    out = bn3_(conv3_(out));
    out += downsample_ ? downsample_->forward(x) : x;
    return torch::relu(out);
  }

  void ZeroInitResidual() { torch::nn::init::zeros_(bn3_->weight); }

 private:
  torch::nn::Conv2d conv1_;
  SplitBatchNorm2d bn1_;
  torch::nn::Conv2d conv2_;
  SplitBatchNorm2d bn2_;
  torch::nn::Conv2d conv3_;
  SplitBatchNorm2d bn3_;
  torch::nn::Sequential downsample_{nullptr};
};
TORCH_MODULE(Bottleneck);

struct Layout {
  bool bottleneck;
  int64_t blocks[4];
};

// Only called on validated depths.
Layout LayoutFor(int64_t depth) {
  switch (depth) {
    case 18:
      return {false, {2, 2, 2, 2}};
    case 34:
      return {false, {3, 4, 6, 3}};
    case 50:
      return {true, {3, 4, 6, 3}};
    case 101:
      return {true, {3, 4, 23, 3}};
    default:
      break;
  }
  TORCH_INTERNAL_ASSERT(false, "unsupported ResNet depth ", depth);
  return {};
}

// torchvision `_make_layer`: the first block strides and (if shapes change) downsamples.
// `in_planes` is updated to the layer's output channels.
template <typename Block, typename BlockImpl>
torch::nn::Sequential MakeLayer(int64_t* in_planes, int64_t planes, int64_t blocks,
                                int64_t stride) {
  torch::nn::Sequential layer;
  for (int64_t i = 0; i < blocks; ++i) {
    layer->push_back(Block(*in_planes, planes, i == 0 ? stride : 1));
    *in_planes = planes * BlockImpl::kExpansion;
  }
  return layer;
}

}  // namespace

absl::Status ValidateResNetOptions(const ResNetOptions& options) {
  const int64_t depth = options.depth();
  if (depth != 18 && depth != 34 && depth != 50 && depth != 101) {
    return absl::InvalidArgumentError(
        absl::StrCat("ResNetOptions.depth must be one of {18, 34, 50, 101}, got ", depth));
  }
  if (options.width() <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ResNetOptions.width must be > 0, got ", options.width()));
  }
  if (options.in_channels() != 1 && options.in_channels() != 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("ResNetOptions.in_channels must be 1 or 3, got ", options.in_channels()));
  }
  if (options.small_input_stem_stride() != 1 && options.small_input_stem_stride() != 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ResNetOptions.small_input_stem_stride must be 1 or 2, got ",
        options.small_input_stem_stride()));
  }
  if (options.num_classes() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ResNetOptions.num_classes must be >= 0 (0 = no fc), got ", options.num_classes()));
  }
  return absl::OkStatus();
}

ResNetImpl::ResNetImpl(const ResNetOptions& options) : options_(options) {
  const absl::Status status = ValidateResNetOptions(options_);
  TORCH_CHECK_VALUE(status.ok(), std::string(status.message()));

  const int64_t width = options_.width();
  if (options_.small_input_stem()) {
    conv1_ = register_module(
        "conv1", Conv(options_.in_channels(), width, 3, options_.small_input_stem_stride(), 1));
  } else {
    conv1_ = register_module("conv1", Conv(options_.in_channels(), width, 7, 2, 3));
  }
  bn1_ = register_module("bn1", Bn(width));

  const Layout layout = LayoutFor(options_.depth());
  int64_t in_planes = width;
  const int64_t strides[4] = {1, 2, 2, 2};
  torch::nn::Sequential* layers[4] = {&layer1_, &layer2_, &layer3_, &layer4_};
  for (int i = 0; i < 4; ++i) {
    const int64_t planes = width << i;
    torch::nn::Sequential layer = layout.bottleneck
                                      ? MakeLayer<Bottleneck, BottleneckImpl>(
                                            &in_planes, planes, layout.blocks[i], strides[i])
                                      : MakeLayer<BasicBlock, BasicBlockImpl>(
                                            &in_planes, planes, layout.blocks[i], strides[i]);
    *layers[i] = register_module(absl::StrCat("layer", i + 1), layer);
  }
  feature_dim_ = in_planes;

  if (options_.num_classes() > 0) {
    fc_ = register_module("fc", torch::nn::Linear(feature_dim_, options_.num_classes()));
  }

  // torchvision ResNet.__init__: convs kaiming_normal_(fan_out, relu); BN weight 1, bias 0;
  // Linear keeps its default (PyTorch) init.
  for (const auto& module : modules(/*include_self=*/false)) {
    if (auto* conv = module->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight, /*a=*/0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      torch::nn::init::ones_(bn->weight);
      torch::nn::init::zeros_(bn->bias);
    }
  }
  if (options_.zero_init_residual()) {
    for (const auto& module : modules(/*include_self=*/false)) {
      if (auto* block = module->as<BasicBlock>()) block->ZeroInitResidual();
      if (auto* block = module->as<Bottleneck>()) block->ZeroInitResidual();
    }
  }
}

torch::Tensor ResNetImpl::forward_features(torch::Tensor x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options_.in_channels(),
              "ResNet::forward_features: expected x of shape [B, ", options_.in_channels(),
              ", H, W], got ", x.sizes());
  x = layer4_->forward(StemToRes4(std::move(x)));
  return torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);  // [B, feature_dim]
}

torch::Tensor ResNetImpl::forward_res4(torch::Tensor x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options_.in_channels(),
              "ResNet::forward_res4: expected x of shape [B, ", options_.in_channels(),
              ", H, W], got ", x.sizes());
  return StemToRes4(std::move(x));
}

torch::Tensor ResNetImpl::StemToRes4(torch::Tensor x) {
  x = torch::relu(bn1_(conv1_(x)));
  if (!options_.small_input_stem()) {
    x = torch::max_pool2d(x, /*kernel_size=*/{3, 3}, /*stride=*/{2, 2}, /*padding=*/{1, 1});
  }
  x = layer1_->forward(x);
  x = layer2_->forward(x);
  return layer3_->forward(x);
}

torch::Tensor ResNetImpl::forward_res5(torch::Tensor x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == res4_channels(),
              "ResNet::forward_res5: expected x of shape [R, ", res4_channels(), ", h, w], got ",
              x.sizes());
  return layer4_->forward(x);
}

torch::Tensor ResNetImpl::forward(torch::Tensor x) {
  TORCH_CHECK(!fc_.is_empty(),
              "ResNet::forward: this ResNet has no fc layer (num_classes = 0); "
              "use forward_features");
  return fc_(forward_features(std::move(x)));  // [B, num_classes]
}

absl::StatusOr<ResNet> MakeResNet(const ResNetOptions& options) {
  const absl::Status status = ValidateResNetOptions(options);
  if (!status.ok()) return status;
  return ResNet(options);
}

}  // namespace mochi::models
