// Axis-aligned boxes and the R-CNN box regression, with detectron2's semantics
// (structures/boxes.py, modeling/box_regression.py).
//
// Boxes are XYXY in pixels, [N, 4] floating tensors on any device; a box's width is x2 - x1 (no
// "+1 pixel" as in the original Detectron). Every function works on the device of its inputs and
// returns InvalidArgument on a wrong shape or dtype instead of throwing.
//
// Example:
//   MOCHI_ASSIGN_OR_RETURN(at::Tensor iou, PairwiseIou(gt_boxes, anchors));  // [G, A]
//   MOCHI_ASSIGN_OR_RETURN(Box2BoxTransform rpn, Box2BoxTransform::Create({1, 1, 1, 1}));
//   MOCHI_ASSIGN_OR_RETURN(at::Tensor targets, rpn.GetDeltas(anchors, matched_gt_boxes));
#ifndef EVAL_DETECTION_BOXES_H_
#define EVAL_DETECTION_BOXES_H_

#include <cstdint>

#include "ATen/core/Tensor.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mochi::eval::detection {

// ValidateBoxes: OK if `boxes` is a floating [N, 4] tensor; otherwise InvalidArgument naming
// `what` and the actual shape. For callers that take boxes from users (e.g. NMS).
absl::Status ValidateBoxes(const at::Tensor& boxes, absl::string_view what);

// BoxArea: (x2 - x1) * (y2 - y1). boxes [N, 4] -> [N].
absl::StatusOr<at::Tensor> BoxArea(const at::Tensor& boxes);

// PairwiseIou: intersection over union of every pair. boxes1 [N, 4], boxes2 [M, 4] -> [N, M].
// Pairs that do not intersect get 0 (never NaN, even for empty boxes).
absl::StatusOr<at::Tensor> PairwiseIou(const at::Tensor& boxes1, const at::Tensor& boxes2);

// ClipBoxes: clamps x to [0, image_width] and y to [0, image_height]. boxes [N, 4] -> [N, 4].
// InvalidArgument on a negative image size or a non-finite coordinate (as detectron2 asserts).
absl::StatusOr<at::Tensor> ClipBoxes(const at::Tensor& boxes, int64_t image_height,
                                     int64_t image_width);

// RemoveSmallBoxes: indices of the boxes whose width and height are both > min_size (strictly,
// as detectron2's Boxes.nonempty; torchvision's remove_small_boxes uses >=). boxes [N, 4] ->
// int64 [K], increasing.
absl::StatusOr<at::Tensor> RemoveSmallBoxes(const at::Tensor& boxes, double min_size);

// log(1000 / 16): decoded boxes grow at most by this in log-size, i.e. a 16 px box to 1000 px
// (detectron2's _DEFAULT_SCALE_CLAMP; it keeps exp() finite for wild early predictions).
inline constexpr double kDefaultScaleClamp = 4.135166556742356;

// Scales of (dx, dy, dw, dh). detectron2 uses (1, 1, 1, 1) for the RPN and (10, 10, 5, 5) for
// the box head (MODEL.RPN.BBOX_REG_WEIGHTS, MODEL.ROI_BOX_HEAD.BBOX_REG_WEIGHTS).
struct BoxTransformWeights {
  double x = 1;
  double y = 1;
  double width = 1;
  double height = 1;
};

// Box2BoxTransform: the R-CNN parameterisation of one box relative to another. With centres
// (cx, cy) and sizes (w, h) of a source box s and a target box t,
//   dx = wx (t.cx - s.cx) / s.w    dy = wy (t.cy - s.cy) / s.h
//   dw = ww log(t.w / s.w)         dh = wh log(t.h / s.h)
// ApplyDeltas inverts GetDeltas, clamping dw / ww and dh / wh at scale_clamp first.
//
// Example:
//   MOCHI_ASSIGN_OR_RETURN(Box2BoxTransform head, Box2BoxTransform::Create({10, 10, 5, 5}));
//   MOCHI_ASSIGN_OR_RETURN(at::Tensor boxes, head.ApplyDeltas(class_deltas, proposals));
class Box2BoxTransform {
 public:
  // InvalidArgument unless every weight and scale_clamp is > 0.
  static absl::StatusOr<Box2BoxTransform> Create(const BoxTransformWeights& weights,
                                                 double scale_clamp = kDefaultScaleClamp);

  // GetDeltas: the deltas that move source_boxes onto target_boxes. Both [N, 4] -> [N, 4], in
  // the promoted dtype of the two. InvalidArgument on shapes, or if a source box has a width or
  // height <= 0 (detectron2 asserts this; the division would make inf / NaN targets).
  absl::StatusOr<at::Tensor> GetDeltas(const at::Tensor& source_boxes,
                                       const at::Tensor& target_boxes) const;

  // ApplyDeltas: decodes deltas [N, 4k] (k class-specific transforms per box, as the box head
  // predicts) relative to boxes [N, 4] -> [N, 4k]. Computed in float32 or wider (detectron2
  // decodes in float32 for precision; double stays double). Differentiable in `deltas`.
  absl::StatusOr<at::Tensor> ApplyDeltas(const at::Tensor& deltas, const at::Tensor& boxes) const;

  const BoxTransformWeights& weights() const { return weights_; }
  double scale_clamp() const { return scale_clamp_; }

 private:
  Box2BoxTransform(const BoxTransformWeights& weights, double scale_clamp)
      : weights_(weights), scale_clamp_(scale_clamp) {}

  BoxTransformWeights weights_;
  double scale_clamp_;
};

}  // namespace mochi::eval::detection

#endif  // EVAL_DETECTION_BOXES_H_
