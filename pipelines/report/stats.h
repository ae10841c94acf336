// Seed statistics for the report tables: mean, sample standard deviation and Welch's unequal-
// variance t-test, with the Student-t CDF computed here (regularized incomplete beta function)
// so the report needs no statistics library.
#ifndef PIPELINES_REPORT_STATS_H_
#define PIPELINES_REPORT_STATS_H_

#include <vector>

namespace mochi::report {

// Mean of `values`; NaN when empty.
double Mean(const std::vector<double>& values);

// Sample standard deviation (divisor n - 1); NaN when fewer than 2 values.
double SampleStd(const std::vector<double>& values);

// Regularized incomplete beta function I_x(a, b) for a, b > 0 and 0 <= x <= 1 (continued
// fraction, Numerical Recipes §6.4); NaN outside that domain.
double RegularizedIncompleteBeta(double a, double b, double x);

// P(T <= t) for Student's t with `df` > 0 degrees of freedom (df need not be an integer, as
// Welch's df is not).
double StudentTCdf(double t, double df);

// The p-quantile of Student's t with `df` > 0 degrees of freedom (bisection on StudentTCdf to
// 1e-12), for 0 < p < 1; NaN otherwise.
double StudentTQuantile(double p, double df);

// The smallest difference of means a two-sided two-sample t-test at level `alpha` detects with
// probability `power`, for `n` seeds per side and a common seed standard deviation `std`:
// (t_{1-alpha/2, 2n-2} + t_{power, 2n-2}) * std * sqrt(2 / n) (the usual normal-approximation
// formula with t quantiles). NaN for n < 2 or a NaN std.
//
// Example: MinimumDetectableDifference(1.0, 3) = (2.776 + 0.941) * sqrt(2 / 3) = 3.035.
double MinimumDetectableDifference(double std, int n, double alpha = 0.05, double power = 0.8);

struct WelchResult {
  double t = 0;   // (mean(a) - mean(b)) / sqrt(var(a)/n_a + var(b)/n_b)
  double df = 0;  // Welch-Satterthwaite degrees of freedom
  double p = 1;   // two-sided p-value
};

// WelchTTest compares the means of two samples without assuming equal variances. Both samples
// need at least 2 values (callers print `n/a` otherwise); the result is then all NaN. When both
// samples have zero variance the test degenerates: p = 1 for equal means, else 0.
//
// Example:
//   WelchResult r = WelchTTest({1, 2, 3}, {4, 5, 6});  // t = -3.674, df = 4, p = 0.0213
WelchResult WelchTTest(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace mochi::report

#endif  // PIPELINES_REPORT_STATS_H_
