#include "mochi/models/split_batch_norm.h"

#include <vector>

#include "ATen/ATen.h"
#include "gtest/gtest.h"
#include "torch/nn/modules/batchnorm.h"
#include "torch/nn/modules/container/modulelist.h"
#include "torch/nn/modules/container/sequential.h"

namespace mochi::models {
namespace {

double MaxAbsDiff(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

struct Reference {
  at::Tensor out, grad_input, grad_weight, grad_bias, running_mean, running_var;
};

// G separate BatchNorm2d calls, one per group {g, g + G, g + 2G, ...}, each from a copy of the
// same parameters and running statistics; their running statistics averaged.
Reference SeparateCalls(const at::Tensor& x, const at::Tensor& upstream, int64_t g,
                        const at::Tensor& weight, const at::Tensor& bias,
                        const at::Tensor& running_mean, const at::Tensor& running_var) {
  const int64_t batch = x.size(0);
  const at::Tensor input = x.detach().clone().requires_grad_(true);
  const at::Tensor w = weight.detach().clone().requires_grad_(true);
  const at::Tensor b = bias.detach().clone().requires_grad_(true);
  at::Tensor out = at::zeros_like(x);
  std::vector<at::Tensor> means, vars;
  for (int64_t group = 0; group < g; ++group) {
    const at::Tensor rows = at::arange(group, batch, g, at::kLong);
    at::Tensor mean = running_mean.clone(), var = running_var.clone();
    const at::Tensor y = at::batch_norm(input.index_select(0, rows), w, b, mean, var,
                                        /*training=*/true, 0.1, 1e-5, false);
    out = out.index_copy(0, rows, y);
    means.push_back(mean);
    vars.push_back(var);
  }
  (out * upstream).sum().backward();
  return {out.detach(),           input.grad(), w.grad(), b.grad(), at::stack(means).mean(0),
          at::stack(vars).mean(0)};
}

// One call on the folded batch equals G separate calls: outputs, gradients w.r.t. the input,
// gamma and beta, and the averaged running statistics (float64; G = 1, 2, 4; NCHW and NHWC).
TEST(SplitBatchNormTest, EqualsSeparateCallsPerGroup) {
  at::manual_seed(2);
  for (const int64_t g : {1, 2, 4}) {
    for (const bool channels_last : {false, true}) {
      SCOPED_TRACE(testing::Message() << "G " << g << " channels_last " << channels_last);
      SplitBatchNorm2d bn(torch::nn::BatchNorm2dOptions(3).momentum(0.1).eps(1e-5));
      bn->to(at::kDouble);
      {
        at::NoGradGuard no_grad;
        bn->weight.copy_(at::rand({3}, at::kDouble) + 0.5);
        bn->bias.copy_(at::randn({3}, at::kDouble));
        bn->running_mean.copy_(at::randn({3}, at::kDouble));
        bn->running_var.copy_(at::rand({3}, at::kDouble) + 0.5);
      }
      at::Tensor x = at::randn({8, 3, 5, 4}, at::kDouble) * 3 + 1;
      const at::Tensor upstream = at::randn({8, 3, 5, 4}, at::kDouble);
      const Reference expected =
          SeparateCalls(x, upstream, g, bn->weight, bn->bias, bn->running_mean, bn->running_var);
      if (channels_last) x = x.contiguous(at::MemoryFormat::ChannelsLast);
      const at::Tensor input = x.clone().requires_grad_(true);
      bn->set_groups(g);
      const at::Tensor out = bn->forward(input);
      (out * upstream).sum().backward();
      EXPECT_LT(MaxAbsDiff(out, expected.out), 1e-12);
      EXPECT_LT(MaxAbsDiff(input.grad(), expected.grad_input), 1e-12);
      EXPECT_LT(MaxAbsDiff(bn->weight.grad(), expected.grad_weight), 1e-11);
      EXPECT_LT(MaxAbsDiff(bn->bias.grad(), expected.grad_bias), 1e-11);
      EXPECT_LT(MaxAbsDiff(bn->running_mean, expected.running_mean), 1e-12);
      EXPECT_LT(MaxAbsDiff(bn->running_var, expected.running_var), 1e-12);
      EXPECT_EQ(bn->num_batches_tracked.item<int64_t>(), 1);
      EXPECT_EQ(out.is_contiguous(at::MemoryFormat::ChannelsLast), channels_last);
    }
  }
}

// Groups do change the result (the test above is not vacuous), and eval mode ignores them.
TEST(SplitBatchNormTest, GroupsMatterInTrainingOnly) {
  at::manual_seed(3);
  const at::Tensor x = at::randn({8, 2, 3, 3}) * at::arange(1, 9).view({8, 1, 1, 1});
  SplitBatchNorm2d one(torch::nn::BatchNorm2dOptions(2));
  SplitBatchNorm2d four(torch::nn::BatchNorm2dOptions(2));
  four->set_groups(4);
  EXPECT_GT(MaxAbsDiff(one->forward(x), four->forward(x)), 0.1);
  // Eval mode: the running statistics, whatever the groups (fresh modules: the training calls
  // above left different statistics).
  SplitBatchNorm2d one_eval(torch::nn::BatchNorm2dOptions(2));
  SplitBatchNorm2d four_eval(torch::nn::BatchNorm2dOptions(2));
  four_eval->set_groups(4);
  one_eval->eval();
  four_eval->eval();
  EXPECT_TRUE(at::equal(one_eval->forward(x), four_eval->forward(x)));
  EXPECT_THROW(four->forward(at::randn({6, 2, 3, 3})), c10::Error);
  EXPECT_THROW(four->set_groups(0), c10::Error);
}

TEST(SplitBatchNormTest, ScopedGroupsReachNestedModulesAndReset) {
  // Nested: one directly, one inside a Sequential.
  torch::nn::ModuleList net(
      SplitBatchNorm2d(torch::nn::BatchNorm2dOptions(2)),
      torch::nn::Sequential(SplitBatchNorm2d(torch::nn::BatchNorm2dOptions(2))));
  auto groups = [&] {
    std::vector<int64_t> out;
    for (const auto& m : net->modules()) {
      if (auto* bn = m->as<SplitBatchNorm2dImpl>()) out.push_back(bn->groups());
    }
    return out;
  };
  {
    ScopedBatchNormGroups scoped(*net, 4);
    EXPECT_EQ(groups(), (std::vector<int64_t>{4, 4}));
  }
  EXPECT_EQ(groups(), (std::vector<int64_t>{1, 1}));
}

}  // namespace
}  // namespace mochi::models
