#include "eval/coco/numpy_compat.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

namespace mochi::eval::numpy_compat {
namespace {

// numpy's PW_BLOCKSIZE: pairwise summation recurses above this many elements.
constexpr int64_t kPairwiseBlock = 128;
// numpy's SMALL_QUICKSORT: partitions spanning at most this many positions past the first are
// insertion-sorted (so arrays of up to 16 elements come out stably ordered).
constexpr int64_t kSmallQuicksort = 15;

double PairwiseSum(const double* values, int64_t n) {
  if (n < 8) {
    double sum = 0.;
    for (int64_t i = 0; i < n; ++i) sum += values[i];
    return sum;
  }
  if (n <= kPairwiseBlock) {
    double lanes[8];
    for (int lane = 0; lane < 8; ++lane) lanes[lane] = values[lane];
    int64_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (int lane = 0; lane < 8; ++lane) lanes[lane] += values[i + lane];
    }
    double sum = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
                 ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
    for (; i < n; ++i) sum += values[i];
    return sum;
  }
  int64_t half = n / 2;
  half -= half % 8;
  return PairwiseSum(values, half) + PairwiseSum(values + half, n - half);
}

// Index of the highest set bit (numpy's npy_get_msb); sets the introsort depth budget.
int HighestBit(uint64_t n) {
  int bit = 0;
  while (n >>= 1) ++bit;
  return bit;
}

// Heapsort of the indices in [first, first + n), keyed by values (numpy's aheapsort).
void HeapArgsort(const double* values, int64_t* first, int64_t n) {
  int64_t* heap = first - 1;  // 1-based, as the textbook sift-down is written
  auto sift_down = [&](int64_t root, int64_t size) {
    const int64_t moving = heap[root];
    int64_t hole = root;
    for (int64_t child = 2 * root; child <= size;) {
      if (child < size && Less(values[heap[child]], values[heap[child + 1]])) ++child;
      if (!Less(values[moving], values[heap[child]])) break;
      heap[hole] = heap[child];
      hole = child;
      child += child;
    }
    heap[hole] = moving;
  };
  for (int64_t root = n >> 1; root > 0; --root) sift_down(root, n);
  for (int64_t size = n; size > 1;) {
    std::swap(heap[size], heap[1]);
    --size;
    sift_down(1, size);
  }
}

}  // namespace

std::vector<double> Linspace(double start, double stop, int num) {
  std::vector<double> result(std::max(num, 0));
  if (num <= 0) return result;
  const int divisions = num - 1;
  if (divisions == 0) {
    result[0] = start;
    return result;
  }
  const double step = (stop - start) / divisions;
  for (int i = 0; i < num; ++i) result[i] = static_cast<double>(i) * step + start;
  result[num - 1] = stop;
  return result;
}

double Sum(absl::Span<const double> values) {
  return PairwiseSum(values.data(), static_cast<int64_t>(values.size()));
}

double Mean(absl::Span<const double> values) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  return Sum(values) / static_cast<double>(values.size());
}

std::vector<int64_t> ArgsortQuick(absl::Span<const double> values) {
  const int64_t n = static_cast<int64_t>(values.size());
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  if (n < 2) return order;
  const double* v = values.data();

  struct Pending {
    int64_t* low;
    int64_t* high;
    int depth_budget;
  };
  std::vector<Pending> pending;
  int64_t* low = order.data();
  int64_t* high = low + n - 1;
  int depth_budget = 2 * HighestBit(static_cast<uint64_t>(n));
  for (;;) {
    if (depth_budget < 0) {
      HeapArgsort(v, low, high - low + 1);
    } else {
      while (high - low > kSmallQuicksort) {
        int64_t* mid = low + ((high - low) >> 1);
        // Median of three into *mid, then hide the pivot just before `high`.
        if (Less(v[*mid], v[*low])) std::swap(*mid, *low);
        if (Less(v[*high], v[*mid])) std::swap(*high, *mid);
        if (Less(v[*mid], v[*low])) std::swap(*mid, *low);
        const double pivot = v[*mid];
        int64_t* left = low;
        int64_t* right = high - 1;
        std::swap(*mid, *right);
        for (;;) {
          do ++left;
          while (Less(v[*left], pivot));
          do --right;
          while (Less(pivot, v[*right]));
          if (left >= right) break;
          std::swap(*left, *right);
        }
        std::swap(*left, *(high - 1));
        // Keep partitioning the smaller side; the larger waits on the stack.
        if (left - low < high - left) {
          pending.push_back({left + 1, high, --depth_budget});
          high = left - 1;
        } else {
          pending.push_back({low, left - 1, --depth_budget});
          low = left + 1;
        }
      }
      for (int64_t* next = low + 1; next <= high; ++next) {
        const int64_t moving = *next;
        const double key = v[moving];
        int64_t* hole = next;
        while (hole > low && Less(key, v[*(hole - 1)])) {
          *hole = *(hole - 1);
          --hole;
        }
        *hole = moving;
      }
    }
    if (pending.empty()) break;
    low = pending.back().low;
    high = pending.back().high;
    depth_budget = pending.back().depth_budget;
    pending.pop_back();
  }
  return order;
}

std::vector<int64_t> ArgsortStable(absl::Span<const double> values) {
  std::vector<int64_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return Less(values[a], values[b]); });
  return order;
}

}  // namespace mochi::eval::numpy_compat
