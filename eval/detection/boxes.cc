#include "eval/detection/boxes.h"

#include "ATen/ATen.h"
#include "absl/strings/str_cat.h"
#include "c10/util/StringUtil.h"
#include "mochi/port/status_macros.h"

namespace mochi::eval::detection {
namespace {

// Columns of an [N, 4] box tensor, each [N].
struct Corners {
  at::Tensor x1, y1, x2, y2;
};
Corners Unbind(const at::Tensor& boxes) {
  return {boxes.select(1, 0), boxes.select(1, 1), boxes.select(1, 2), boxes.select(1, 3)};
}

// Centres and sizes of [N, 4] boxes, each [N].
struct CentreSize {
  at::Tensor cx, cy, w, h;
};
CentreSize ToCentreSize(const at::Tensor& boxes) {
  const Corners c = Unbind(boxes);
  const at::Tensor w = c.x2 - c.x1;
  const at::Tensor h = c.y2 - c.y1;
  return {c.x1 + 0.5 * w, c.y1 + 0.5 * h, w, h};
}

}  // namespace

absl::Status ValidateBoxes(const at::Tensor& boxes, absl::string_view what) {
  if (!boxes.defined()) return absl::InvalidArgumentError(absl::StrCat(what, ": undefined tensor"));
  if (boxes.dim() != 2 || boxes.size(1) != 4) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": boxes must be [N, 4], got ", c10::str(boxes.sizes())));
  }
  if (!at::isFloatingType(boxes.scalar_type())) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": boxes must be floating point, got ",
                                                   c10::toString(boxes.scalar_type())));
  }
  return absl::OkStatus();
}

absl::StatusOr<at::Tensor> BoxArea(const at::Tensor& boxes) {
  MOCHI_RETURN_IF_ERROR(ValidateBoxes(boxes, "BoxArea"));
  const Corners c = Unbind(boxes);
  return (c.x2 - c.x1) * (c.y2 - c.y1);
}

absl::StatusOr<at::Tensor> PairwiseIou(const at::Tensor& boxes1, const at::Tensor& boxes2) {
  MOCHI_RETURN_IF_ERROR(ValidateBoxes(boxes1, "PairwiseIou(boxes1)"));
  MOCHI_RETURN_IF_ERROR(ValidateBoxes(boxes2, "PairwiseIou(boxes2)"));
  if (boxes1.device() != boxes2.device()) {
    return absl::InvalidArgumentError("PairwiseIou: boxes on different devices");
  }
  const at::Tensor area1 = *BoxArea(boxes1);
  const at::Tensor area2 = *BoxArea(boxes2);
  // [N, M, 2] corners of the intersections; negative extents mean no overlap.
  const at::Tensor top_left = at::max(boxes1.slice(1, 0, 2).unsqueeze(1), boxes2.slice(1, 0, 2));
  const at::Tensor bottom_right =
      at::min(boxes1.slice(1, 2, 4).unsqueeze(1), boxes2.slice(1, 2, 4));
  const at::Tensor extent = (bottom_right - top_left).clamp_min(0);
  const at::Tensor intersection = extent.select(2, 0) * extent.select(2, 1);  // [N, M]
  const at::Tensor union_area = area1.unsqueeze(1) + area2 - intersection;
  // where(): 0 / 0 for two empty boxes would otherwise be NaN.
  return at::where(intersection > 0, intersection / union_area, at::zeros_like(intersection));
}

absl::StatusOr<at::Tensor> ClipBoxes(const at::Tensor& boxes, int64_t image_height,
                                     int64_t image_width) {
  MOCHI_RETURN_IF_ERROR(ValidateBoxes(boxes, "ClipBoxes"));
  if (image_height < 0 || image_width < 0) {
    return absl::InvalidArgumentError(absl::StrCat("ClipBoxes: image size ", image_height, "x",
                                                   image_width, " must be non-negative"));
  }
  if (!at::isfinite(boxes).all().item<bool>()) {
    return absl::InvalidArgumentError("ClipBoxes: boxes contain inf or NaN");
  }
  const Corners c = Unbind(boxes);
  const double w = static_cast<double>(image_width);
  const double h = static_cast<double>(image_height);
  return at::stack({c.x1.clamp(0, w), c.y1.clamp(0, h), c.x2.clamp(0, w), c.y2.clamp(0, h)}, 1);
}

absl::StatusOr<at::Tensor> RemoveSmallBoxes(const at::Tensor& boxes, double min_size) {
  MOCHI_RETURN_IF_ERROR(ValidateBoxes(boxes, "RemoveSmallBoxes"));
  const Corners c = Unbind(boxes);
  const at::Tensor keep = ((c.x2 - c.x1) > min_size) & ((c.y2 - c.y1) > min_size);
  return at::nonzero(keep).reshape(-1);
}

absl::StatusOr<Box2BoxTransform> Box2BoxTransform::Create(const BoxTransformWeights& weights,
                                                          double scale_clamp) {
  if (!(weights.x > 0 && weights.y > 0 && weights.width > 0 && weights.height > 0)) {
    return absl::InvalidArgumentError(absl::StrCat("Box2BoxTransform: weights (", weights.x, ", ",
                                                   weights.y, ", ", weights.width, ", ",
                                                   weights.height, ") must all be > 0"));
  }
  if (!(scale_clamp > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Box2BoxTransform: scale_clamp = ", scale_clamp, " must be > 0"));
  }
  return Box2BoxTransform(weights, scale_clamp);
}

absl::StatusOr<at::Tensor> Box2BoxTransform::GetDeltas(const at::Tensor& source_boxes,
                                                       const at::Tensor& target_boxes) const {
  MOCHI_RETURN_IF_ERROR(ValidateBoxes(source_boxes, "GetDeltas(source)"));
  MOCHI_RETURN_IF_ERROR(ValidateBoxes(target_boxes, "GetDeltas(target)"));
  if (source_boxes.size(0) != target_boxes.size(0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("GetDeltas: one target per source box required, got ", source_boxes.size(0),
                     " and ", target_boxes.size(0)));
  }
  if (source_boxes.device() != target_boxes.device()) {
    return absl::InvalidArgumentError("GetDeltas: source and target boxes on different devices");
  }
  const CentreSize s = ToCentreSize(source_boxes);
  const CentreSize t = ToCentreSize(target_boxes);
  if (!((s.w > 0) & (s.h > 0)).all().item<bool>()) {
    return absl::InvalidArgumentError("GetDeltas: source boxes must have width and height > 0");
  }
  return at::stack({weights_.x * (t.cx - s.cx) / s.w, weights_.y * (t.cy - s.cy) / s.h,
                    weights_.width * at::log(t.w / s.w), weights_.height * at::log(t.h / s.h)},
                   1);
}

absl::StatusOr<at::Tensor> Box2BoxTransform::ApplyDeltas(const at::Tensor& deltas,
                                                         const at::Tensor& boxes) const {
  MOCHI_RETURN_IF_ERROR(ValidateBoxes(boxes, "ApplyDeltas(boxes)"));
  if (!deltas.defined() || deltas.dim() != 2 || deltas.size(1) % 4 != 0 ||
      deltas.size(0) != boxes.size(0) || !at::isFloatingType(deltas.scalar_type())) {
    return absl::InvalidArgumentError(
        absl::StrCat("ApplyDeltas: deltas must be floating [N, 4k] with N = ", boxes.size(0),
                     ", got ", deltas.defined() ? c10::str(deltas.sizes()) : "undefined"));
  }
  if (deltas.device() != boxes.device()) {
    return absl::InvalidArgumentError("ApplyDeltas: deltas and boxes on different devices");
  }
  const at::ScalarType dtype = at::promote_types(deltas.scalar_type(), at::kFloat);
  const at::Tensor d = deltas.to(dtype);
  const CentreSize b = ToCentreSize(boxes.to(dtype));
  // [N, k] per coordinate: column j of box i is deltas[i, 4 j + coordinate].
  auto column = [&](int64_t coordinate) { return d.slice(1, coordinate, d.size(1), 4); };
  const at::Tensor dx = column(0) / weights_.x;
  const at::Tensor dy = column(1) / weights_.y;
  const at::Tensor dw = (column(2) / weights_.width).clamp_max(scale_clamp_);
  const at::Tensor dh = (column(3) / weights_.height).clamp_max(scale_clamp_);
  const at::Tensor cx = dx * b.w.unsqueeze(1) + b.cx.unsqueeze(1);
  const at::Tensor cy = dy * b.h.unsqueeze(1) + b.cy.unsqueeze(1);
  const at::Tensor w = at::exp(dw) * b.w.unsqueeze(1);
  const at::Tensor h = at::exp(dh) * b.h.unsqueeze(1);
  // [N, k, 4] -> [N, 4k], the layout of `deltas`.
  return at::stack({cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h}, 2)
      .reshape(deltas.sizes());
}

}  // namespace mochi::eval::detection
