#include "mochi/ssl/hard_negative_mixing.h"

#include <cmath>

#include "ATen/ATen.h"
#include "ATen/CPUGeneratorImpl.h"
#include "ATen/Parallel.h"
#include "gtest/gtest.h"

namespace mochi::ssl {
namespace {

at::Tensor Long(std::vector<int64_t> values, std::vector<int64_t> shape) {
  return at::tensor(values, at::kLong).reshape(shape);
}
// L2-normalises rows.
at::Tensor Normalize(const at::Tensor& x) { return x / x.norm(2, 1, true); }

at::Tensor Float(std::vector<float> values, std::vector<int64_t> shape) {
  return at::tensor(values, at::kFloat).reshape(shape);
}

// Hand-made 2-D example. q = (1, 0); queue n0 = (.6, .8), n1 = (.8, .6), n2 = (0, 1), n3 = (-1, 0),
// so q.n = (.6, .8, 0, -1) and the top-2 are n1 then n0.
struct HandExample {
  at::Tensor q = Float({1, 0}, {1, 2});
  at::Tensor queue = Float({.6f, .8f, .8f, .6f, 0, 1, -1, 0}, {4, 2});
  MixingOptions options{/*num_hardest=*/2, /*num_mixed_pairs=*/1, /*num_query_mixed=*/1};
  MixingDraws Draws() const {
    MixingDraws d;
    d.hardest = Long({1, 0}, {1, 2});
    d.pair_first = Long({0}, {1, 1});   // n1
    d.pair_second = Long({1}, {1, 1});  // n0
    d.pair_weight = Float({0.5f}, {1, 1});
    d.query_partner = Long({0}, {1, 1});  // n1
    d.query_weight = Float({0.25f}, {1, 1});
    return d;
  }
};

TEST(HardNegativeMixingTest, HandComputedLogits) {
  HandExample ex;
  const at::Tensor similarity = at::matmul(ex.q, ex.queue.t());
  const at::Tensor logits =
      SyntheticLogits(ex.q, ex.queue, similarity, ex.Draws(), /*temperature=*/0.5, ex.options);
  ASSERT_EQ(logits.sizes(), (at::IntArrayRef{1, 2}));
  // h = normalize(.5 (.8,.6) + .5 (.6,.8)) = (1,1)/sqrt(2); q.h / tau = 0.70711 / 0.5.
  EXPECT_NEAR(logits[0][0].item<float>(), 1.414214f, 1e-5);
  // h' = normalize(.25 (1,0) + .75 (.8,.6)) = (.85,.45)/sqrt(.925); q.h' / tau = .883792 / .5.
  EXPECT_NEAR(logits[0][1].item<float>(), 1.767584f, 1e-5);
}

TEST(HardNegativeMixingTest, HandComputedVectorsHaveUnitNorm) {
  HandExample ex;
  const SyntheticNegatives h = BuildSyntheticNegatives(ex.q, ex.queue, ex.Draws(), ex.options);
  EXPECT_NEAR(h.pair_mixed[0][0][0].item<float>(), 0.7071068f, 1e-6);
  EXPECT_NEAR(h.pair_mixed[0][0][1].item<float>(), 0.7071068f, 1e-6);
  EXPECT_NEAR(h.query_mixed[0][0][0].item<float>(), 0.85f / std::sqrt(0.925f), 1e-6);
  EXPECT_NEAR(h.query_mixed[0][0][1].item<float>(), 0.45f / std::sqrt(0.925f), 1e-6);
}

// Review 1's identity: before normalisation q.h~' = b + (1-b) q.n_j.
TEST(HardNegativeMixingTest, QueryMixingIdentityBeforeNormalisation) {
  at::manual_seed(3);
  const at::Tensor q = Normalize(at::randn({5, 16}));
  const at::Tensor n = Normalize(at::randn({5, 16}));
  const at::Tensor b = at::rand({5, 1}) * 0.5;
  const at::Tensor unnormalised = b * q + (1 - b) * n;
  const at::Tensor lhs = (q * unnormalised).sum(1);
  const at::Tensor rhs = b.squeeze(1) + (1 - b.squeeze(1)) * (q * n).sum(1);
  EXPECT_TRUE(at::allclose(lhs, rhs, 1e-5, 1e-6));
}

struct RandomProblem {
  int64_t batch = 6, dim = 16, queue_size = 64;
  MixingOptions options{/*num_hardest=*/8, /*num_mixed_pairs=*/12, /*num_query_mixed=*/5};
  at::Tensor q, queue;
  explicit RandomProblem(int64_t dim_ = 16) : dim(dim_) {
    at::manual_seed(7);
    q = Normalize(at::randn({batch, dim}));
    queue = Normalize(at::randn({queue_size, dim}));
  }
};

TEST(HardNegativeMixingTest, DrawsComeFromTheTopN) {
  RandomProblem p;
  const at::Tensor similarity = at::matmul(p.q, p.queue.t());
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(11);
  const MixingDraws d = DrawMixing(similarity, p.options, gen);
  ASSERT_EQ(d.hardest.sizes(), (at::IntArrayRef{p.batch, 8}));
  // The same set per row as a full sort's first 8 (DrawMixing does not order it).
  const at::Tensor expected = std::get<1>(similarity.sort(1, /*descending=*/true)).slice(1, 0, 8);
  EXPECT_TRUE(at::equal(std::get<0>(d.hardest.sort(1)), std::get<0>(expected.sort(1))));
  EXPECT_EQ(d.pair_first.sizes(), (at::IntArrayRef{p.batch, 12}));
  EXPECT_EQ(d.query_partner.sizes(), (at::IntArrayRef{p.batch, 5}));
  EXPECT_GE(d.pair_first.min().item<int64_t>(), 0);
  EXPECT_LT(d.pair_second.max().item<int64_t>(), 8);
  EXPECT_GE(d.pair_weight.min().item<float>(), 0.f);
  EXPECT_LT(d.pair_weight.max().item<float>(), 1.f);
  EXPECT_GE(d.query_weight.min().item<float>(), 0.f);
  EXPECT_LT(d.query_weight.max().item<float>(), 0.5f);  // b < 0.5
}

TEST(HardNegativeMixingTest, DrawsAreReproducibleFromTheGeneratorSeed) {
  RandomProblem p;
  const at::Tensor similarity = at::matmul(p.q, p.queue.t());
  const MixingDraws a = DrawMixing(similarity, p.options, at::make_generator<at::CPUGeneratorImpl>(5));
  const MixingDraws b = DrawMixing(similarity, p.options, at::make_generator<at::CPUGeneratorImpl>(5));
  const MixingDraws c = DrawMixing(similarity, p.options, at::make_generator<at::CPUGeneratorImpl>(6));
  EXPECT_TRUE(at::equal(a.pair_first, b.pair_first));
  EXPECT_TRUE(at::equal(a.query_weight, b.query_weight));
  EXPECT_FALSE(at::equal(a.pair_weight, c.pair_weight));
}

TEST(HardNegativeMixingTest, SyntheticVectorsAreUnitNormAndBuiltFromTheTopN) {
  RandomProblem p;
  const at::Tensor similarity = at::matmul(p.q, p.queue.t());
  const MixingDraws d = DrawMixing(similarity, p.options, at::make_generator<at::CPUGeneratorImpl>(1));
  const SyntheticNegatives h = BuildSyntheticNegatives(p.q, p.queue, d, p.options);
  EXPECT_TRUE(at::allclose(h.pair_mixed.norm(2, -1), at::ones({p.batch, 12}), 1e-5, 1e-6));
  EXPECT_TRUE(at::allclose(h.query_mixed.norm(2, -1), at::ones({p.batch, 5}), 1e-5, 1e-6));
  // Recompute one synthetic point by hand from its draws.
  const int64_t b = 2, k = 3;
  const int64_t i = d.hardest[b][d.pair_first[b][k].item<int64_t>()].item<int64_t>();
  const int64_t j = d.hardest[b][d.pair_second[b][k].item<int64_t>()].item<int64_t>();
  const float a = d.pair_weight[b][k].item<float>();
  at::Tensor expected = a * p.queue[i] + (1 - a) * p.queue[j];
  expected = expected / expected.norm();
  EXPECT_TRUE(at::allclose(h.pair_mixed[b][k], expected, 1e-5, 1e-6));
  EXPECT_FALSE(h.pair_mixed.requires_grad());
}

// The fast scalar form must equal the vector form in value and in gradient w.r.t. q. Float on
// the CPU runs the fused coefficient loop (dim 13 also runs its tail past the 8 lanes); double
// runs the tensor-operation form that other devices use.
TEST(HardNegativeMixingTest, FastFormMatchesVectorFormInValueAndGradient) {
  for (const int64_t dim : {16, 13}) {
    for (const at::ScalarType dtype : {at::kFloat, at::kDouble}) {
      RandomProblem p(dim);
      p.q = p.q.to(dtype);
      p.queue = p.queue.to(dtype);
      const MixingDraws d = DrawMixing(at::matmul(p.q, p.queue.t()), p.options,
                                       at::make_generator<at::CPUGeneratorImpl>(2));
      const at::Tensor upstream = at::randn({p.batch, 17}, dtype);

      at::Tensor q_fast = p.q.clone().requires_grad_(true);
      const at::Tensor fast =
          SyntheticLogits(q_fast, p.queue, at::matmul(q_fast, p.queue.t()), d, 0.2, p.options);
      (fast * upstream).sum().backward();

      at::Tensor q_vec = p.q.clone().requires_grad_(true);
      const at::Tensor vec = SyntheticLogitsFromVectors(
          q_vec, BuildSyntheticNegatives(q_vec, p.queue, d, p.options), 0.2);
      (vec * upstream).sum().backward();

      SCOPED_TRACE(testing::Message() << "dim " << dim << " dtype " << dtype);
      ASSERT_EQ(fast.sizes(), (at::IntArrayRef{p.batch, 17}));
      EXPECT_EQ(fast.scalar_type(), dtype);
      EXPECT_TRUE(at::allclose(fast, vec, 1e-4, 1e-5)) << (fast - vec).abs().max();
      EXPECT_TRUE(at::allclose(q_fast.grad(), q_vec.grad(), 1e-4, 1e-5))
          << (q_fast.grad() - q_vec.grad()).abs().max();
    }
  }
}

// The draws are a counter-based hash of one number from the generator: the same for any thread
// count, different for the next call, and different between the five streams.
TEST(HardNegativeMixingTest, DrawsDoNotDependOnTheThreadCount) {
  MixingOptions options{/*num_hardest=*/1024, /*num_mixed_pairs=*/512, /*num_query_mixed=*/256};
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const MixingDraws one =
      DrawMixingWeights(128, options, at::make_generator<at::CPUGeneratorImpl>(9), at::kCPU);
  at::set_num_threads(2);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(9);
  const MixingDraws two = DrawMixingWeights(128, options, gen, at::kCPU);
  const MixingDraws next = DrawMixingWeights(128, options, gen, at::kCPU);
  at::set_num_threads(threads);
  EXPECT_TRUE(at::equal(one.pair_first, two.pair_first));
  EXPECT_TRUE(at::equal(one.pair_second, two.pair_second));
  EXPECT_TRUE(at::equal(one.pair_weight, two.pair_weight));
  EXPECT_TRUE(at::equal(one.query_partner, two.query_partner));
  EXPECT_TRUE(at::equal(one.query_weight, two.query_weight));
  EXPECT_FALSE(at::equal(two.pair_first, next.pair_first));
  EXPECT_FALSE(at::equal(two.pair_first, two.pair_second));
  EXPECT_FALSE(at::equal(two.pair_first.narrow(1, 0, 256), two.query_partner));
}

// Uniformity, with bounds at 5 standard deviations of each statistic (fixed seed).
TEST(HardNegativeMixingTest, DrawsAreUniform) {
  const int64_t batch = 1024, s = 512, n = 8;
  MixingOptions options{n, s, /*num_query_mixed=*/s};
  const MixingDraws d =
      DrawMixingWeights(batch, options, at::make_generator<at::CPUGeneratorImpl>(3), at::kCPU);
  const double draws = static_cast<double>(batch * s);
  // a ~ U(0, 1): mean 1/2, variance 1/12; b ~ U(0, 0.5): mean 1/4, variance 1/48.
  EXPECT_NEAR(d.pair_weight.mean().item<double>(), 0.5, 5 * std::sqrt(1.0 / 12 / draws));
  EXPECT_NEAR(d.query_weight.mean().item<double>(), 0.25, 5 * std::sqrt(1.0 / 48 / draws));
  EXPECT_GE(d.pair_weight.min().item<float>(), 0.f);
  EXPECT_LT(d.pair_weight.max().item<float>(), 1.f);
  EXPECT_LT(d.query_weight.max().item<float>(), 0.5f);
  // Each position in [0, n) drawn draws / n times, binomial standard deviation.
  const double expected = draws / n;
  const double sd = std::sqrt(draws * (1.0 / n) * (1 - 1.0 / n));
  for (const at::Tensor& positions : {d.pair_first, d.pair_second, d.query_partner}) {
    const at::Tensor counts = at::bincount(positions.reshape(-1));
    ASSERT_EQ(counts.numel(), n);
    for (int64_t i = 0; i < n; ++i) {
      EXPECT_NEAR(counts[i].item<double>(), expected, 5 * sd) << "position " << i;
    }
  }
  // a and the pair positions come from different streams: uncorrelated.
  const at::Tensor a = d.pair_weight.reshape(-1).to(at::kDouble);
  const at::Tensor i = d.pair_first.reshape(-1).to(at::kDouble);
  const double correlation =
      ((a - a.mean()) * (i - i.mean())).mean().item<double>() / (a.std().item<double>() * i.std().item<double>());
  EXPECT_NEAR(correlation, 0.0, 5 / std::sqrt(draws));
}

// RANDOM ignores q.n: with negatives 0..N-1 the hardest of every row, each queue index is still
// selected by a row with probability N / K (bounds at 5 binomial standard deviations).
TEST(HardNegativeMixingTest, RandomSelectionIsUniformOverTheQueue) {
  const int64_t batch = 2048, k = 64, n = 8;
  MixingOptions options{n, /*num_mixed_pairs=*/4, /*num_query_mixed=*/2};
  options.selection = MixingSelection::kRandom;
  const at::Tensor similarity = -at::arange(k, at::kFloat).expand({batch, k}).contiguous();
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const MixingDraws one =
      DrawMixing(similarity, options, at::make_generator<at::CPUGeneratorImpl>(5));
  at::set_num_threads(2);
  const MixingDraws d = DrawMixing(similarity, options, at::make_generator<at::CPUGeneratorImpl>(5));
  at::set_num_threads(threads);
  EXPECT_TRUE(at::equal(one.hardest, d.hardest));

  ASSERT_EQ(d.hardest.size(0), batch);
  ASSERT_EQ(d.hardest.size(1), n);
  const at::Tensor sorted = std::get<0>(d.hardest.sort(1));
  EXPECT_GE(sorted.min().item<int64_t>(), 0);
  EXPECT_LT(sorted.max().item<int64_t>(), k);
  EXPECT_TRUE((sorted.narrow(1, 1, n - 1) > sorted.narrow(1, 0, n - 1)).all().item<bool>())
      << "indices repeat within a row";
  const at::Tensor counts = at::bincount(d.hardest.reshape(-1), {}, k);
  const double p = static_cast<double>(n) / k;
  const double sd = std::sqrt(batch * p * (1 - p));
  for (int64_t i = 0; i < k; ++i) {
    EXPECT_NEAR(counts[i].item<double>(), batch * p, 5 * sd) << "queue index " << i;
  }

  // Only `hardest` depends on the selection: the other draws are those of the top-N path.
  MixingOptions hardest_options = options;
  hardest_options.selection = MixingSelection::kHardest;
  const MixingDraws top =
      DrawMixing(similarity, hardest_options, at::make_generator<at::CPUGeneratorImpl>(5));
  EXPECT_TRUE(at::equal(std::get<0>(top.hardest.sort(1)), at::arange(n).expand({batch, n})));
  EXPECT_TRUE(at::equal(top.pair_first, d.pair_first));
  EXPECT_TRUE(at::equal(top.pair_second, d.pair_second));
  EXPECT_TRUE(at::equal(top.pair_weight, d.pair_weight));
  EXPECT_TRUE(at::equal(top.query_partner, d.query_partner));
  EXPECT_TRUE(at::equal(top.query_weight, d.query_weight));
}

TEST(HardNegativeMixingTest, RandomSelectionRejectsNaNSimilarities) {
  MixingOptions options{/*num_hardest=*/2, /*num_mixed_pairs=*/1, /*num_query_mixed=*/0};
  options.selection = MixingSelection::kRandom;
  at::Tensor similarity = at::zeros({2, 8});
  similarity[1][3] = std::nan("");
  EXPECT_THROW(DrawMixing(similarity, options, c10::nullopt), c10::Error);
}

TEST(HardNegativeMixingTest, GradientThroughSyntheticChangesTheGradient) {
  RandomProblem p;
  const MixingDraws d = DrawMixing(at::matmul(p.q, p.queue.t()), p.options,
                                   at::make_generator<at::CPUGeneratorImpl>(4));
  auto grad = [&](bool through) {
    MixingOptions options = p.options;
    options.gradient_through_synthetic = through;
    at::Tensor q = p.q.clone().requires_grad_(true);
    SyntheticLogits(q, p.queue, at::matmul(q, p.queue.t()), d, 0.2, options).sum().backward();
    return q.grad();
  };
  EXPECT_FALSE(at::allclose(grad(true), grad(false), 1e-3, 1e-4));
}

TEST(HardNegativeMixingTest, RejectsPairMixingWithFewerThanTwoHardest) {
  MixingOptions options{/*num_hardest=*/1, /*num_mixed_pairs=*/4, /*num_query_mixed=*/0};
  EXPECT_THROW(DrawMixing(at::randn({2, 8}), options, c10::nullopt), c10::Error);
}

}  // namespace
}  // namespace mochi::ssl
