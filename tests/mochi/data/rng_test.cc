#include "mochi/data/rng.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mochi::data {
namespace {

TEST(RngTest, SameSeedSameSequence) {
  Rng a(42);
  Rng b(42);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(a.NextU64(), b.NextU64()) << "draw " << i;
}

TEST(RngTest, DifferentSeedsDifferentSequences) {
  Rng a(1);
  Rng b(2);
  int equal = 0;
  for (int i = 0; i < 1000; ++i) equal += a.NextU64() == b.NextU64();
  EXPECT_EQ(equal, 0);
}

// Pins the generator to SplitMix64 (reference values of Vigna's splitmix64.c with seed 0), so a
// change of algorithm, which would silently change every seeded run, fails here.
TEST(RngTest, MatchesSplitMix64Reference) {
  Rng rng(0);
  EXPECT_EQ(rng.NextU64(), 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(rng.NextU64(), 0x6E789E6AA1B965F4ULL);
  EXPECT_EQ(rng.NextU64(), 0x06C45D188009454FULL);
}

TEST(RngTest, CounterBitsIsElementEOfTheSequentialStream) {
  const uint64_t key = StreamKey(42, 3);
  EXPECT_NE(key, StreamKey(42, 4));
  EXPECT_NE(key, StreamKey(43, 3));
  Rng rng(key);
  for (int64_t e = 0; e < 100; ++e) EXPECT_EQ(CounterBits(key, e), rng.NextU64()) << e;
}

TEST(RngTest, UniformInRangeWithMeanOneHalf) {
  Rng rng(7);
  constexpr int kDraws = 100000;
  double sum = 0.0;
  double min = 1.0;
  double max = 0.0;
  for (int i = 0; i < kDraws; ++i) {
    const double u = rng.Uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    min = std::min(min, u);
    max = std::max(max, u);
  }
  // Std of the mean of U(0,1) draws: sqrt(1/12 / n) ~ 0.00091; 5 sigma.
  EXPECT_NEAR(sum / kDraws, 0.5, 5 * std::sqrt(1.0 / 12.0 / kDraws));
  EXPECT_LT(min, 1e-3);
  EXPECT_GT(max, 1.0 - 1e-3);
}

TEST(RngTest, UniformRangeAndBernoulliEdges) {
  Rng rng(11);
  for (int i = 0; i < 10000; ++i) {
    const double u = rng.Uniform(-2.0, 3.0);
    ASSERT_GE(u, -2.0);
    ASSERT_LT(u, 3.0);
    ASSERT_FALSE(rng.Bernoulli(0.0));
    ASSERT_TRUE(rng.Bernoulli(1.0));
  }
  EXPECT_EQ(rng.Uniform(1.5, 1.5), 1.5);
  int hits = 0;
  constexpr int kDraws = 100000;
  for (int i = 0; i < kDraws; ++i) hits += rng.Bernoulli(0.3);
  // Binomial std sqrt(n p (1 - p)) ~ 145; 5 sigma.
  EXPECT_NEAR(hits, 0.3 * kDraws, 5 * std::sqrt(kDraws * 0.3 * 0.7));
}

TEST(RngTest, UniformIntCoversRangeEvenly) {
  Rng rng(3);
  constexpr int64_t kN = 7;
  constexpr int kDraws = 70000;
  std::vector<int> counts(kN, 0);
  for (int i = 0; i < kDraws; ++i) {
    const int64_t k = rng.UniformInt(kN);
    ASSERT_GE(k, 0);
    ASSERT_LT(k, kN);
    ++counts[k];
  }
  // Each count ~ Binomial(70000, 1/7): mean 10000, std ~ 92.6; 5 sigma each.
  const double expected = static_cast<double>(kDraws) / kN;
  const double sigma = std::sqrt(kDraws * (1.0 / kN) * (1.0 - 1.0 / kN));
  for (int64_t k = 0; k < kN; ++k) {
    EXPECT_NEAR(counts[k], expected, 5 * sigma) << "value " << k;
  }
  EXPECT_EQ(rng.UniformInt(1), 0);
}

// With n = 3 * 2^62, a plain `x % n` would make values below 2^62 twice as likely as the rest
// (half of all draws instead of a third); rejection sampling keeps it at a third.
TEST(RngTest, UniformIntIsUnbiasedForHugeRange) {
  Rng rng(5);
  const int64_t n = int64_t{3} << 61;  // 0.375 * 2^64 (fits int64)
  const int64_t low = int64_t{1} << 61;  // [0, low) is a third of [0, n)
  constexpr int kDraws = 30000;
  int below = 0;
  for (int i = 0; i < kDraws; ++i) {
    const int64_t k = rng.UniformInt(n);
    ASSERT_GE(k, 0);
    ASSERT_LT(k, n);
    below += k < low;
  }
  // Unbiased: p = 1/3 (std ~ 81.6). With x % n: 2^64 = 2n + 2^62, so [0, 2^62) = [0, 2 low) gets
  // three preimages: P(k < low) = 3 low / 2^64 = 3/8, i.e. 1250 more hits (15 sigma).
  EXPECT_NEAR(below, kDraws / 3.0, 5 * std::sqrt(kDraws * (1.0 / 3) * (2.0 / 3)));
}

TEST(PermutationTest, IsAPermutation) {
  for (int64_t n : {0, 1, 2, 5, 103, 1000}) {
    std::vector<int64_t> perm = Permutation(n, 9);
    ASSERT_EQ(static_cast<int64_t>(perm.size()), n);
    std::vector<int64_t> sorted = perm;
    std::sort(sorted.begin(), sorted.end());
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(sorted[i], i) << "n = " << n;
  }
}

TEST(PermutationTest, DeterministicAndSeedDependent) {
  EXPECT_EQ(Permutation(1000, 17), Permutation(1000, 17));
  EXPECT_NE(Permutation(1000, 17), Permutation(1000, 18));
  std::vector<int64_t> identity(1000);
  for (int64_t i = 0; i < 1000; ++i) identity[i] = i;
  EXPECT_NE(Permutation(1000, 17), identity);
}

TEST(PermutationTest, FirstElementIsUniform) {
  constexpr int64_t kN = 5;
  constexpr int kTrials = 50000;
  std::vector<int> counts(kN, 0);
  for (int t = 0; t < kTrials; ++t) ++counts[Permutation(kN, MixSeed(123, t))[0]];
  const double sigma = std::sqrt(kTrials * 0.2 * 0.8);
  for (int64_t k = 0; k < kN; ++k) EXPECT_NEAR(counts[k], kTrials / 5.0, 5 * sigma) << k;
}

TEST(SeedTest, MixSeedIsOrderSensitiveAndInjective) {
  EXPECT_NE(MixSeed(1, 2), MixSeed(2, 1));
  EXPECT_EQ(MixSeed(1, 2), MixSeed(1, 2));
  std::set<uint64_t> seen;
  for (uint64_t a = 0; a < 50; ++a) {
    for (uint64_t b = 0; b < 50; ++b) seen.insert(MixSeed(a, b));
  }
  EXPECT_EQ(seen.size(), 2500u);
}

TEST(SeedTest, SampleSeedDiffersAcrossEpochIndexAndView) {
  const uint64_t base = SampleSeed(0, 3, 10, 0);
  EXPECT_EQ(base, SampleSeed(0, 3, 10, 0));
  EXPECT_NE(base, SampleSeed(1, 3, 10, 0));  // base seed
  EXPECT_NE(base, SampleSeed(0, 4, 10, 0));  // epoch
  EXPECT_NE(base, SampleSeed(0, 3, 11, 0));  // index
  EXPECT_NE(base, SampleSeed(0, 3, 10, 1));  // view
  // Swapping epoch and index must not collide either.
  EXPECT_NE(SampleSeed(0, 3, 10, 0), SampleSeed(0, 10, 3, 0));
  std::set<uint64_t> seen;
  for (int64_t epoch = 0; epoch < 10; ++epoch) {
    for (int64_t index = 0; index < 100; ++index) {
      for (int view = 0; view < 2; ++view) seen.insert(SampleSeed(5, epoch, index, view));
    }
  }
  EXPECT_EQ(seen.size(), 2000u);
}

}  // namespace
}  // namespace mochi::data
