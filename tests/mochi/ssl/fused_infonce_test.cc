#include "mochi/ssl/fused_infonce.h"

#include <string>
#include <vector>

#include "ATen/ATen.h"
#include "ATen/CPUGeneratorImpl.h"
#include "gtest/gtest.h"
#include "mochi/ssl/moco.h"

namespace mochi::ssl {
namespace {

at::Tensor UnitRows(int64_t rows, int64_t dim, at::ScalarType dtype) {
  const at::Tensor x = at::randn({rows, dim}, at::TensorOptions().dtype(dtype));
  return x / x.norm(2, 1, true);
}

struct HeadRun {
  ContrastiveLoss out;
  at::Tensor grad_q;
};

// ComputeContrastiveLoss with `tile_rows` (0 = the materialised reference) on a fresh copy of q
// and a generator seeded alike, so both heads get the same draws.
HeadRun RunHead(const at::Tensor& q, const at::Tensor& k, const at::Tensor& queue, double tau,
                const MixingOptions* mixing, int64_t tile_rows) {
  const at::Tensor leaf = q.clone().requires_grad_(true);
  HeadRun run;
  run.out = ComputeContrastiveLoss(leaf, k, queue, tau, mixing,
                                   at::make_generator<at::CPUGeneratorImpl>(7), tile_rows);
  run.out.loss.backward();
  run.grad_q = leaf.grad();
  return run;
}

double MaxAbsDiff(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

struct Case {
  std::string name;
  int64_t batch, queue_size, dim, tile_rows;
  bool mixing;
  MixingOptions options;
};

// float64, random unit vectors: value, gradient, draws and the proxy-accuracy flags of the fused
// head equal the materialised head's, for tiles that do not divide K, N = K, s' = 0 and s = 0.
TEST(FusedInfoNceTest, EqualsTheMaterialisedHeadInFloat64) {
  const std::vector<Case> cases = {
      {"MoCo-v2, K % T != 0", 6, 50, 8, 7, false, {}},
      {"MoCo-v2, one tile larger than K", 6, 50, 8, 64, false, {}},
      {"MoCHi, K % T != 0", 6, 50, 8, 7, true, {10, 12, 5}},
      {"MoCHi, N = K", 5, 23, 4, 6, true, {23, 9, 4}},
      {"MoCHi, N > T", 5, 40, 4, 3, true, {16, 9, 4}},
      {"MoCHi, s' = 0", 6, 50, 8, 7, true, {10, 12, 0}},
      {"MoCHi, s = 0", 6, 50, 8, 7, true, {10, 0, 5}},
      {"MoCHi, random selection",
       6,
       50,
       8,
       7,
       true,
       {10, 12, 5, 0.5, false, MixingSelection::kRandom}},
      {"MoCHi, b up to 1", 4, 33, 5, 8, true, {8, 6, 6, 1.0}},
  };
  at::manual_seed(3);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const at::Tensor q = UnitRows(c.batch, c.dim, at::kDouble);
    const at::Tensor k = UnitRows(c.batch, c.dim, at::kDouble);
    const at::Tensor queue = UnitRows(c.queue_size, c.dim, at::kDouble);
    const MixingOptions* mixing = c.mixing ? &c.options : nullptr;
    const HeadRun reference = RunHead(q, k, queue, 0.2, mixing, /*tile_rows=*/0);
    const HeadRun fused = RunHead(q, k, queue, 0.2, mixing, c.tile_rows);
    EXPECT_FALSE(fused.out.logits.defined());
    EXPECT_NEAR(fused.out.loss.item<double>(), reference.out.loss.item<double>(), 1e-12);
    EXPECT_LT(MaxAbsDiff(fused.grad_q, reference.grad_q), 1e-12);
    EXPECT_GT(reference.grad_q.abs().max().item<double>(), 1e-3);
    EXPECT_TRUE(at::equal(fused.out.positive_is_top, reference.out.positive_is_top));
    EXPECT_TRUE(at::equal(fused.out.positive_is_top_real, reference.out.positive_is_top_real));
    ASSERT_EQ(fused.out.draws.has_value(), c.mixing);
    if (c.mixing) {
      EXPECT_TRUE(at::equal(fused.out.draws->hardest, reference.out.draws->hardest));
    }
  }
}

// The proxy flags where the positive is not the top: a query whose positive is far, and a
// synthetic negative above the positive (b near 1 puts h' next to q).
TEST(FusedInfoNceTest, ProxyFlagsFollowTheArgmax) {
  at::manual_seed(5);
  const at::Tensor q = UnitRows(16, 6, at::kDouble);
  const at::Tensor k = at::cat({q.slice(0, 0, 8), -q.slice(0, 8, 16)});  // half far positives
  const at::Tensor queue = UnitRows(30, 6, at::kDouble);
  const MixingOptions options{4, 3, 3, 0.99};
  const HeadRun reference = RunHead(q, k, queue, 0.2, &options, 0);
  const HeadRun fused = RunHead(q, k, queue, 0.2, &options, 4);
  EXPECT_TRUE(at::equal(fused.out.positive_is_top, reference.out.positive_is_top));
  EXPECT_TRUE(at::equal(fused.out.positive_is_top_real, reference.out.positive_is_top_real));
  // Both outcomes occur, so the flags are not vacuous.
  EXPECT_GT(reference.out.positive_is_top_real.sum().item<int64_t>(), 0);
  EXPECT_LT(reference.out.positive_is_top_real.sum().item<int64_t>(), 16);
}

// float32 on the CPU (the training path: MKL products, CPU coefficient loop, RowTopN), at the
// default profile's shapes: equal within float rounding, the same hardest sets.
TEST(FusedInfoNceTest, FloatAtTrainingShapesMatchesWithinRounding) {
  at::manual_seed(11);
  const at::Tensor q = UnitRows(64, 128, at::kFloat);
  const at::Tensor k = UnitRows(64, 128, at::kFloat);
  const at::Tensor queue = UnitRows(4096 + 100, 128, at::kFloat);
  const MixingOptions options{256, 512, 128};
  for (const int64_t tile_rows : {1000, 8192}) {
    SCOPED_TRACE(tile_rows);
    const HeadRun reference = RunHead(q, k, queue, 0.1, &options, 0);
    const HeadRun fused = RunHead(q, k, queue, 0.1, &options, tile_rows);
    EXPECT_NEAR(fused.out.loss.item<double>(), reference.out.loss.item<double>(), 1e-5);
    EXPECT_LT(MaxAbsDiff(fused.grad_q, reference.grad_q),
              1e-4 * reference.grad_q.abs().max().item<double>());
    EXPECT_TRUE(at::equal(fused.out.draws->hardest, reference.out.draws->hardest));
  }
}

TEST(FusedInfoNceTest, NoGradientWhenQDoesNotNeedOne) {
  const at::Tensor q = UnitRows(4, 3, at::kFloat);
  const FusedInfoNce out =
      ComputeFusedInfoNce(q, q, UnitRows(9, 3, at::kFloat), 0.2, nullptr, nullptr, 4);
  EXPECT_FALSE(out.loss.requires_grad());
  EXPECT_TRUE(std::isfinite(out.loss.item<double>()));
}

TEST(FusedInfoNceTest, FailsOnNanSimilaritiesWhenMixing) {
  at::Tensor q = UnitRows(4, 3, at::kFloat);
  q[2][1] = std::nan("");
  for (const MixingSelection selection : {MixingSelection::kHardest, MixingSelection::kRandom}) {
    MixingOptions options{2, 2, 1, 0.5, false, selection};
    EXPECT_THROW(
        RunHead(q, UnitRows(4, 3, at::kFloat), UnitRows(9, 3, at::kFloat), 0.2, &options, 4),
        c10::Error);
  }
}

TEST(FusedInfoNceTest, RejectsBadArguments) {
  const at::Tensor q = UnitRows(4, 3, at::kFloat);
  const at::Tensor queue = UnitRows(9, 3, at::kFloat);
  EXPECT_THROW(ComputeFusedInfoNce(q, q, queue, 0.2, nullptr, nullptr, 0), c10::Error);
  EXPECT_THROW(ComputeFusedInfoNce(q, q, queue.slice(1, 0, 2), 0.2, nullptr, nullptr, 4),
               c10::Error);
  MixingOptions too_many{10, 2, 1};
  MixingDraws draws = DrawMixingBeforeSelection(4, 9, {9, 2, 1}, c10::nullopt, at::kCPU);
  EXPECT_THROW(ComputeFusedInfoNce(q, q, queue, 0.2, &too_many, &draws, 4), c10::Error);
  MixingOptions through{2, 2, 1, 0.5, /*gradient_through_synthetic=*/true};
  EXPECT_THROW(ComputeFusedInfoNce(q, q, queue, 0.2, &through, &draws, 4), c10::Error);
}

}  // namespace
}  // namespace mochi::ssl
