#include "mochi/models/resnet.h"

#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "ATen/Parallel.h"
#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/port/torch_status.h"
#include "tests/testing/status_matchers.h"
#include "torch/optim/sgd.h"
#include "torch/utils.h"

namespace mochi::models {
namespace {

using ::mochi::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

int64_t NumParameters(const torch::nn::Module& module) {
  int64_t total = 0;
  for (const torch::Tensor& p : module.parameters()) total += p.numel();
  return total;
}

// The keys of PyTorch's state_dict(): parameters and buffers.
std::set<std::string> StateDictKeys(const torch::nn::Module& module) {
  std::set<std::string> keys;
  for (const auto& item : module.named_parameters()) keys.insert(item.key());
  for (const auto& item : module.named_buffers()) keys.insert(item.key());
  return keys;
}

int64_t StateDictSize(const torch::nn::Module& module) {
  return module.named_parameters().size() + module.named_buffers().size();
}

ResNet MakeOrDie(const ResNetOptions& options) {
  absl::StatusOr<ResNet> net = MakeResNet(options);
  EXPECT_TRUE(net.ok()) << net.status();
  return *std::move(net);
}

const torch::nn::Conv2dImpl& ConvNamed(const torch::nn::Module& module, const std::string& name) {
  std::shared_ptr<torch::nn::Module> child = module.named_modules()[name];
  const auto* conv = child->as<torch::nn::Conv2d>();
  TORCH_CHECK(conv != nullptr, name, " is not a Conv2d");
  return *conv;
}

TEST(ResNetTest, ImageNetResNet18Shapes) {
  at::set_num_threads(2);
  torch::manual_seed(0);
  ResNet net = MakeOrDie(ResNetOptions().depth(18));
  net->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor x = torch::randn({2, 3, 224, 224});
  EXPECT_EQ(net->feature_dim(), 512);
  EXPECT_THAT(net->forward_features(x).sizes(), ElementsAre(2, 512));
  EXPECT_THAT(net->forward(x).sizes(), ElementsAre(2, 1000));
}

TEST(ResNetTest, ImageNetResNet50Shapes) {
  at::set_num_threads(2);
  torch::manual_seed(0);
  ResNet net = MakeOrDie(ResNetOptions().depth(50));
  net->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor x = torch::randn({2, 3, 224, 224});
  EXPECT_EQ(net->feature_dim(), 2048);
  torch::Tensor features = net->forward_features(x);
  EXPECT_THAT(features.sizes(), ElementsAre(2, 2048));
  // After the final ReLU and average pooling every feature is >= 0.
  EXPECT_GE(features.min().item<float>(), 0.0f);
  // forward() is fc(forward_features()).
  torch::Tensor logits = net->forward(x);
  EXPECT_THAT(logits.sizes(), ElementsAre(2, 1000));
  const auto params = net->named_parameters();
  torch::Tensor expected = torch::linear(features, params["fc.weight"], params["fc.bias"]);
  EXPECT_TRUE(torch::allclose(logits, expected, 1e-4, 1e-5));
}

TEST(ResNetTest, SmallInputStemResNet18) {
  at::set_num_threads(2);
  torch::manual_seed(0);
  ResNet net = MakeOrDie(
      ResNetOptions().depth(18).width(16).in_channels(1).small_input_stem(true).num_classes(10));
  torch::Tensor x = torch::randn({2, 1, 28, 28});
  EXPECT_EQ(net->feature_dim(), 128);
  EXPECT_THAT(net->forward_features(x).sizes(), ElementsAre(2, 128));
  EXPECT_THAT(net->forward(x).sizes(), ElementsAre(2, 10));
  const auto params = net->named_parameters();
  EXPECT_THAT(params["conv1.weight"].sizes(), ElementsAre(16, 1, 3, 3));
  EXPECT_THAT(params["layer4.1.conv2.weight"].sizes(), ElementsAre(128, 128, 3, 3));
  const torch::nn::Conv2dImpl& conv1 = ConvNamed(*net, "conv1");
  EXPECT_THAT(*conv1.options.stride(), ElementsAre(1, 1));
}

// Stride 2 on the small-input stem halves every map (28 -> 14 -> 7 -> 4 -> 2) and doubles the
// res4 stride the detection heads read; the weights are those of the stride-1 stem.
TEST(ResNetTest, SmallInputStemStride2HalvesEveryMap) {
  at::set_num_threads(2);
  torch::manual_seed(0);
  const ResNetOptions options =
      ResNetOptions().depth(18).width(16).in_channels(1).small_input_stem(true).num_classes(0);
  ResNet stride1 = MakeOrDie(options);
  ResNet stride2 = MakeOrDie(ResNetOptions(options).small_input_stem_stride(2));
  EXPECT_THAT(*ConvNamed(*stride2, "conv1").options.stride(), ElementsAre(2, 2));
  EXPECT_EQ(NumParameters(*stride2), NumParameters(*stride1));
  torch::Tensor x = torch::randn({2, 1, 28, 28});
  EXPECT_THAT(stride1->forward_res4(x).sizes(), ElementsAre(2, 64, 7, 7));
  EXPECT_THAT(stride2->forward_res4(x).sizes(), ElementsAre(2, 64, 4, 4));
  EXPECT_EQ(stride1->res4_stride(), 4);
  EXPECT_EQ(stride2->res4_stride(), 8);
  EXPECT_THAT(stride2->forward_features(x).sizes(), ElementsAre(2, 128));
  // The ImageNet stem ignores the option.
  EXPECT_EQ(MakeOrDie(ResNetOptions().depth(18).num_classes(0).small_input_stem_stride(2))
                ->res4_stride(),
            16);
}

TEST(ResNetTest, SmallInputStemResNet50) {
  at::set_num_threads(2);
  torch::manual_seed(0);
  ResNet net = MakeOrDie(
      ResNetOptions().depth(50).width(32).in_channels(1).small_input_stem(true).num_classes(10));
  torch::Tensor x = torch::randn({2, 1, 28, 28});
  EXPECT_EQ(net->feature_dim(), 1024);
  EXPECT_THAT(net->forward_features(x).sizes(), ElementsAre(2, 1024));
  EXPECT_THAT(net->forward(x).sizes(), ElementsAre(2, 10));
  const auto params = net->named_parameters();
  EXPECT_THAT(params["conv1.weight"].sizes(), ElementsAre(32, 1, 3, 3));
  EXPECT_THAT(params["layer4.2.conv3.weight"].sizes(), ElementsAre(1024, 256, 1, 1));
  EXPECT_THAT(params["fc.weight"].sizes(), ElementsAre(10, 1024));
}

// torchvision's sum(p.numel() for p in resnetXX().parameters()).
TEST(ResNetTest, ParameterCountsMatchTorchvision) {
  EXPECT_EQ(NumParameters(*MakeOrDie(ResNetOptions().depth(18))), 11689512);
  EXPECT_EQ(NumParameters(*MakeOrDie(ResNetOptions().depth(34))), 21797672);
  EXPECT_EQ(NumParameters(*MakeOrDie(ResNetOptions().depth(50))), 25557032);
  EXPECT_EQ(NumParameters(*MakeOrDie(ResNetOptions().depth(101))), 44549160);
  // Without fc: 25557032 - (2048 * 1000 + 1000).
  EXPECT_EQ(NumParameters(*MakeOrDie(ResNetOptions().depth(50).num_classes(0))), 23508032);
}

TEST(ResNetTest, StateDictKeysMatchTorchvision) {
  ResNet r50 = MakeOrDie(ResNetOptions().depth(50));
  // 53 convs (1 stem + 16 blocks x 3 + 4 downsample) + 53 BNs x 5 entries + fc weight/bias.
  EXPECT_EQ(StateDictSize(*r50), 320);
  const std::set<std::string> keys = StateDictKeys(*r50);
  EXPECT_EQ(keys.size(), 320u);
  for (const char* key :
       {"conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
        "bn1.num_batches_tracked", "layer1.0.conv1.weight", "layer1.0.bn1.weight",
        "layer1.0.conv3.weight", "layer1.0.bn3.running_var", "layer1.0.downsample.0.weight",
        "layer1.0.downsample.1.weight", "layer1.0.downsample.1.num_batches_tracked",
        "layer2.3.conv2.weight", "layer3.5.bn3.bias", "layer4.0.downsample.0.weight",
        "layer4.2.bn3.running_mean", "fc.weight", "fc.bias"}) {
    EXPECT_EQ(keys.count(key), 1u) << key;
  }
  EXPECT_EQ(keys.count("layer1.1.downsample.0.weight"), 0u);
  EXPECT_EQ(keys.count("layer3.6.conv1.weight"), 0u);  // layer3 has 6 blocks
  EXPECT_EQ(keys.count("conv1.bias"), 0u);             // convs have no bias
  const auto params = r50->named_parameters();
  EXPECT_THAT(params["layer1.0.conv1.weight"].sizes(), ElementsAre(64, 64, 1, 1));
  EXPECT_THAT(params["layer1.0.downsample.0.weight"].sizes(), ElementsAre(256, 64, 1, 1));
  EXPECT_THAT(params["layer2.0.conv2.weight"].sizes(), ElementsAre(128, 128, 3, 3));
  EXPECT_THAT(params["fc.weight"].sizes(), ElementsAre(1000, 2048));

  ResNet r18 = MakeOrDie(ResNetOptions().depth(18));
  // 20 convs + 20 BNs x 5 + 2: torchvision resnet18().state_dict() has 122 keys.
  EXPECT_EQ(StateDictSize(*r18), 122);
  const std::set<std::string> keys18 = StateDictKeys(*r18);
  EXPECT_EQ(keys18.count("layer1.0.downsample.0.weight"), 0u);  // 64 -> 64, stride 1
  EXPECT_EQ(keys18.count("layer2.0.downsample.0.weight"), 1u);
  EXPECT_EQ(keys18.count("layer2.0.downsample.1.running_mean"), 1u);
  EXPECT_EQ(keys18.count("layer4.1.bn2.weight"), 1u);
  EXPECT_EQ(keys18.count("layer4.1.conv3.weight"), 0u);

  ResNet no_fc = MakeOrDie(ResNetOptions().depth(50).num_classes(0));
  EXPECT_EQ(StateDictSize(*no_fc), 318);
  EXPECT_EQ(StateDictKeys(*no_fc).count("fc.weight"), 0u);
}

TEST(ResNetTest, ImageNetStemAndBottleneckV15Strides) {
  ResNet net = MakeOrDie(ResNetOptions().depth(50));
  const torch::nn::Conv2dImpl& stem = ConvNamed(*net, "conv1");
  EXPECT_THAT(*stem.options.kernel_size(), ElementsAre(7, 7));
  EXPECT_THAT(*stem.options.stride(), ElementsAre(2, 2));
  EXPECT_THAT(*std::get<torch::ExpandingArray<2>>(stem.options.padding()), ElementsAre(3, 3));
  // v1.5: the stride is on the 3x3 conv, not on the first 1x1.
  EXPECT_THAT(*ConvNamed(*net, "layer2.0.conv1").options.stride(), ElementsAre(1, 1));
  EXPECT_THAT(*ConvNamed(*net, "layer2.0.conv2").options.stride(), ElementsAre(2, 2));
  EXPECT_THAT(*ConvNamed(*net, "layer2.0.downsample.0").options.stride(), ElementsAre(2, 2));
  EXPECT_THAT(*ConvNamed(*net, "layer1.0.conv2").options.stride(), ElementsAre(1, 1));
  EXPECT_THAT(*ConvNamed(*net, "layer1.0.downsample.0").options.stride(), ElementsAre(1, 1));
  EXPECT_THAT(*ConvNamed(*net, "layer4.0.conv2").options.stride(), ElementsAre(2, 2));
  EXPECT_THAT(*ConvNamed(*net, "layer4.1.conv2").options.stride(), ElementsAre(1, 1));
  // BatchNorm hyper-parameters as torchvision.
  auto bn = net->named_modules()["layer3.2.bn2"]->as<torch::nn::BatchNorm2d>();
  ASSERT_NE(bn, nullptr);
  EXPECT_DOUBLE_EQ(*bn->options.momentum(), 0.1);
  EXPECT_DOUBLE_EQ(bn->options.eps(), 1e-5);
}

TEST(ResNetTest, KaimingFanOutInitialisation) {
  at::set_num_threads(2);
  torch::manual_seed(0);
  ResNet net = MakeOrDie(ResNetOptions().depth(50));
  const auto params = net->named_parameters();
  // kaiming_normal_(mode=fan_out, relu): std = sqrt(2 / (out_channels * kh * kw)).
  // Stem: fan_out = 64 * 49 (fan_in would be 3 * 49, giving std 0.117 instead of 0.0253).
  EXPECT_NEAR(params["conv1.weight"].std().item<double>(), std::sqrt(2.0 / (64 * 49)),
              0.05 * std::sqrt(2.0 / (64 * 49)));
  EXPECT_NEAR(params["conv1.weight"].mean().item<double>(), 0.0, 1e-3);
  // 1x1 expansion conv 64 -> 256: fan_out = 256 (fan_in = 64).
  EXPECT_NEAR(params["layer1.0.conv3.weight"].std().item<double>(), std::sqrt(2.0 / 256),
              0.05 * std::sqrt(2.0 / 256));
  EXPECT_TRUE(torch::all(params["layer2.1.bn2.weight"] == 1).item<bool>());
  EXPECT_TRUE(torch::all(params["layer2.1.bn2.bias"] == 0).item<bool>());
  EXPECT_TRUE(torch::all(params["layer1.0.bn3.weight"] == 1).item<bool>());  // not zero-init
  // Linear default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
  const double bound = 1.0 / std::sqrt(2048.0);
  EXPECT_LE(params["fc.weight"].abs().max().item<double>(), bound);
  EXPECT_GT(params["fc.weight"].abs().max().item<double>(), 0.9 * bound);
  EXPECT_LE(params["fc.bias"].abs().max().item<double>(), bound);
}

// Every parameter whose key ends in `suffix` (inside layer1..4): all zeros / all ones.
void ExpectBlockBn(const torch::nn::Module& net, const std::string& suffix, double value,
                   int expected_count) {
  int count = 0;
  for (const auto& item : net.named_parameters()) {
    if (!absl::StartsWith(item.key(), "layer") || !absl::EndsWith(item.key(), suffix)) continue;
    ++count;
    EXPECT_TRUE(torch::all(item.value() == value).item<bool>()) << item.key();
  }
  EXPECT_EQ(count, expected_count) << suffix;
}

TEST(ResNetTest, ZeroInitResidualZeroesLastBnGamma) {
  ResNet basic = MakeOrDie(ResNetOptions().depth(18).zero_init_residual(true));
  ExpectBlockBn(*basic, ".bn2.weight", 0.0, 8);
  ExpectBlockBn(*basic, ".bn1.weight", 1.0, 8);
  ExpectBlockBn(*basic, "downsample.1.weight", 1.0, 3);
  EXPECT_TRUE(torch::all(basic->named_parameters()["bn1.weight"] == 1).item<bool>());

  ResNet bottleneck = MakeOrDie(ResNetOptions().depth(50).zero_init_residual(true));
  ExpectBlockBn(*bottleneck, ".bn3.weight", 0.0, 16);
  ExpectBlockBn(*bottleneck, ".bn2.weight", 1.0, 16);
  ExpectBlockBn(*bottleneck, ".bn1.weight", 1.0, 16);

  ResNet plain = MakeOrDie(ResNetOptions().depth(18));
  ExpectBlockBn(*plain, ".bn2.weight", 1.0, 8);
}

TEST(ResNetTest, TinyResNet18OverfitsOneBatch) {
  at::set_num_threads(2);
  torch::manual_seed(0);
  ResNet net = MakeOrDie(ResNetOptions().depth(18).width(8).small_input_stem(true).num_classes(10));
  net->train();
  torch::Tensor x = torch::randn({8, 3, 16, 16});
  torch::Tensor y = torch::arange(8, torch::kLong);
  torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  double initial_loss = 0.0;
  double final_loss = 0.0;
  for (int step = 0; step < 30; ++step) {
    sgd.zero_grad();
    torch::Tensor loss = torch::cross_entropy_loss(net->forward(x), y);
    if (step == 0) initial_loss = loss.item<double>();
    final_loss = loss.item<double>();
    loss.backward();
    sgd.step();
  }
  RecordProperty("initial_loss", std::to_string(initial_loss));
  RecordProperty("final_loss", std::to_string(final_loss));
  EXPECT_NEAR(initial_loss, std::log(10.0), 1.0);
  EXPECT_LT(final_loss, 0.5 * initial_loss);
  // Train-mode forward: the batch statistics the steps optimised.
  torch::NoGradGuard no_grad;
  torch::Tensor logits = net->forward(x);
  EXPECT_TRUE(torch::equal(logits.argmax(1), y)) << logits.argmax(1);
  EXPECT_LT(torch::cross_entropy_loss(logits, y).item<double>(), 0.5 * initial_loss);
}

TEST(ResNetTest, BadOptionsAreInvalidArgument) {
  constexpr absl::StatusCode kInvalidArgument = absl::StatusCode::kInvalidArgument;
  EXPECT_THAT(MakeResNet(ResNetOptions().depth(20)),
              StatusIs(kInvalidArgument, AllOf(HasSubstr("depth"), HasSubstr("20"))));
  EXPECT_THAT(MakeResNet(ResNetOptions().depth(152)),
              StatusIs(kInvalidArgument, AllOf(HasSubstr("depth"), HasSubstr("152"))));
  EXPECT_THAT(MakeResNet(ResNetOptions().width(0)),
              StatusIs(kInvalidArgument, AllOf(HasSubstr("width"), HasSubstr("0"))));
  EXPECT_THAT(MakeResNet(ResNetOptions().width(-8)),
              StatusIs(kInvalidArgument, AllOf(HasSubstr("width"), HasSubstr("-8"))));
  EXPECT_THAT(MakeResNet(ResNetOptions().in_channels(2)),
              StatusIs(kInvalidArgument, AllOf(HasSubstr("in_channels"), HasSubstr("2"))));
  EXPECT_THAT(MakeResNet(ResNetOptions().small_input_stem(true).small_input_stem_stride(3)),
              StatusIs(kInvalidArgument,
                       AllOf(HasSubstr("small_input_stem_stride"), HasSubstr("3"))));
  EXPECT_THAT(MakeResNet(ResNetOptions().num_classes(-1)),
              StatusIs(kInvalidArgument, AllOf(HasSubstr("num_classes"), HasSubstr("-1"))));
  MOCHI_EXPECT_OK(MakeResNet(ResNetOptions().depth(18).in_channels(1).num_classes(0)));
  // Direct construction throws c10::ValueError, which the bridge maps to InvalidArgument.
  EXPECT_THAT(TorchToStatus("construct", [] { ResNet net(ResNetOptions().depth(20)); }),
              StatusIs(kInvalidArgument, HasSubstr("depth")));
}

TEST(ResNetTest, ForwardChecksInputsAndFc) {
  ResNet backbone =
      MakeOrDie(ResNetOptions().depth(18).width(8).small_input_stem(true).num_classes(0));
  torch::Tensor x = torch::randn({2, 3, 8, 8});
  EXPECT_THAT(backbone->forward_features(x).sizes(), ElementsAre(2, 64));
  EXPECT_THAT(TorchToStatus("forward", [&] { backbone->forward(x); }),
              StatusIs(absl::StatusCode::kInternal,
                       AllOf(HasSubstr("num_classes = 0"), HasSubstr("forward_features"))));
  EXPECT_THAT(TorchToStatus("forward",
                            [&] {
                              backbone->forward_features(torch::randn({2, 1, 8, 8}));
                            }),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("got [2, 1, 8, 8]")));
  EXPECT_THAT(TorchToStatus("forward",
                            [&] {
                              backbone->forward_features(torch::randn({3, 8, 8}));
                            }),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("got [3, 8, 8]")));
}

TEST(ResNetTest, FollowsModuleDtype) {
  torch::manual_seed(0);
  ResNet net = MakeOrDie(ResNetOptions().depth(18).width(8).small_input_stem(true).num_classes(5));
  net->to(torch::kFloat64);
  torch::Tensor logits = net->forward(torch::randn({2, 3, 8, 8}, torch::kFloat64));
  EXPECT_EQ(logits.scalar_type(), torch::kFloat64);
  EXPECT_THAT(logits.sizes(), ElementsAre(2, 5));
}

}  // namespace
}  // namespace mochi::models
