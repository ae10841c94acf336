// The few numpy 1.24 numerics that the reference evaluators (pycocotools COCOeval, detectron2's
// voc_eval) depend on, reproduced bit for bit so that our AP numbers equal theirs:
//   * np.linspace's rounding (i * step + start, so linspace(0, 1, 101)[70] is 0.7000000000000001,
//     not 0.7);
//   * np.add.reduce's pairwise summation (np.sum, np.mean);
//   * np.argsort's default kind, an introsort that is NOT stable, so tied scores come out in the
//     order numpy gives them; and the stable kind="mergesort".
// Shared by eval/coco and eval/voc.
#ifndef EVAL_COCO_NUMPY_COMPAT_H_
#define EVAL_COCO_NUMPY_COMPAT_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"

namespace mochi::eval::numpy_compat {

// np.linspace(start, stop, num) (endpoint=True): element i is i * ((stop - start) / (num - 1)) +
// start, and the last element is exactly `stop`.
// Example: Linspace(0.5, 0.95, 10)[8] == 0.8999999999999999.
std::vector<double> Linspace(double start, double stop, int num);

// np.sum / np.add.reduce of a contiguous float64 array: pairwise summation (sequential below 8
// elements, 8 interleaved partial sums up to 128, halving above). 0 for an empty array.
double Sum(absl::Span<const double> values);

// np.mean: Sum(values) / size; NaN for an empty array.
double Mean(absl::Span<const double> values);

// numpy's float64 "less than": NaN sorts after every number.
inline bool Less(double a, double b) { return a < b || (b != b && a == a); }

// np.argsort(values): numpy's default quicksort (median-of-3 introsort, insertion sort for
// partitions of up to 16 elements, heapsort fallback). Not stable: from 17 elements on, equal
// values come out in numpy's order rather than input order.
std::vector<int64_t> ArgsortQuick(absl::Span<const double> values);

// np.argsort(values, kind="mergesort"): ascending, ties keep their input order.
std::vector<int64_t> ArgsortStable(absl::Span<const double> values);

}  // namespace mochi::eval::numpy_compat

#endif  // EVAL_COCO_NUMPY_COMPAT_H_
