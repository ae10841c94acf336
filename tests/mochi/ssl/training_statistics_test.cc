#include "mochi/ssl/training_statistics.h"

#include <cmath>
#include <string>
#include <vector>

#include "ATen/ATen.h"
#include "c10/util/Exception.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mochi::ssl {
namespace {

using ::testing::ElementsAre;
using ::testing::DoubleNear;
using ::testing::HasSubstr;

at::Tensor Long(std::vector<int64_t> values, std::vector<int64_t> shape) {
  return at::tensor(values, at::kLong).reshape(shape);
}
at::Tensor Float(std::vector<float> values, std::vector<int64_t> shape) {
  return at::tensor(values, at::kFloat).reshape(shape);
}
at::Tensor Double(std::vector<double> values, std::vector<int64_t> shape) {
  return at::tensor(values, at::kDouble).reshape(shape);
}

// Draws with the given shapes whose every position is 0 (for tests that only need the synthetic
// column count to match).
MixingDraws ZeroDraws(int64_t batch, int64_t n, int64_t s, int64_t s_query) {
  MixingDraws d;
  d.hardest = at::zeros({batch, n}, at::kLong);
  d.pair_first = at::zeros({batch, s}, at::kLong);
  d.pair_second = at::zeros({batch, s}, at::kLong);
  d.pair_weight = at::full({batch, s}, 0.5, at::kFloat);
  d.query_partner = at::zeros({batch, s_query}, at::kLong);
  d.query_weight = at::full({batch, s_query}, 0.25, at::kFloat);
  return d;
}

// Runs `fn`, expects a c10::Error whose message contains `needle`.
template <typename Fn>
void ExpectError(Fn fn, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "expected a c10::Error containing \"" << needle << "\"";
  } catch (const c10::Error& e) {
    EXPECT_THAT(std::string(e.what_without_backtrace()), HasSubstr(needle));
  }
}

// ---------------------------------------------------------------------------------------------
// Proxy-task accuracy.

// K = 2, s = 1, s' = 1: columns [pos, n1, n2, h, h'].
//   q0: positive beats everything                       -> wins with and without synthetic.
//   q1: the pair-mixed column h (4) beats the positive (3) -> loses with, wins without.
//   q2: real negative n1 (2) beats the positive (1)     -> loses both.
TEST(ContrastiveStatisticsTest, ProxyAccuracyWithAndWithoutSynthetic) {
  const at::Tensor logits = Float({5, 1, 2, 0, 0,  //
                                   3, 1, 2, 4, 0,  //
                                   1, 2, 0, 0, 0},
                                  {3, 5});
  const MixingDraws draws = ZeroDraws(3, /*n=*/2, /*s=*/1, /*s_query=*/1);
  const ContrastiveStatistics stats = ComputeContrastiveStatistics(
      logits, /*queue_size=*/2, at::Tensor(), at::Tensor(), &draws, /*top_k=*/2);
  EXPECT_DOUBLE_EQ(stats.proxy_accuracy, 1.0 / 3);
  EXPECT_DOUBLE_EQ(stats.proxy_accuracy_without_synthetic, 2.0 / 3);
}

// The last (query-mixed) column is part of the synthetic set, and a tie is not a win.
//   q0: h' (6) beats the positive (5)   -> loses with, wins without.
//   q1: n2 ties the positive (2 == 2)   -> loses both.
TEST(ContrastiveStatisticsTest, ProxyAccuracyLastColumnAndTies) {
  const at::Tensor logits = Float({5, 1, 2, 0, 6,  //
                                   2, 1, 2, 0, 0},
                                  {2, 5});
  const MixingDraws draws = ZeroDraws(2, 2, 1, 1);
  const ContrastiveStatistics stats =
      ComputeContrastiveStatistics(logits, 2, at::Tensor(), at::Tensor(), &draws, 2);
  EXPECT_DOUBLE_EQ(stats.proxy_accuracy, 0.0);
  EXPECT_DOUBLE_EQ(stats.proxy_accuracy_without_synthetic, 0.5);
}

// ---------------------------------------------------------------------------------------------
// Hardness profile.

// K = 3 plus one synthetic column of logit 10 that must not enter the softmax.
//   q0 real logits log(4, 2, 1, 1) + 7: softmax = (4, 2, 1, 1) / 8 = (.5, .25, .125, .125);
//      negatives sorted: (.25, .125, .125).
//   q1 real logits log(1, 2, 3, 2):      softmax = (1, 2, 3, 2) / 8 = (.125, .25, .375, .25);
//      negatives (.25, .375, .25) sorted: (.375, .25, .25).
//   Average over queries: (.3125, .1875, .1875).
// (Averaging before sorting would give (.25, .25, .1875); keeping the synthetic column in the
// softmax would shrink everything by ~e^10.)
TEST(ContrastiveStatisticsTest, TopProbabilityProfileByHand) {
  const double shift = 7;
  const at::Tensor logits =
      Double({std::log(4.0) + shift, std::log(2.0) + shift, shift, shift, 10,  //
              0, std::log(2.0), std::log(3.0), std::log(2.0), 10},
             {2, 5});
  const MixingDraws draws = ZeroDraws(2, 1, 1, 0);
  const ContrastiveStatistics stats =
      ComputeContrastiveStatistics(logits, 3, at::Tensor(), at::Tensor(), &draws, 3);
  EXPECT_THAT(stats.top_probabilities,
              ElementsAre(DoubleNear(0.3125, 1e-12), DoubleNear(0.1875, 1e-12),
                          DoubleNear(0.1875, 1e-12)));
  // num_top_probabilities truncates the profile; 1024 (default) is clamped to K = 3.
  const ContrastiveStatistics two = ComputeContrastiveStatistics(
      logits, 3, at::Tensor(), at::Tensor(), &draws, 3, /*num_top_probabilities=*/2);
  EXPECT_THAT(two.top_probabilities,
              ElementsAre(DoubleNear(0.3125, 1e-12), DoubleNear(0.1875, 1e-12)));
}

// ---------------------------------------------------------------------------------------------
// False negatives via the class oracle.

// K = 4, queue labels (0, -1, 1, 0); positive logits -10 so that an off-by-one into column 0
// changes the ranking.
//   q0 (label 0), queue logits (5, 4, 3, 0): top-2 = entries 0, 1 -> labels 0 (match), -1 (skip).
//   q1 (label 1), queue logits (3, 0, 1, 2): top-2 = entries 0, 3 -> labels 0, 0 (no match).
//   Share = 1 / 3 (counting the -1 in the denominator would give 1/4).
struct FalseNegativeExample {
  at::Tensor logits = Float({-10, 5, 4, 3, 0,  //
                             -10, 3, 0, 1, 2},
                            {2, 5});
  at::Tensor queue_labels = Long({0, -1, 1, 0}, {4});
};

TEST(ContrastiveStatisticsTest, FalseNegativeShareExcludesUnknownLabels) {
  FalseNegativeExample ex;
  const ContrastiveStatistics stats = ComputeContrastiveStatistics(
      ex.logits, 4, Long({0, 1}, {2}), ex.queue_labels, nullptr, /*top_k=*/2);
  EXPECT_DOUBLE_EQ(stats.false_negative_share_topk, 1.0 / 3);
  EXPECT_DOUBLE_EQ(stats.synthetic_from_false_negative_share, -1);  // no mixing
}

TEST(ContrastiveStatisticsTest, FalseNegativeShareTopKClampedToQueue) {
  FalseNegativeExample ex;
  // top_k = 100 -> all 4 entries: q0 labels (0, -, 1, 0) vs 0 -> 2/3; q1 vs 1 -> 1/3. Total 3/6.
  const ContrastiveStatistics stats = ComputeContrastiveStatistics(
      ex.logits, 4, Long({0, 1}, {2}), ex.queue_labels, nullptr, /*top_k=*/100);
  EXPECT_DOUBLE_EQ(stats.false_negative_share_topk, 0.5);
}

TEST(ContrastiveStatisticsTest, FalseNegativeShareSkipsUnlabelledQueriesAndAllUnknown) {
  FalseNegativeExample ex;
  // q1 unlabelled: only q0's 1/1 remains.
  EXPECT_DOUBLE_EQ(ComputeContrastiveStatistics(ex.logits, 4, Long({0, -1}, {2}), ex.queue_labels,
                                                nullptr, 2)
                       .false_negative_share_topk,
                   1.0);
  // Every queue label unknown (fresh queue): -1.
  EXPECT_DOUBLE_EQ(ComputeContrastiveStatistics(ex.logits, 4, Long({0, 1}, {2}),
                                                Long({-1, -1, -1, -1}, {4}), nullptr, 2)
                       .false_negative_share_topk,
                   -1);
  // No labels at all: -1, the label-free statistics are still computed.
  const ContrastiveStatistics none =
      ComputeContrastiveStatistics(ex.logits, 4, at::Tensor(), at::Tensor(), nullptr, 2);
  EXPECT_DOUBLE_EQ(none.false_negative_share_topk, -1);
  EXPECT_DOUBLE_EQ(none.proxy_accuracy, 0);
  EXPECT_EQ(none.top_probabilities.size(), 4u);
}

// Hand-made draws: K = 4, queue labels (0, -1, 1, 2), N = 3, s = 2, s' = 1, query labels (0, 1).
//   q0 (label 0), hardest (2, 0, 1) -> labels (1, 0, -1):
//     pair (pos 0, pos 0): labels 1, 1            -> counted, not a false negative
//     pair (pos 1, pos 2): labels 0, -1           -> skipped (unknown constituent)
//     query partner pos 1: label 0                -> false negative
//   q1 (label 1), hardest (3, 2, 0) -> labels (2, 1, 0):
//     pair (pos 0, pos 1): labels 2, 1            -> false negative (through n_j)
//     pair (pos 2, pos 0): labels 0, 2            -> not
//     query partner pos 0: label 2                -> not
//   Share = 2 / 5. (Checking n_i only would give 1/5; counting the skipped point 3/6.)
TEST(ContrastiveStatisticsTest, SyntheticFromFalseNegativeShareByHand) {
  MixingDraws draws;
  draws.hardest = Long({2, 0, 1, 3, 2, 0}, {2, 3});
  draws.pair_first = Long({0, 1, 0, 2}, {2, 2});
  draws.pair_second = Long({0, 2, 1, 0}, {2, 2});
  draws.pair_weight = Float({.5f, .5f, .5f, .5f}, {2, 2});
  draws.query_partner = Long({1, 0}, {2, 1});
  draws.query_weight = Float({.1f, .1f}, {2, 1});
  const at::Tensor logits = at::zeros({2, 1 + 4 + 2 + 1});
  const ContrastiveStatistics stats = ComputeContrastiveStatistics(
      logits, 4, Long({0, 1}, {2}), Long({0, -1, 1, 2}, {4}), &draws, 4);
  EXPECT_DOUBLE_EQ(stats.synthetic_from_false_negative_share, 0.4);
}

TEST(ContrastiveStatisticsTest, SyntheticShareIsMinusOneWithoutSyntheticPoints) {
  const MixingDraws draws = ZeroDraws(2, 2, 0, 0);
  const ContrastiveStatistics stats = ComputeContrastiveStatistics(
      at::zeros({2, 5}), 4, Long({0, 1}, {2}), Long({0, 1, 0, 1}, {4}), &draws, 4);
  EXPECT_DOUBLE_EQ(stats.synthetic_from_false_negative_share, -1);
  EXPECT_DOUBLE_EQ(stats.false_negative_share_topk, 0.5);
}

TEST(ContrastiveStatisticsTest, InputValidation) {
  const at::Tensor logits = at::zeros({2, 5});
  const at::Tensor query_labels = Long({0, 1}, {2});
  const at::Tensor queue_labels = Long({0, 1, 2, 3}, {4});
  ExpectError([&] { ComputeContrastiveStatistics(logits, 3, query_labels, queue_labels, nullptr, 2); },
              "expected 1 + K + s + s' = 1 + 3 + 0 + 0 (no draws given");
  ExpectError([&] { ComputeContrastiveStatistics(logits, 0, query_labels, queue_labels, nullptr, 2); },
              "queue_size (K) = 0 must be >= 1");
  ExpectError([&] { ComputeContrastiveStatistics(logits, 4, query_labels, queue_labels, nullptr, 0); },
              "top_k = 0 must be >= 1");
  ExpectError(
      [&] { ComputeContrastiveStatistics(logits, 4, query_labels, queue_labels, nullptr, 2, 0); },
      "num_top_probabilities = 0 must be >= 1");
  ExpectError([&] { ComputeContrastiveStatistics(logits, 4, query_labels, Long({0, 1}, {2}), nullptr, 2); },
              "queue_labels must be [K = 4]");
  ExpectError([&] { ComputeContrastiveStatistics(logits, 4, Long({0}, {1}), queue_labels, nullptr, 2); },
              "query_labels must be [B = 2]");
  ExpectError(
      [&] {
        ComputeContrastiveStatistics(logits, 4, Float({0, 1}, {2}), queue_labels, nullptr, 2);
      },
      "query_labels must be an integer tensor");
  ExpectError([&] { ComputeContrastiveStatistics(at::zeros({5}), 4, query_labels, queue_labels, nullptr, 2); },
              "logits must be [B, 1 + K + s + s']");
  // Draws whose synthetic counts do not match the logits.
  const MixingDraws three = ZeroDraws(2, 2, 2, 1);
  ExpectError([&] { ComputeContrastiveStatistics(logits, 4, query_labels, queue_labels, &three, 2); },
              "expected 1 + K + s + s' = 1 + 4 + 2 + 1");
  // A position beyond N.
  MixingDraws bad = ZeroDraws(2, 2, 1, 0);
  bad.pair_second = Long({0, 2}, {2, 1});
  ExpectError(
      [&] {
        ComputeContrastiveStatistics(at::zeros({2, 6}), 4, query_labels, queue_labels, &bad, 2);
      },
      "draws.pair_second values must be in [0, N = 2), got [0, 2]");
  // A queue index beyond K.
  MixingDraws far = ZeroDraws(2, 2, 1, 0);
  far.hardest = Long({0, 4, 1, 2}, {2, 2});
  ExpectError(
      [&] {
        ComputeContrastiveStatistics(at::zeros({2, 6}), 4, query_labels, queue_labels, &far, 2);
      },
      "draws.hardest values must be in [0, K = 4)");
}

// ---------------------------------------------------------------------------------------------
// Alignment and uniformity.

TEST(AlignmentTest, IdenticalVectorsGiveZero) {
  const at::Tensor x = Float({.6f, .8f, 0, 0, 0, 1}, {2, 3});
  EXPECT_NEAR(Alignment(x, x), 0.0, 1e-12);
}

TEST(AlignmentTest, OrthogonalUnitPairsGiveTwo) {
  const at::Tensor x = Float({1, 0, 0, 0, 1, 0}, {2, 3});
  const at::Tensor y = Float({0, 1, 0, 0, 0, 1}, {2, 3});
  EXPECT_NEAR(Alignment(x, y), 2.0, 1e-12);                          // ||x - y||^2 = 2
  EXPECT_NEAR(Alignment(x, y, /*alpha=*/1), std::sqrt(2.0), 1e-12);  // ||x - y|| = sqrt(2)
}

// Rows are normalised: (3, 0) and (0, 4) are an orthogonal pair.
TEST(AlignmentTest, RowsAreNormalised) {
  EXPECT_NEAR(Alignment(Float({3, 0}, {1, 2}), Float({0, 4}, {1, 2})), 2.0, 1e-12);
}

// Pairs: identical (d = 0), orthogonal (d = sqrt 2), antipodal (d = 2).
//   alpha 2: (0 + 2 + 4) / 3 = 2;  alpha 1: (0 + 1.414214 + 2) / 3 = 1.138071.
TEST(AlignmentTest, MeanOverPairsByHand) {
  const at::Tensor x = Float({1, 0, 1, 0, 1, 0}, {3, 2});
  const at::Tensor y = Float({1, 0, 0, 1, -1, 0}, {3, 2});
  EXPECT_NEAR(Alignment(x, y, 2), 2.0, 1e-12);
  EXPECT_NEAR(Alignment(x, y, 1), 1.1380711874576983, 1e-9);
}

TEST(AlignmentTest, InputValidation) {
  const at::Tensor x = Float({1, 0, 0, 1}, {2, 2});
  ExpectError([&] { Alignment(x, Float({1, 0}, {1, 2})); }, "must have the same shape");
  ExpectError([&] { Alignment(x, x, 0); }, "alpha = 0 must be > 0");
  ExpectError([&] { Alignment(x, Float({0, 0, 0, 1}, {2, 2})); }, "y has a zero row");
  ExpectError([&] { Alignment(Float({1, 0}, {2}), Float({1, 0}, {2})); }, "x must be [N, D]");
}

// Two antipodal points: one pair, ||x_0 - x_1||^2 = 4, log(exp(-2 * 4)) = -8.
TEST(UniformityTest, AntipodalPoints) {
  EXPECT_NEAR(Uniformity(Float({1, 0, -1, 0}, {2, 2})), -8.0, 1e-12);
  EXPECT_NEAR(Uniformity(Float({0, 2, 0, -5}, {2, 2}), /*t=*/1), -4.0, 1e-12);  // normalised
}

// Equilateral triangle on the unit circle: every side is a chord of 120 degrees,
// side^2 = (2 sin 60)^2 = 3, so log(mean(exp(-3t))) = -3t: -6 for t = 2, -3 for t = 1.
TEST(UniformityTest, EquilateralTriangle) {
  const double h = std::sqrt(3.0) / 2;
  const at::Tensor x = Double({1, 0, -0.5, h, -0.5, -h}, {3, 2});
  EXPECT_NEAR(Uniformity(x), -6.0, 1e-12);
  EXPECT_NEAR(Uniformity(x, 1), -3.0, 1e-12);
}

// (1,0), (0,1), (-1,0): squared distances 2, 4, 2 (pdist order: (0,1), (0,2), (1,2)).
//   t = 2: log((e^-4 + e^-8 + e^-4) / 3) = log((0.0366313 + 0.000335463) / 3) = -4.396349.
TEST(UniformityTest, UnequalDistancesByHand) {
  const at::Tensor x = Float({1, 0, 0, 1, -1, 0}, {3, 2});
  EXPECT_NEAR(Uniformity(x), -4.396348967229015, 1e-9);
}

// exp(-300 * 4) underflows to 0 in double; the logsumexp form still returns -1200.
TEST(UniformityTest, NumericallyStable) {
  EXPECT_NEAR(Uniformity(Float({1, 0, -1, 0}, {2, 2}), /*t=*/300), -1200.0, 1e-9);
}

// Many rows (the block path): agrees with the naive formula over torch pdist.
TEST(UniformityTest, MatchesPdistOnManyRows) {
  at::manual_seed(11);
  at::Tensor x = at::randn({3000, 4}, at::kDouble);
  x = x / x.norm(2, {1}, true);
  const double naive = at::log(at::exp(-2 * at::pdist(x).pow(2)).mean()).item<double>();
  EXPECT_NEAR(Uniformity(x), naive, 1e-9);
}

TEST(UniformityTest, InputValidation) {
  ExpectError([] { Uniformity(Float({1, 0}, {1, 2})); }, "needs at least two rows (N >= 2), got N = 1");
  ExpectError([] { Uniformity(Float({1, 0, 0, 1}, {2, 2}), 0); }, "t = 0 must be > 0");
  ExpectError([] { Uniformity(Float({1, 0, 0, 0}, {2, 2})); }, "x has a zero row");
  ExpectError([] { Uniformity(Long({1, 0, 0, 1}, {2, 2})); }, "x must be floating point");
}

}  // namespace
}  // namespace mochi::ssl
