#include "pipelines/report/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace mochi::report {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double SampleVariance(const std::vector<double>& values) {
  if (values.size() < 2) return kNaN;
  const double mean = Mean(values);
  double sum = 0;
  for (double v : values) sum += (v - mean) * (v - mean);
  return sum / static_cast<double>(values.size() - 1);
}

// Continued fraction for I_x(a, b) by the modified Lentz method; converges fast for
// x < (a + 1) / (a + b + 2), which the caller guarantees through the symmetry relation.
double BetaContinuedFraction(double a, double b, double x) {
  constexpr int kMaxIterations = 1000;
  constexpr double kEpsilon = 1e-15;
  constexpr double kTiny = 1e-300;
  const double qab = a + b;
  const double qap = a + 1;
  const double qam = a - 1;
  double c = 1;
  double d = 1 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= kMaxIterations; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1) < kEpsilon) break;
  }
  return h;
}

}  // namespace

double Mean(const std::vector<double>& values) {
  if (values.empty()) return kNaN;
  double sum = 0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

double SampleStd(const std::vector<double>& values) { return std::sqrt(SampleVariance(values)); }

double RegularizedIncompleteBeta(double a, double b, double x) {
  if (!(a > 0) || !(b > 0) || !(x >= 0) || !(x <= 1)) return kNaN;
  if (x == 0) return 0;
  if (x == 1) return 1;
  // x^a (1-x)^b / (a B(a, b)), in logs to avoid overflow for large a, b.
  const double log_front =
      std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  const double front = std::exp(log_front);
  if (x < (a + 1) / (a + b + 2)) return front * BetaContinuedFraction(a, b, x) / a;
  return 1 - front * BetaContinuedFraction(b, a, 1 - x) / b;
}

double StudentTCdf(double t, double df) {
  if (std::isnan(t) || !(df > 0)) return kNaN;
  if (std::isinf(t)) return t > 0 ? 1 : 0;
  if (t * t < df) {
    // Near the centre: P(|T| < |t|) = I_{t^2 / (df + t^2)}(1 / 2, df / 2), which keeps its
    // precision where df / (df + t^2) would round to 1.
    const double inner = RegularizedIncompleteBeta(0.5, df / 2, t * t / (df + t * t));
    return 0.5 + std::copysign(0.5 * inner, t);
  }
  // P(|T| > |t|) = I_{df / (df + t^2)}(df / 2, 1 / 2).
  const double tail = 0.5 * RegularizedIncompleteBeta(df / 2, 0.5, df / (df + t * t));
  return t > 0 ? 1 - tail : tail;
}

double StudentTQuantile(double p, double df) {
  if (!(p > 0) || !(p < 1) || !(df > 0)) return kNaN;
  // The CDF is increasing; the quantile lies within +-1e6 for any df >= 0.05 and p in (1e-12,
  // 1 - 1e-12), far beyond what the reports ask for.
  double low = -1e6, high = 1e6;
  for (int i = 0; i < 200 && high - low > 1e-12 * std::max(1.0, std::fabs(low)); ++i) {
    const double mid = 0.5 * (low + high);
    (StudentTCdf(mid, df) < p ? low : high) = mid;
  }
  return 0.5 * (low + high);
}

double MinimumDetectableDifference(double std, int n, double alpha, double power) {
  if (n < 2 || std::isnan(std)) return kNaN;
  const double df = 2.0 * n - 2;
  return (StudentTQuantile(1 - alpha / 2, df) + StudentTQuantile(power, df)) * std *
         std::sqrt(2.0 / n);
}

WelchResult WelchTTest(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() < 2 || b.size() < 2) return {kNaN, kNaN, kNaN};
  const double na = static_cast<double>(a.size());
  const double nb = static_cast<double>(b.size());
  const double va = SampleVariance(a) / na;  // squared standard error of mean(a)
  const double vb = SampleVariance(b) / nb;
  const double diff = Mean(a) - Mean(b);
  WelchResult result;
  const double se2 = va + vb;
  if (se2 == 0) {
    // Constant samples (e.g. a deterministic metric): no spread to test against.
    result.df = na + nb - 2;
    result.t = diff == 0 ? 0 : std::copysign(std::numeric_limits<double>::infinity(), diff);
    result.p = diff == 0 ? 1 : 0;
    return result;
  }
  result.t = diff / std::sqrt(se2);
  result.df = se2 * se2 / (va * va / (na - 1) + vb * vb / (nb - 1));
  // Two-sided: 2 P(T > |t|), which equals I_x(df/2, 1/2) directly (better for tiny p than
  // 2 * (1 - cdf)).
  result.p =
      RegularizedIncompleteBeta(result.df / 2, 0.5, result.df / (result.df + result.t * result.t));
  return result;
}

}  // namespace mochi::report
