#include "pipelines/report/stats.h"

#include <cmath>

#include "gtest/gtest.h"

namespace mochi::report {
namespace {

TEST(StatsTest, MeanAndSampleStd) {
  // {2, 4, 4, 4, 5, 5, 7, 9}: mean 5, squared deviations sum to 32, sample var 32 / 7.
  const std::vector<double> values = {2, 4, 4, 4, 5, 5, 7, 9};
  EXPECT_DOUBLE_EQ(Mean(values), 5.0);
  EXPECT_DOUBLE_EQ(SampleStd(values), std::sqrt(32.0 / 7.0));
  EXPECT_TRUE(std::isnan(Mean({})));
  EXPECT_TRUE(std::isnan(SampleStd({3.0})));  // undefined with one value, not 0
}

TEST(StatsTest, IncompleteBetaClosedForms) {
  // I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(1/2, 1/2) = (2 / pi) asin(sqrt(x)).
  EXPECT_NEAR(RegularizedIncompleteBeta(1, 1, 0.3), 0.3, 1e-14);
  EXPECT_NEAR(RegularizedIncompleteBeta(3, 1, 0.7), 0.343, 1e-14);
  EXPECT_NEAR(RegularizedIncompleteBeta(0.5, 0.5, 0.2), 2 / M_PI * std::asin(std::sqrt(0.2)),
              1e-12);
  // Both branches of the symmetry relation (mpmath betainc, 30 digits: 0.889130022255000057).
  EXPECT_NEAR(RegularizedIncompleteBeta(10, 3, 0.9), 0.889130022255000057, 1e-12);
  EXPECT_NEAR(RegularizedIncompleteBeta(2.5, 0.5, 0.3), 0.0189271240719456517, 1e-12);
  EXPECT_EQ(RegularizedIncompleteBeta(2, 3, 0), 0);
  EXPECT_EQ(RegularizedIncompleteBeta(2, 3, 1), 1);
  EXPECT_TRUE(std::isnan(RegularizedIncompleteBeta(2, 3, 1.5)));
}

TEST(StatsTest, StudentTCdfClosedForms) {
  // df = 1 (Cauchy): 1/2 + atan(t) / pi.  df = 2: 1/2 + t / (2 sqrt(2 + t^2)).
  for (double t : {-3.0, -0.5, 0.0, 0.7, 2.0, 12.0}) {
    EXPECT_NEAR(StudentTCdf(t, 1), 0.5 + std::atan(t) / M_PI, 1e-12) << t;
    EXPECT_NEAR(StudentTCdf(t, 2), 0.5 + t / (2 * std::sqrt(2 + t * t)), 1e-12) << t;
  }
  // Table value: t_{0.975}(10) = 2.228139 (two-sided 5% critical value).
  EXPECT_NEAR(StudentTCdf(2.228139, 10), 0.975, 1e-6);
  // Large df approaches the normal: Phi(1.959964) = 0.975.
  EXPECT_NEAR(StudentTCdf(1.959964, 1e7), 0.975, 1e-6);
}

TEST(StatsTest, WelchEqualVariancesHandComputed) {
  // a = {1, 2, 3}, b = {4, 5, 6}: var 1 each, se^2 = 1/3 + 1/3, t = -3 / sqrt(2/3) = -3.674235,
  // df = (2/3)^2 / (2 (1/3)^2 / 2) = 4. For df = 4 the CDF has the closed form
  // F(t) = 1/2 + (3/8) (t / sqrt(s)) (1 - t^2 / (12 s)), s = 1 + t^2 / 4; mpmath: p = 0.0213116.
  const WelchResult r = WelchTTest({1, 2, 3}, {4, 5, 6});
  EXPECT_NEAR(r.t, -3.0 / std::sqrt(2.0 / 3.0), 1e-12);
  EXPECT_NEAR(r.df, 4.0, 1e-12);
  const double t = std::fabs(r.t);
  const double s = 1 + t * t / 4;
  const double cdf4 = 0.5 + 3.0 / 8.0 * (t / std::sqrt(s)) * (1 - t * t / (12 * s));
  EXPECT_NEAR(r.p, 2 * (1 - cdf4), 1e-12);
  EXPECT_NEAR(r.p, 0.0213116411287567, 1e-12);
}

TEST(StatsTest, WelchUnequalVariancesSatterthwaite) {
  // a = {1..5}: mean 3, var 2.5; b = {2, 4, ..., 14}: mean 8, var 18.6667.
  // va = 2.5/5 = 0.5, vb = 18.6667/7 = 2.6667; t = -5 / sqrt(3.1667) = -2.809757;
  // df = 3.1667^2 / (0.5^2/4 + 2.6667^2/6) = 10.0278 / 1.24769 = 8.037106;
  // p (mpmath, integrating the t density) = 0.0227472552796709.
  const WelchResult r = WelchTTest({1, 2, 3, 4, 5}, {2, 4, 6, 8, 10, 12, 14});
  EXPECT_NEAR(r.t, -2.80975743474508, 1e-10);
  EXPECT_NEAR(r.df, 8.037105751391467, 1e-10);
  EXPECT_NEAR(r.p, 0.0227472552796709, 1e-10);
  // Symmetric in the order of the samples, except for the sign of t.
  const WelchResult swapped = WelchTTest({2, 4, 6, 8, 10, 12, 14}, {1, 2, 3, 4, 5});
  EXPECT_NEAR(swapped.t, -r.t, 1e-12);
  EXPECT_NEAR(swapped.p, r.p, 1e-12);
}

TEST(StatsTest, WelchIdenticalSamplesGivePOne) {
  const WelchResult r = WelchTTest({0.81, 0.83, 0.85}, {0.81, 0.83, 0.85});
  EXPECT_DOUBLE_EQ(r.t, 0);
  EXPECT_NEAR(r.p, 1.0, 1e-12);
}

TEST(StatsTest, WelchDegenerateAndTooFewSeeds) {
  EXPECT_TRUE(std::isnan(WelchTTest({1.0}, {1.0, 2.0}).p));
  EXPECT_TRUE(std::isnan(WelchTTest({1.0, 2.0}, {}).p));
  EXPECT_EQ(WelchTTest({2, 2, 2}, {2, 2}).p, 1);
  EXPECT_EQ(WelchTTest({2, 2, 2}, {3, 3}).p, 0);
}

// Closed forms: df = 1 (Cauchy) t_p = tan(pi (p - 1/2));
// df = 2: t_p = (2p - 1) sqrt(2 / (4p(1 - p))).
TEST(StatsTest, StudentTQuantileMatchesClosedForms) {
  const double pi = std::acos(-1.0);
  for (double p : {0.6, 0.8, 0.975, 0.995}) {
    EXPECT_NEAR(StudentTQuantile(p, 1), std::tan(pi * (p - 0.5)), 1e-8) << p;
    EXPECT_NEAR(StudentTQuantile(p, 2), (2 * p - 1) * std::sqrt(2 / (4 * p * (1 - p))), 1e-9) << p;
    EXPECT_NEAR(StudentTQuantile(1 - p, 2), -StudentTQuantile(p, 2), 1e-9) << p;
  }
  EXPECT_NEAR(StudentTQuantile(0.5, 7.3), 0, 1e-10);
  EXPECT_NEAR(StudentTCdf(StudentTQuantile(0.975, 4), 4), 0.975, 1e-12);
  EXPECT_TRUE(std::isnan(StudentTQuantile(0, 3)));
  EXPECT_TRUE(std::isnan(StudentTQuantile(0.5, 0)));
}

// n = 2 per side: df = 2, (t_.975 + t_.8) sqrt(2/2) from the df = 2 closed form: 4.3027 + 1.0607.
TEST(StatsTest, MinimumDetectableDifference) {
  const auto t2 = [](double p) { return (2 * p - 1) * std::sqrt(2 / (4 * p * (1 - p))); };
  EXPECT_NEAR(MinimumDetectableDifference(0.5, 2), (t2(0.975) + t2(0.8)) * 0.5, 1e-9);
  EXPECT_NEAR(MinimumDetectableDifference(1.0, 3), 3.03525, 1e-4);  // (2.77645 + 0.94096) * 0.81650
  EXPECT_LT(MinimumDetectableDifference(1.0, 10), MinimumDetectableDifference(1.0, 5));
  EXPECT_TRUE(std::isnan(MinimumDetectableDifference(1.0, 1)));
}

}  // namespace
}  // namespace mochi::report
