// Order statistics of benchmark samples (step times, ratios).
#ifndef BENCH_SAMPLE_STATISTICS_H_
#define BENCH_SAMPLE_STATISTICS_H_

#include <utility>
#include <vector>

namespace mochi::bench {

// The p-quantile (0 <= p <= 1) with linear interpolation between order statistics (numpy's
// default), so the median of an even count is the mean of the middle two. `v` must not be empty.
double Quantile(std::vector<double> v, double p);

inline double Median(std::vector<double> v) { return Quantile(std::move(v), 0.5); }

}  // namespace mochi::bench

#endif  // BENCH_SAMPLE_STATISTICS_H_
