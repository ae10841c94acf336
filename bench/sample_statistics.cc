#include "bench/sample_statistics.h"

#include <algorithm>
#include <cstddef>

namespace mochi::bench {

double Quantile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const double position = p * (v.size() - 1);
  const size_t below = static_cast<size_t>(position);
  const size_t above = std::min(below + 1, v.size() - 1);
  return v[below] + (position - below) * (v[above] - v[below]);
}

}  // namespace mochi::bench
