// Moving instance masks between the image and a box's frame, as Mask R-CNN needs them
// (detectron2 structures/masks.py and layers/mask_ops.py):
//   * CropAndResizeMasks: training targets. Each region's ground-truth mask is cut to the region
//     box and resampled to side x side by RoIAlign (aligned, adaptive sampling, scale 1), then
//     thresholded at 0.5: BitMasks.crop_and_resize.
//   * PasteMasks: inference. A side x side mask of probabilities in a box frame is resampled
//     bilinearly onto the image's pixel centres (outside the mask reads 0) and thresholded:
//     paste_masks_in_image / _do_paste_mask.
//
// Example (Mask R-CNN C4, mask side 14):
//   MOCHI_ASSIGN_OR_RETURN(at::Tensor targets,
//                          CropAndResizeMasks(gt_masks, matched_gt, fg_proposals, 14));
//   MOCHI_ASSIGN_OR_RETURN(at::Tensor pixels, PasteMasks(probabilities, boxes, height, width));
#ifndef EVAL_DETECTION_MASK_OPS_H_
#define EVAL_DETECTION_MASK_OPS_H_

#include <cstdint>

#include "ATen/core/Tensor.h"
#include "absl/status/statusor.h"

namespace mochi::eval::detection {

// masks: float [G, H, W] (0 / 1), the ground truth of one image in the boxes' pixels.
// mask_index: int64 [S], which mask each region takes. boxes: [S, 4] XYXY.
// Returns float [S, side, side] of 0 / 1. InvalidArgument on shapes or an index outside [0, G).
absl::StatusOr<at::Tensor> CropAndResizeMasks(const at::Tensor& masks, const at::Tensor& mask_index,
                                              const at::Tensor& boxes, int64_t side);

// masks: float [D, M, M] probabilities, each in the frame of its box. boxes: [D, 4] XYXY in the
// output image's pixels. Returns uint8 [D, height, width], 1 where the resampled probability is
// >= threshold. A box with no width or height pastes an empty mask (detectron2 would divide by
// zero). InvalidArgument on shapes or an empty image size.
absl::StatusOr<at::Tensor> PasteMasks(const at::Tensor& masks, const at::Tensor& boxes,
                                      int64_t height, int64_t width, double threshold = 0.5);

}  // namespace mochi::eval::detection

#endif  // EVAL_DETECTION_MASK_OPS_H_
