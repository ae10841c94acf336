#include "eval/detection/roi_heads.h"

#include "ATen/ATen.h"
#include "absl/strings/str_cat.h"
#include "eval/detection/boxes.h"
#include "eval/detection/matcher.h"
#include "mochi/port/status_macros.h"

namespace mochi::eval::detection {

absl::StatusOr<RoiTargets> AssignRoiTargets(const at::Tensor& proposals, const at::Tensor& gt_boxes,
                                            const at::Tensor& gt_classes, int64_t num_classes,
                                            const FasterRcnnOptions& options,
                                            const at::Generator& generator) {
  MOCHI_RETURN_IF_ERROR(ValidateBoxes(proposals, "proposals"));
  MOCHI_RETURN_IF_ERROR(ValidateBoxes(gt_boxes, "gt_boxes"));
  if (gt_classes.dim() != 1 || gt_classes.size(0) != gt_boxes.size(0)) {
    return absl::InvalidArgumentError(absl::StrCat("gt_classes must be [", gt_boxes.size(0),
                                                   "], got ", c10::str(gt_classes.sizes())));
  }
  // PROPOSAL_APPEND_GT: the ground truth is always among the candidates, so early in training
  // (when the RPN proposes nothing useful) the box head still sees positives.
  const at::Tensor candidates = at::cat({proposals, gt_boxes.to(proposals.scalar_type())}, 0);
  const int64_t n = candidates.size(0);
  at::Tensor classes = at::full({n}, num_classes, gt_classes.options().dtype(at::kLong));
  at::Tensor matches = at::zeros({n}, classes.options());
  if (gt_boxes.size(0) > 0) {
    MOCHI_ASSIGN_OR_RETURN(Matcher matcher,
                           Matcher::Create({options.roi_iou_threshold}, {0, 1}, false));
    MOCHI_ASSIGN_OR_RETURN(at::Tensor iou, PairwiseIou(gt_boxes, candidates));
    MOCHI_ASSIGN_OR_RETURN(Matcher::Result match, matcher.Match(iou));
    matches = match.matches;
    classes =
        at::where(match.labels == 1, gt_classes.to(at::kLong).index_select(0, matches), classes);
  }
  MOCHI_ASSIGN_OR_RETURN(SampledIndices sampled,
                         SubsampleLabels(classes, options.roi_batch_size_per_image,
                                         options.roi_positive_fraction, num_classes, generator));
  const at::Tensor index = at::cat({sampled.positive, sampled.negative});
  RoiTargets out;
  out.proposals = candidates.index_select(0, index);
  out.classes = classes.index_select(0, index);
  out.matched = matches.index_select(0, index);
  out.deltas = at::zeros({index.size(0), 4}, candidates.options());
  const int64_t num_positive = sampled.positive.size(0);
  if (num_positive > 0) {
    MOCHI_ASSIGN_OR_RETURN(Box2BoxTransform transform,
                           Box2BoxTransform::Create(options.roi_box_weights));
    // Only foreground regions regress, and only their (non-degenerate) boxes are divided by.
    MOCHI_ASSIGN_OR_RETURN(
        at::Tensor deltas,
        transform.GetDeltas(out.proposals.slice(0, 0, num_positive),
                            gt_boxes.index_select(0, matches.index_select(0, sampled.positive))));
    out.deltas.slice(0, 0, num_positive).copy_(deltas);
  }
  return out;
}

BoxPredictorImpl::BoxPredictorImpl(int64_t channels, int64_t num_classes) {
  cls_score = register_module("cls_score", torch::nn::Linear(channels, num_classes + 1));
  bbox_pred = register_module("bbox_pred", torch::nn::Linear(channels, 4 * num_classes));
}

std::pair<at::Tensor, at::Tensor> BoxPredictorImpl::forward(const at::Tensor& x) {
  return {cls_score(x), bbox_pred(x)};
}

}  // namespace mochi::eval::detection
