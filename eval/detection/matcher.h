// Training-label assignment for the RPN and the box head, as detectron2's Matcher
// (modeling/matcher.py) and subsample_labels (modeling/sampling.py): which anchors / proposals
// are positive, negative or ignored, and which of them a step trains on.
//
// Example (the RPN: IoU < 0.3 negative, [0.3, 0.7) ignored, >= 0.7 positive, 256 anchors per
// image, half of them positive at most):
//   MOCHI_ASSIGN_OR_RETURN(Matcher matcher, Matcher::Create({0.3, 0.7}, {0, -1, 1}, true));
//   MOCHI_ASSIGN_OR_RETURN(at::Tensor iou, PairwiseIou(gt_boxes, anchors));
//   MOCHI_ASSIGN_OR_RETURN(Matcher::Result match, matcher.Match(iou));
//   MOCHI_ASSIGN_OR_RETURN(SampledIndices sampled,
//                          SubsampleLabels(match.labels, 256, 0.5, /*background_label=*/0, gen));
#ifndef EVAL_DETECTION_MATCHER_H_
#define EVAL_DETECTION_MATCHER_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "ATen/core/Generator.h"
#include "ATen/core/Tensor.h"
#include "absl/status/statusor.h"

namespace mochi::eval::detection {

// Matcher: each prediction (anchor or proposal) gets the ground truth of highest quality (IoU)
// and a label from the interval that quality falls in: with thresholds t_1 < ... < t_k and
// labels l_0, ..., l_k, quality q gets l_i for t_i <= q < t_{i+1} (t_0 = -inf, t_{k+1} = +inf),
// so a quality equal to a threshold takes the higher interval's label.
//
// allow_low_quality_matches (the RPN; Faster R-CNN section 3.1.2, case (i)): every prediction
// whose quality equals the best quality some ground truth reaches (ties included) is also
// labelled 1, whatever its interval. `matches` is left as the best ground truth (detectron2
// does not re-point it). As in detectron2 this includes a best quality of 0, so a ground truth
// that overlaps nothing turns every prediction it does not overlap positive.
//
// detectron2 uses Matcher({0.3, 0.7}, {0, -1, 1}, true) for the RPN (MODEL.RPN.IOU_*) and
// Matcher({0.5}, {0, 1}, false) for the box head (MODEL.ROI_HEADS.IOU_*).
class Matcher {
 public:
  struct Result {
    at::Tensor
        matches;        // int64 [N]: index of the best ground truth (the first on ties; 0 if M = 0)
    at::Tensor labels;  // int8 [N]: -1 ignore, 0 negative, 1 positive
  };

  // InvalidArgument unless thresholds are non-decreasing and the first is > 0, there is one more
  // label than thresholds, and every label is -1, 0 or 1.
  static absl::StatusOr<Matcher> Create(std::vector<double> thresholds, std::vector<int> labels,
                                        bool allow_low_quality_matches);

  // Match: quality [M, N] for M ground truths x N predictions, values >= 0. With no ground truth
  // (M = 0) every prediction gets labels[0] (background). InvalidArgument on a shape that is not
  // 2-D or a negative (or NaN) quality.
  absl::StatusOr<Result> Match(const at::Tensor& quality) const;

 private:
  Matcher(std::vector<double> thresholds, std::vector<int> labels, bool allow_low_quality_matches)
      : thresholds_(std::move(thresholds)),
        labels_(std::move(labels)),
        allow_low_quality_matches_(allow_low_quality_matches) {}

  std::vector<double> thresholds_;
  std::vector<int> labels_;
  bool allow_low_quality_matches_;
};

struct SampledIndices {
  at::Tensor positive;  // int64 [P], indices into `labels`, in random order
  at::Tensor negative;  // int64 [Q]
};

// SubsampleLabels: a random, class-balanced subset of the labelled elements. Positives are the
// labels other than -1 (ignore) and background_label (0 for the RPN, num_classes for the box
// head); negatives equal background_label.
//   P = min(#positives, floor(num_samples * positive_fraction))
//   Q = min(#negatives, num_samples - P)
// so missing positives are made up with negatives. Indices are drawn without replacement with
// `generator` (randperm on the generator's device, then moved to labels' device), so a seeded
// generator makes the choice reproducible.
//   labels: integer [N]. InvalidArgument on shape / dtype, num_samples < 0, positive_fraction
//   outside [0, 1], or an undefined generator.
absl::StatusOr<SampledIndices> SubsampleLabels(const at::Tensor& labels, int64_t num_samples,
                                               double positive_fraction, int64_t background_label,
                                               const at::Generator& generator);

}  // namespace mochi::eval::detection

#endif  // EVAL_DETECTION_MATCHER_H_
