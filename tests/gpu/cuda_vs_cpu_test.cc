// CUDA against CPU on the same tensors: the mixing (CUDA takes the reference tensor path, CPU the
// fast scalar form), the streamed loss head, one MoCo step from the same weights and batch, the linear probe, RoIAlign
// and NMS. Run by tools/gpu_check.sh on a GPU machine; skipped where no CUDA device is present.
#include <cmath>
#include <memory>
#include <utility>
#include <vector>

#include "ATen/ATen.h"
#include "ATen/CPUGeneratorImpl.h"
#include "eval/detection/nms.h"
#include "eval/detection/roi_align.h"
#include "eval/lincls/linear_probe.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/engine/builders.h"
#include "mochi/port/device.h"
#include "mochi/port/text_proto.h"
#include "mochi/ssl/hard_negative_mixing.h"
#include "mochi/ssl/moco.h"
#include "tests/testing/status_matchers.h"
#include "torch/cuda.h"
#include "torch/optim/sgd.h"

namespace mochi {
namespace {

class CudaVsCpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<c10::Device> device = ResolveDevice("cuda");
    if (!device.ok()) GTEST_SKIP() << device.status().message();
    cuda_ = *device;
  }
  c10::Device cuda_{c10::kCPU};
};

double MaxAbsDiff(const at::Tensor& a, const at::Tensor& b) {
  return (a.cpu().to(at::kDouble) - b.cpu().to(at::kDouble)).abs().max().item<double>();
}

// The same draws on both devices (counter-based, device-independent), so the synthetic logits
// must agree up to float32 rounding; gradients through q too.
TEST_F(CudaVsCpuTest, SyntheticLogitsAndTheirGradientMatch) {
  torch::manual_seed(1);
  const int64_t batch = 64, dim = 128, k = 4096;
  at::Tensor q_cpu = at::randn({batch, dim});
  q_cpu = q_cpu / q_cpu.norm(2, 1, true);
  at::Tensor queue_cpu = at::randn({k, dim});
  queue_cpu = queue_cpu / queue_cpu.norm(2, 1, true);
  ssl::MixingOptions options;
  options.num_hardest = 1024;
  options.num_mixed_pairs = 512;
  options.num_query_mixed = 256;
  std::vector<at::Tensor> logits, grads;
  for (const c10::Device& device : {c10::Device(c10::kCPU), cuda_}) {
    const at::Tensor q = q_cpu.to(device).requires_grad_(true);
    const at::Tensor queue = queue_cpu.to(device);
    const at::Tensor similarity = at::matmul(q, queue.t());
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(5);
    const ssl::MixingDraws draws = ssl::DrawMixing(similarity, options, generator);
    const at::Tensor l = ssl::SyntheticLogits(q, queue, similarity, draws, 0.2, options);
    l.sum().backward();
    logits.push_back(l.detach());
    grads.push_back(q.grad());
  }
  EXPECT_LT(MaxAbsDiff(logits[0], logits[1]), 1e-3);  // logits ~ 1/tau = 5: float32 rounding
  EXPECT_LT(MaxAbsDiff(grads[0], grads[1]), 1e-2);
}

// The streamed loss head (tiles that do not divide K) on CUDA takes the generic tensor path
// (cat + topk merge, gathered rows); on the CPU the streamed top-N and the scalar loops. Loss and
// gradient agree up to float32 rounding, and on CUDA it agrees with the materialised head.
TEST_F(CudaVsCpuTest, StreamedLossHeadMatches) {
  torch::manual_seed(2);
  const int64_t batch = 64, dim = 128, k = 5000;
  auto unit = [](at::Tensor x) { return x / x.norm(2, 1, true); };
  const at::Tensor q_cpu = unit(at::randn({batch, dim}));
  const at::Tensor k_cpu = unit(at::randn({batch, dim}));
  const at::Tensor queue_cpu = unit(at::randn({k, dim}));
  ssl::MixingOptions options;
  options.num_hardest = 256;
  options.num_mixed_pairs = 512;
  options.num_query_mixed = 128;
  std::vector<double> losses;
  std::vector<at::Tensor> grads;
  for (const auto& [device, tile_rows] : {std::pair{c10::Device(c10::kCPU), int64_t{1024}},
                                          std::pair{cuda_, int64_t{1024}},
                                          std::pair{cuda_, int64_t{0}}}) {
    const at::Tensor q = q_cpu.to(device).requires_grad_(true);
    const ssl::ContrastiveLoss loss = ssl::ComputeContrastiveLoss(
        q, k_cpu.to(device), queue_cpu.to(device), 0.2, &options,
        at::make_generator<at::CPUGeneratorImpl>(5), tile_rows);
    loss.loss.backward();
    losses.push_back(loss.loss.item<double>());
    grads.push_back(q.grad());
  }
  EXPECT_NEAR(losses[1], losses[0], 1e-4);
  EXPECT_NEAR(losses[2], losses[1], 1e-4);
  EXPECT_LT(MaxAbsDiff(grads[1], grads[0]), 1e-4);
  EXPECT_LT(MaxAbsDiff(grads[2], grads[1]), 1e-4);
}

// One MoCo(HI) step from the same weights, queue and batch on CPU and on CUDA: the loss and the
// updated query weights agree within what cuDNN's and MKL's different summation orders give.
TEST_F(CudaVsCpuTest, OneMocoStepMatchesTheCpuStep) {
  proto::PretrainConfig config;
  MOCHI_ASSERT_OK(ParseTextProto(
      "run { name: 'gpu_check' profile: DEFAULT } "
      "backbone { architecture: RESNET18 stem: SMALL_INPUT_STRIDE2 width: 16 in_channels: 1 } "
      "head { mlp: true output_dim: 128 } "
      "moco { queue_size: 4096 momentum: 0.99 temperature: 0.2 bn_groups: 4 "
      "       mixing { num_hardest: 1024 num_mixed_pairs: 512 num_query_mixed: 256 } } "
      "augmentation { crop_size: 28 } batch_size: 128 epochs: 1",
      "gpu_check", &config));
  torch::manual_seed(0);
  absl::StatusOr<ssl::Moco> cpu = BuildMoco(config);
  MOCHI_ASSERT_OK(cpu);
  absl::StatusOr<ssl::Moco> gpu = BuildMoco(config);
  MOCHI_ASSERT_OK(gpu);
  {  // same weights and buffers (the queue included)
    torch::NoGradGuard no_grad;
    const auto from = (*cpu)->named_parameters();
    for (auto& p : (*gpu)->named_parameters()) p.value().copy_(from[p.key()]);
    const auto from_buffers = (*cpu)->named_buffers();
    for (auto& b : (*gpu)->named_buffers()) b.value().copy_(from_buffers[b.key()]);
  }
  (*gpu)->to(cuda_);
  const std::unique_ptr<ssl::MixingOptions> mixing = BuildMixingOptions(config.moco());
  const at::Tensor im_q = at::randn({128, 1, 28, 28});
  const at::Tensor im_k = at::randn({128, 1, 28, 28});
  std::vector<double> losses;
  std::vector<at::Tensor> weights;
  for (ssl::Moco* model : {&*cpu, &*gpu}) {
    const c10::Device device = (*model)->queue.device();
    torch::optim::SGD sgd((*model)->encoder_q->parameters(), torch::optim::SGDOptions(0.1));
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(11);
    torch::manual_seed(3);  // the BN-group key shuffle draws from the CPU generator
    (*model)->MomentumUpdate();
    ssl::MocoImpl::Output out =
        (*model)->forward(im_q.to(device), im_k.to(device), mixing.get(), generator);
    sgd.zero_grad();
    out.loss.backward();
    sgd.step();
    losses.push_back(out.loss.item<double>());
    weights.push_back((*model)->encoder_q->backbone->parameters()[0].detach().cpu());
  }
  EXPECT_NEAR(losses[0], losses[1], 1e-3 * std::abs(losses[0]));
  EXPECT_LT(MaxAbsDiff(weights[0], weights[1]), 1e-4);
}

TEST_F(CudaVsCpuTest, RoiAlignAndNmsMatch) {
  torch::manual_seed(2);
  const at::Tensor features = at::randn({2, 8, 32, 32});
  const at::Tensor xy = at::rand({64, 2}) * 24;
  const at::Tensor wh = at::rand({64, 2}) * 8 + 0.5;
  const at::Tensor batch_index = at::randint(2, {64, 1}).to(at::kFloat);
  const at::Tensor rois = at::cat({batch_index, xy, xy + wh}, 1);
  eval::detection::RoiAlignOptions options;
  options.output_height = 7;
  options.output_width = 7;
  absl::StatusOr<at::Tensor> cpu = eval::detection::RoiAlign(features, rois, options);
  absl::StatusOr<at::Tensor> gpu =
      eval::detection::RoiAlign(features.to(cuda_), rois.to(cuda_), options);
  MOCHI_ASSERT_OK(cpu);
  MOCHI_ASSERT_OK(gpu);
  EXPECT_TRUE(gpu->is_cuda());
  EXPECT_LT(MaxAbsDiff(*cpu, *gpu), 1e-5);

  const at::Tensor boxes = at::cat({xy, xy + wh}, 1);
  const at::Tensor scores = at::rand({64});
  absl::StatusOr<at::Tensor> keep_cpu = eval::detection::Nms(boxes, scores, 0.5);
  absl::StatusOr<at::Tensor> keep_gpu = eval::detection::Nms(boxes.to(cuda_), scores.to(cuda_), 0.5);
  MOCHI_ASSERT_OK(keep_cpu);
  MOCHI_ASSERT_OK(keep_gpu);
  EXPECT_TRUE(at::equal(*keep_cpu, keep_gpu->cpu()));
}

// The probe starts from CPU-drawn weights on both devices and sees the same batches, so its
// loss curve and accuracy agree up to float32 rounding over a few epochs.
TEST_F(CudaVsCpuTest, LinearProbeMatchesTheCpuProbe) {
  torch::manual_seed(3);
  const int64_t classes = 4, dim = 32;
  const at::Tensor centers = at::randn({classes, dim}) * 2;
  const at::Tensor train_y = at::randint(classes, {512}, at::kLong);
  const at::Tensor test_y = at::randint(classes, {256}, at::kLong);
  const at::Tensor train_x = centers.index_select(0, train_y) + at::randn({512, dim});
  const at::Tensor test_x = centers.index_select(0, test_y) + at::randn({256, dim});
  eval::LinearProbeOptions options;
  options.epochs = 5;
  options.batch_size = 64;
  options.lr = 0.5;
  options.milestones = {3};
  std::vector<eval::LinearProbeResult> results;
  for (const c10::Device& device : {c10::Device(c10::kCPU), cuda_}) {
    options.device = device;
    absl::StatusOr<eval::LinearProbeResult> result =
        eval::TrainLinearProbe(train_x, train_y, test_x, test_y, classes, options);
    MOCHI_ASSERT_OK(result);
    results.push_back(*result);
  }
  ASSERT_EQ(results[0].epoch_loss.size(), results[1].epoch_loss.size());
  for (size_t e = 0; e < results[0].epoch_loss.size(); ++e) {
    EXPECT_NEAR(results[0].epoch_loss[e], results[1].epoch_loss[e], 1e-4) << "epoch " << e;
  }
  // One test row of 256 may flip where two logits tie within rounding.
  EXPECT_NEAR(results[0].top1, results[1].top1, 1.0 / 256 + 1e-12);
}

}  // namespace
}  // namespace mochi
