#include "eval/detection/rpn.h"

#include "ATen/ATen.h"
#include "eval/detection/boxes.h"
#include "eval/detection/matcher.h"
#include "mochi/port/status_macros.h"

namespace mochi::eval::detection {

absl::StatusOr<RpnTargets> AssignRpnTargets(const at::Tensor& anchors, const at::Tensor& gt_boxes,
                                            int64_t batch_size, double positive_fraction,
                                            const at::Generator& generator) {
  MOCHI_RETURN_IF_ERROR(ValidateBoxes(anchors, "anchors"));
  MOCHI_RETURN_IF_ERROR(ValidateBoxes(gt_boxes, "gt_boxes"));
  RpnTargets out;
  at::Tensor labels;
  if (gt_boxes.size(0) == 0) {
    labels = at::zeros({anchors.size(0)}, anchors.options().dtype(at::kChar));
    out.deltas = at::zeros({anchors.size(0), 4}, anchors.options());
  } else {
    MOCHI_ASSIGN_OR_RETURN(Matcher matcher, Matcher::Create({0.3, 0.7}, {0, -1, 1}, true));
    MOCHI_ASSIGN_OR_RETURN(at::Tensor iou, PairwiseIou(gt_boxes, anchors));
    MOCHI_ASSIGN_OR_RETURN(Matcher::Result match, matcher.Match(iou));
    labels = match.labels;
    MOCHI_ASSIGN_OR_RETURN(Box2BoxTransform transform, Box2BoxTransform::Create({1, 1, 1, 1}));
    MOCHI_ASSIGN_OR_RETURN(out.deltas,
                           transform.GetDeltas(anchors, gt_boxes.index_select(0, match.matches)));
    out.deltas = out.deltas.to(anchors.scalar_type());
  }
  MOCHI_ASSIGN_OR_RETURN(SampledIndices sampled,
                         SubsampleLabels(labels, batch_size, positive_fraction, 0, generator));
  out.labels = at::full({anchors.size(0)}, -1, labels.options());
  out.labels.index_fill_(0, sampled.positive, 1);
  out.labels.index_fill_(0, sampled.negative, 0);
  return out;
}

RpnHeadImpl::RpnHeadImpl(int64_t channels, int64_t cell_anchors) : cell_anchors_(cell_anchors) {
  conv = register_module(
      "conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, channels, 3).padding(1)));
  objectness = register_module(
      "objectness", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, cell_anchors, 1)));
  deltas = register_module(
      "deltas", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, 4 * cell_anchors, 1)));
}

std::pair<at::Tensor, at::Tensor> RpnHeadImpl::forward(const at::Tensor& features) {
  const int64_t n = features.size(0);
  const int64_t h = features.size(2);
  const int64_t w = features.size(3);
  const at::Tensor t = at::relu(conv(features));
  // [N, A, h, w] -> [N, h, w, A]: the anchors' cell-major order.
  at::Tensor logits = objectness(t).permute({0, 2, 3, 1}).reshape({n, -1});
  at::Tensor box_deltas =
      deltas(t).view({n, cell_anchors_, 4, h, w}).permute({0, 3, 4, 1, 2}).reshape({n, -1, 4});
  return {std::move(logits), std::move(box_deltas)};
}

}  // namespace mochi::eval::detection
