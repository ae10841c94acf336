#include "bench/sample_statistics.h"

#include <vector>

#include "gtest/gtest.h"

namespace mochi::bench {
namespace {

TEST(SampleStatisticsTest, MedianOfOddAndEvenCounts) {
  EXPECT_DOUBLE_EQ(Median({3.0, 1.0, 2.0}), 2.0);
  EXPECT_DOUBLE_EQ(Median({4.0, 1.0, 3.0, 2.0}), 2.5);  // mean of the middle two
  EXPECT_DOUBLE_EQ(Median({7.0}), 7.0);
}

TEST(SampleStatisticsTest, QuantilesInterpolateLinearlyAsNumpy) {
  // numpy.quantile([10, 20, 30, 40, 50], [0, 0.25, 0.1, 1]) = [10, 20, 14, 50]
  const std::vector<double> v = {50.0, 10.0, 40.0, 20.0, 30.0};
  EXPECT_DOUBLE_EQ(Quantile(v, 0.0), 10.0);
  EXPECT_DOUBLE_EQ(Quantile(v, 0.25), 20.0);
  EXPECT_DOUBLE_EQ(Quantile(v, 0.1), 14.0);
  EXPECT_DOUBLE_EQ(Quantile(v, 1.0), 50.0);
}

}  // namespace
}  // namespace mochi::bench
