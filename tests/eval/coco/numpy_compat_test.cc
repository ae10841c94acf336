#include "eval/coco/numpy_compat.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mochi::eval::numpy_compat {
namespace {

using ::testing::ElementsAreArray;

TEST(NumpyCompatTest, LinspaceRoundsLikeNumpy) {
  // np.linspace(.5, .95, 10)[8] and np.linspace(0, 1, 101)[70], printed by numpy 1.24.2.
  const std::vector<double> iou = Linspace(.5, .95, 10);
  ASSERT_EQ(iou.size(), 10u);
  EXPECT_EQ(iou[0], .5);
  EXPECT_EQ(iou[5], .75);  // summarize() finds AP75 by equality
  EXPECT_EQ(iou[8], 0.8999999999999999);
  EXPECT_EQ(iou[9], .95);
  const std::vector<double> recall = Linspace(0, 1, 101);
  ASSERT_EQ(recall.size(), 101u);
  EXPECT_EQ(recall[70], 0.7000000000000001);
  EXPECT_NE(recall[70], 70 / 100.0);
  EXPECT_EQ(recall[50], .5);
  EXPECT_EQ(recall[100], 1.0);
}

TEST(NumpyCompatTest, SumIsPairwiseLikeNumpy) {
  // numpy 1.24.2: np.sum([0.1] * 10) == 1.0 and np.sum([0.1] * 300) == 29.999999999999996, where a
  // left-to-right loop gives 0.9999999999999999 and 30.000000000000156.
  EXPECT_EQ(Sum(std::vector<double>(10, 0.1)), 1.0);
  EXPECT_EQ(Sum(std::vector<double>(300, 0.1)), 29.999999999999996);
  EXPECT_EQ(Mean(std::vector<double>(300, 0.1)), 0.09999999999999999);
  EXPECT_EQ(Sum({}), 0.0);
  EXPECT_TRUE(std::isnan(Mean({})));
}

TEST(NumpyCompatTest, LessSortsNanLast) {
  const double nan = std::nan("");
  EXPECT_TRUE(Less(1, nan));
  EXPECT_FALSE(Less(nan, 1));
  EXPECT_FALSE(Less(nan, nan));
  EXPECT_TRUE(Less(-1, 1));
}

TEST(NumpyCompatTest, ArgsortQuickMatchesNumpyOnTies) {
  // np.argsort(-a) with numpy 1.24.2 (20 values: numpy partitions, so ties leave file order).
  const std::vector<double> a = {.5, .9, .5, .7, .9, .5, .7, .9, .5, .5,
                                 .7, .9, .5, .9, .7, .5, .9, .5, .7, .5};
  std::vector<double> negated;
  for (double v : a) negated.push_back(-v);
  EXPECT_THAT(ArgsortQuick(negated), ElementsAreArray({1,  4, 16, 7,  11, 13, 3, 6, 18, 10,
                                                       14, 0, 17, 15, 9,  8,  5, 2, 12, 19}));
  EXPECT_THAT(ArgsortStable(negated), ElementsAreArray({1,  4, 7, 11, 13, 16, 3,  6,  10, 14,
                                                        18, 0, 2, 5,  8,  9,  12, 15, 17, 19}));
  // b = [0.25, 0.75] * 12 + [0.5] * 3.
  std::vector<double> b;
  for (int i = 0; i < 12; ++i) {
    b.push_back(-0.25);
    b.push_back(-0.75);
  }
  for (int i = 0; i < 3; ++i) b.push_back(-0.5);
  EXPECT_THAT(ArgsortQuick(b),
              ElementsAreArray({13, 1,  3,  23, 5,  21, 7, 19, 9, 17, 11, 15, 24, 26,
                                25, 14, 12, 16, 10, 18, 8, 20, 6, 22, 4,  2,  0}));
}

TEST(NumpyCompatTest, ArgsortQuickIsStableUpTo16Elements) {
  const std::vector<double> ties(16, 1.0);
  std::vector<int64_t> expected(16);
  for (int i = 0; i < 16; ++i) expected[i] = i;
  EXPECT_THAT(ArgsortQuick(ties), ElementsAreArray(expected));
  EXPECT_TRUE(ArgsortQuick({}).empty());
}

TEST(NumpyCompatTest, ArgsortQuickSortsLargeInputs) {
  // Sortedness on a long input with many ties and NaNs (the order among ties is numpy's).
  std::vector<double> values;
  for (int i = 0; i < 5000; ++i) values.push_back(i % 7 == 0 ? std::nan("") : (i * 7919) % 101);
  const std::vector<int64_t> order = ArgsortQuick(values);
  ASSERT_EQ(order.size(), values.size());
  for (size_t i = 1; i < order.size(); ++i) {
    EXPECT_FALSE(Less(values[order[i]], values[order[i - 1]])) << "at " << i;
  }
  std::vector<int64_t> sorted_indices = order;
  std::sort(sorted_indices.begin(), sorted_indices.end());
  for (int64_t i = 0; i < 5000; ++i) ASSERT_EQ(sorted_indices[i], i);
}

}  // namespace
}  // namespace mochi::eval::numpy_compat
