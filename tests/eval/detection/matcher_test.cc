#include "eval/detection/matcher.h"

#include <algorithm>
#include <set>
#include <vector>

#include "ATen/ATen.h"
#include "ATen/CPUGeneratorImpl.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mochi::eval::detection {
namespace {

using ::mochi::testing::StatusIs;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::SizeIs;

std::vector<int64_t> Ints(const at::Tensor& t) {
  const at::Tensor flat = t.to(at::kLong).contiguous();
  return std::vector<int64_t>(flat.data_ptr<int64_t>(), flat.data_ptr<int64_t>() + flat.numel());
}

// 2 ground truths x 6 predictions. Best per prediction (first on ties):
//   p0 .2 (g1), p1 .6 (g1), p2 .8 (g0), p3 .3 (g1), p4 0 (tie: g0), p5 .6 (g1).
// Best per ground truth: g0 .8 (p2); g1 .6 (p1 and p5, a tie).
at::Tensor Quality() {
  return at::tensor({0.1f, 0.5f, 0.8f, 0.2f, 0.0f, 0.0f,  //
                     0.2f, 0.6f, 0.1f, 0.3f, 0.0f, 0.6f})
      .reshape({2, 6});
}

TEST(MatcherTest, RpnThresholdsWithLowQualityMatches) {
  auto matcher = Matcher::Create({0.3, 0.7}, {0, -1, 1}, /*allow_low_quality_matches=*/true);
  MOCHI_ASSERT_OK(matcher);
  auto result = matcher->Match(Quality());
  MOCHI_ASSERT_OK(result);
  EXPECT_EQ(result->matches.scalar_type(), at::kLong);
  EXPECT_EQ(result->labels.scalar_type(), at::kChar);
  EXPECT_THAT(Ints(result->matches), ElementsAre(1, 1, 0, 1, 0, 1));
  // By interval: p0 0, p1 -1, p2 1, p3 -1 (.3 is the lower edge of the ignore band), p4 0,
  // p5 -1; then p1 and p5, both best for g1, become positive.
  EXPECT_THAT(Ints(result->labels), ElementsAre(0, 1, 1, -1, 0, 1));
}

TEST(MatcherTest, RpnThresholdsWithoutLowQualityMatches) {
  auto matcher = Matcher::Create({0.3, 0.7}, {0, -1, 1}, /*allow_low_quality_matches=*/false);
  MOCHI_ASSERT_OK(matcher);
  auto result = matcher->Match(Quality());
  MOCHI_ASSERT_OK(result);
  EXPECT_THAT(Ints(result->labels), ElementsAre(0, -1, 1, -1, 0, -1));
}

TEST(MatcherTest, BoxHeadThreshold) {
  auto matcher = Matcher::Create({0.5}, {0, 1}, /*allow_low_quality_matches=*/false);
  MOCHI_ASSERT_OK(matcher);
  auto result = matcher->Match(Quality());
  MOCHI_ASSERT_OK(result);
  EXPECT_THAT(Ints(result->labels), ElementsAre(0, 1, 1, 0, 0, 1));
}

TEST(MatcherTest, NoGroundTruthMeansBackground) {
  auto matcher = Matcher::Create({0.3, 0.7}, {0, -1, 1}, true);
  MOCHI_ASSERT_OK(matcher);
  auto result = matcher->Match(at::zeros({0, 4}));
  MOCHI_ASSERT_OK(result);
  EXPECT_THAT(Ints(result->matches), ElementsAre(0, 0, 0, 0));
  EXPECT_THAT(Ints(result->labels), ElementsAre(0, 0, 0, 0));
  // With labels that start at "ignore", everything is ignored instead.
  matcher = Matcher::Create({0.3, 0.7}, {-1, -1, 1}, true);
  MOCHI_ASSERT_OK(matcher);
  result = matcher->Match(at::zeros({0, 2}));
  MOCHI_ASSERT_OK(result);
  EXPECT_THAT(Ints(result->labels), ElementsAre(-1, -1));
}

TEST(MatcherTest, RejectsInvalidConfigurationsAndQualities) {
  EXPECT_THAT(Matcher::Create({0.7, 0.3}, {0, -1, 1}, false),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Matcher::Create({0, 0.7}, {0, -1, 1}, false),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Matcher::Create({0.5}, {0, -1, 1}, false),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Matcher::Create({0.5}, {0, 2}, false), StatusIs(absl::StatusCode::kInvalidArgument));
  auto matcher = Matcher::Create({0.5}, {0, 1}, false);
  MOCHI_ASSERT_OK(matcher);
  EXPECT_THAT(matcher->Match(at::full({2, 2}, -0.5)), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(matcher->Match(at::zeros({4})), StatusIs(absl::StatusCode::kInvalidArgument));
}

// 10 positives (label 1) at 0..9, 20 negatives (0) at 10..29, 5 ignored (-1) at 30..34.
at::Tensor MixedLabels() {
  return at::cat(
      {at::ones({10}, at::kChar), at::zeros({20}, at::kChar), at::full({5}, -1, at::kChar)});
}

at::Generator Seeded(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

TEST(SubsampleLabelsTest, BalancedCounts) {
  const at::Tensor labels = MixedLabels();
  // 16 samples, a quarter positive: 4 positives, 12 negatives.
  auto sampled = SubsampleLabels(labels, 16, 0.25, /*background_label=*/0, Seeded(1));
  MOCHI_ASSERT_OK(sampled);
  const std::vector<int64_t> positive = Ints(sampled->positive);
  const std::vector<int64_t> negative = Ints(sampled->negative);
  EXPECT_THAT(positive, SizeIs(4));
  EXPECT_THAT(negative, SizeIs(12));
  EXPECT_THAT(Ints(labels.index_select(0, sampled->positive)), Each(1));
  EXPECT_THAT(Ints(labels.index_select(0, sampled->negative)), Each(0));
  // Without replacement.
  EXPECT_EQ(std::set<int64_t>(positive.begin(), positive.end()).size(), 4u);
  EXPECT_EQ(std::set<int64_t>(negative.begin(), negative.end()).size(), 12u);
}

TEST(SubsampleLabelsTest, MissingPositivesAreMadeUpWithNegatives) {
  const at::Tensor labels = MixedLabels();
  // 0.75 * 16 = 12 positives wanted, only 10 exist: 10 + 6.
  auto sampled = SubsampleLabels(labels, 16, 0.75, 0, Seeded(2));
  MOCHI_ASSERT_OK(sampled);
  EXPECT_EQ(sampled->positive.numel(), 10);
  EXPECT_EQ(sampled->negative.numel(), 6);
  // Not enough of either: everything labelled is returned.
  sampled = SubsampleLabels(labels, 100, 0.5, 0, Seeded(2));
  MOCHI_ASSERT_OK(sampled);
  EXPECT_EQ(sampled->positive.numel(), 10);
  EXPECT_EQ(sampled->negative.numel(), 20);
  // int(7 * 0.5) = 3 positives, 4 negatives.
  sampled = SubsampleLabels(labels, 7, 0.5, 0, Seeded(2));
  MOCHI_ASSERT_OK(sampled);
  EXPECT_EQ(sampled->positive.numel(), 3);
  EXPECT_EQ(sampled->negative.numel(), 4);
}

TEST(SubsampleLabelsTest, BoxHeadBackgroundIsNumClasses) {
  // 3 classes (0, 1, 2) and background 3: the class-0 element is a positive.
  const at::Tensor labels = at::tensor({0, 3, 1, 3, -1, 2, 3}, at::kLong);
  auto sampled = SubsampleLabels(labels, 10, 0.5, /*background_label=*/3, Seeded(0));
  MOCHI_ASSERT_OK(sampled);
  std::vector<int64_t> positive = Ints(sampled->positive);
  std::vector<int64_t> negative = Ints(sampled->negative);
  std::sort(positive.begin(), positive.end());
  std::sort(negative.begin(), negative.end());
  EXPECT_THAT(positive, ElementsAre(0, 2, 5));
  EXPECT_THAT(negative, ElementsAre(1, 3, 6));
}

TEST(SubsampleLabelsTest, ReproducibleFromTheGeneratorSeed) {
  const at::Tensor labels = MixedLabels();
  auto a = SubsampleLabels(labels, 8, 0.5, 0, Seeded(7));
  auto b = SubsampleLabels(labels, 8, 0.5, 0, Seeded(7));
  auto c = SubsampleLabels(labels, 8, 0.5, 0, Seeded(8));
  MOCHI_ASSERT_OK(a);
  MOCHI_ASSERT_OK(b);
  MOCHI_ASSERT_OK(c);
  EXPECT_TRUE(at::equal(a->positive, b->positive));
  EXPECT_TRUE(at::equal(a->negative, b->negative));
  // 4 of 10 positives and 4 of 20 negatives: two seeds agreeing on both is very unlikely.
  EXPECT_FALSE(at::equal(a->positive, c->positive) && at::equal(a->negative, c->negative));
}

TEST(SubsampleLabelsTest, RejectsInvalidArguments) {
  const at::Tensor labels = MixedLabels();
  EXPECT_THAT(SubsampleLabels(labels, 8, 1.5, 0, Seeded(0)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(SubsampleLabels(labels, -1, 0.5, 0, Seeded(0)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(SubsampleLabels(labels.reshape({5, 7}), 8, 0.5, 0, Seeded(0)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(SubsampleLabels(labels.to(at::kFloat), 8, 0.5, 0, Seeded(0)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(SubsampleLabels(labels, 8, 0.5, 0, at::Generator()),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace mochi::eval::detection
