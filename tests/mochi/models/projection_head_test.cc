#include "mochi/models/projection_head.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "ATen/Parallel.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/port/torch_status.h"
#include "tests/testing/status_matchers.h"

namespace mochi::models {
namespace {

using ::mochi::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

ProjectionHeadOptions Options(int64_t in_dim, int64_t hidden_dim, int64_t out_dim, bool mlp) {
  ProjectionHeadOptions options;
  options.in_dim = in_dim;
  options.hidden_dim = hidden_dim;
  options.out_dim = out_dim;
  options.mlp = mlp;
  return options;
}

ProjectionHead MakeOrDie(const ProjectionHeadOptions& options) {
  absl::StatusOr<ProjectionHead> head = MakeProjectionHead(options);
  EXPECT_TRUE(head.ok()) << head.status();
  return *std::move(head);
}

std::vector<std::string> ParameterKeys(const torch::nn::Module& module) {
  return module.named_parameters().keys();
}

TEST(ProjectionHeadTest, MlpShapesKeysAndDefaultHiddenDim) {
  at::set_num_threads(2);
  torch::manual_seed(0);
  ProjectionHead head = MakeOrDie(Options(64, /*hidden_dim=*/0, 16, /*mlp=*/true));
  EXPECT_EQ(head->options().hidden_dim, 64);  // 0 = in_dim, as MoCo-v2
  EXPECT_THAT(ParameterKeys(*head), ElementsAre("0.weight", "0.bias", "2.weight", "2.bias"));
  EXPECT_TRUE(head->named_buffers().is_empty());
  const auto params = head->named_parameters();
  EXPECT_THAT(params["0.weight"].sizes(), ElementsAre(64, 64));
  EXPECT_THAT(params["0.bias"].sizes(), ElementsAre(64));
  EXPECT_THAT(params["2.weight"].sizes(), ElementsAre(16, 64));
  EXPECT_THAT(params["2.bias"].sizes(), ElementsAre(16));
  std::vector<std::string> children;
  for (const auto& child : head->named_children()) children.push_back(child.key());
  EXPECT_THAT(children, ElementsAre("0", "1", "2"));
  EXPECT_THAT(head->forward(torch::randn({4, 64})).sizes(), ElementsAre(4, 16));
}

TEST(ProjectionHeadTest, MlpComputesLinearReluLinear) {
  at::set_num_threads(2);
  torch::manual_seed(1);
  ProjectionHead head = MakeOrDie(Options(12, /*hidden_dim=*/7, 5, /*mlp=*/true));
  EXPECT_EQ(head->options().hidden_dim, 7);
  const auto params = head->named_parameters();
  EXPECT_THAT(params["0.weight"].sizes(), ElementsAre(7, 12));
  EXPECT_THAT(params["2.weight"].sizes(), ElementsAre(5, 7));
  torch::Tensor x = torch::randn({6, 12});
  torch::Tensor hidden = torch::matmul(x, params["0.weight"].t()) + params["0.bias"];
  torch::Tensor expected =
      torch::matmul(torch::clamp_min(hidden, 0), params["2.weight"].t()) + params["2.bias"];
  torch::Tensor z = head->forward(x);
  EXPECT_THAT(z.sizes(), ElementsAre(6, 5));
  EXPECT_TRUE(torch::allclose(z, expected, 1e-5, 1e-6));
  // Some hidden units are negative, so the ReLU matters for this check.
  EXPECT_TRUE(torch::any(hidden < 0).item<bool>());
  // Not normalised.
  EXPECT_FALSE(torch::allclose(z.norm(2, 1), torch::ones({6}), 1e-3, 1e-3));
}

TEST(ProjectionHeadTest, LinearVariantHasMocoV1Keys) {
  at::set_num_threads(2);
  torch::manual_seed(2);
  ProjectionHead head = MakeOrDie(Options(32, 0, 8, /*mlp=*/false));
  EXPECT_THAT(ParameterKeys(*head), ElementsAre("weight", "bias"));
  EXPECT_TRUE(head->named_children().is_empty());
  const auto params = head->named_parameters();
  EXPECT_THAT(params["weight"].sizes(), ElementsAre(8, 32));
  EXPECT_THAT(params["bias"].sizes(), ElementsAre(8));
  EXPECT_TRUE(params["weight"].requires_grad());
  // PyTorch Linear default init: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias.
  const double bound = 1.0 / std::sqrt(32.0);
  EXPECT_LE(params["weight"].abs().max().item<double>(), bound);
  EXPECT_GT(params["weight"].abs().max().item<double>(), 0.8 * bound);
  EXPECT_LE(params["bias"].abs().max().item<double>(), bound);
  torch::Tensor x = torch::randn({3, 32});
  torch::Tensor z = head->forward(x);
  EXPECT_THAT(z.sizes(), ElementsAre(3, 8));
  EXPECT_TRUE(
      torch::allclose(z, torch::matmul(x, params["weight"].t()) + params["bias"], 1e-5, 1e-6));
  // Gradients reach both parameters.
  z.sum().backward();
  EXPECT_TRUE(params["weight"].grad().defined());
  EXPECT_TRUE(params["bias"].grad().defined());
  EXPECT_GT(params["weight"].grad().abs().sum().item<double>(), 0.0);
}

TEST(ProjectionHeadTest, RegisteredAsFcGivesMocoKeys) {
  ProjectionHeadOptions v2 = Options(16, 0, 4, /*mlp=*/true);
  torch::nn::Module encoder;
  encoder.register_module("fc", MakeOrDie(v2));
  EXPECT_THAT(ParameterKeys(encoder),
              ElementsAre("fc.0.weight", "fc.0.bias", "fc.2.weight", "fc.2.bias"));

  torch::nn::Module encoder_v1;
  encoder_v1.register_module("fc", MakeOrDie(Options(16, 0, 4, /*mlp=*/false)));
  EXPECT_THAT(ParameterKeys(encoder_v1), ElementsAre("fc.weight", "fc.bias"));
}

TEST(ProjectionHeadTest, DefaultOutDimIs128) {
  ProjectionHeadOptions options;
  options.in_dim = 20;
  ProjectionHead head = MakeOrDie(options);
  EXPECT_THAT(head->forward(torch::randn({2, 20})).sizes(), ElementsAre(2, 128));
}

TEST(ProjectionHeadTest, BadDimsAreInvalidArgument) {
  constexpr absl::StatusCode kInvalidArgument = absl::StatusCode::kInvalidArgument;
  EXPECT_THAT(MakeProjectionHead(Options(0, 0, 128, true)),
              StatusIs(kInvalidArgument, AllOf(HasSubstr("in_dim"), HasSubstr("0"))));
  EXPECT_THAT(MakeProjectionHead(Options(-4, 0, 128, false)),
              StatusIs(kInvalidArgument, AllOf(HasSubstr("in_dim"), HasSubstr("-4"))));
  EXPECT_THAT(MakeProjectionHead(Options(64, -1, 128, true)),
              StatusIs(kInvalidArgument, AllOf(HasSubstr("hidden_dim"), HasSubstr("-1"))));
  EXPECT_THAT(MakeProjectionHead(Options(64, 0, 0, true)),
              StatusIs(kInvalidArgument, AllOf(HasSubstr("out_dim"), HasSubstr("0"))));
  EXPECT_THAT(MakeProjectionHead(ProjectionHeadOptions{}),
              StatusIs(kInvalidArgument, HasSubstr("in_dim")));
  EXPECT_THAT(TorchToStatus("construct", [] { ProjectionHead head(Options(0, 0, 8, true)); }),
              StatusIs(kInvalidArgument, HasSubstr("in_dim")));
}

TEST(ProjectionHeadTest, ForwardChecksInputShape) {
  ProjectionHead head = MakeOrDie(Options(10, 0, 4, true));
  EXPECT_THAT(
      TorchToStatus("forward",
                    [&] {
                      head->forward(torch::randn({3, 11}));
                    }),
      StatusIs(absl::StatusCode::kInternal, AllOf(HasSubstr("[B, 10]"), HasSubstr("got [3, 11]"))));
  EXPECT_THAT(TorchToStatus("forward", [&] { head->forward(torch::randn({10})); }),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("got [10]")));
}

}  // namespace
}  // namespace mochi::models
