// Greedy non-maximum suppression, as torchvision.ops.nms / batched_nms that detectron2 calls
// (RPN proposals: per image; box head inference: per class).
//
// Visiting boxes by decreasing score, a box is kept unless its IoU with an already kept box is
// greater than iou_threshold (an IoU equal to the threshold does not suppress). Boxes are XYXY
// without the "+1 pixel". Equal scores are visited in increasing index order (a stable sort), so
// the result never depends on the sort implementation or the thread count.
//
// The kernel runs on the CPU; inputs on another device are copied to the host and the indices
// copied back, so both functions accept tensors on any device.
//
// Example:
//   MOCHI_ASSIGN_OR_RETURN(at::Tensor keep, BatchedNms(boxes, scores, classes, 0.5));
//   keep = keep.slice(0, 0, 100);  // detections per image
#ifndef EVAL_DETECTION_NMS_H_
#define EVAL_DETECTION_NMS_H_

#include "ATen/core/Tensor.h"
#include "absl/status/statusor.h"

namespace mochi::eval::detection {

// Nms: boxes [N, 4] XYXY, scores [N] -> int64 [K] indices of the kept boxes, by decreasing score.
// InvalidArgument on shapes or devices that do not match.
absl::StatusOr<at::Tensor> Nms(const at::Tensor& boxes, const at::Tensor& scores,
                               double iou_threshold);

// BatchedNms: Nms within each category, i.e. boxes whose `categories` (integer [N]) differ never
// suppress each other. The result is one list over all categories, by decreasing score, as Nms.
absl::StatusOr<at::Tensor> BatchedNms(const at::Tensor& boxes, const at::Tensor& scores,
                                      const at::Tensor& categories, double iou_threshold);

}  // namespace mochi::eval::detection

#endif  // EVAL_DETECTION_NMS_H_
