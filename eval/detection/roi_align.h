// RoIAlign (Mask R-CNN, He et al. 2017), with the semantics of detectron2's ROIAlign layer
// (torchvision.ops.roi_align), forward and backward, as an autograd function.
//
// Each region of interest is split into output_height x output_width bins; a bin's value is the
// mean of sampling_ratio x sampling_ratio bilinearly interpolated feature values at the centres
// of a regular sub-grid of the bin (sampling_ratio 0: ceil(roi size / output size) per side).
// Samples within one pixel outside the map read the border value; samples farther out read 0
// (and still count in the mean).
//
// aligned = true (detectron2's ROIAlignV2, the R50-C4 recipes' POOLER_TYPE): a box is shifted by
// -0.5 feature pixels after scaling, so that a feature pixel's value sits at its centre and a box
// [0, 2] x [0, 2] on a stride-1 map averages exactly pixels 0 and 1. aligned = false is the
// original layer, which also forces each box to be at least 1 x 1 feature pixels.
//
// The kernels are CPU code parallelised with at::parallel_for (over regions forward, over
// channels backward, so the gradient is deterministic). Tensors on another device are copied to
// the host and the result back.
//
// Example (the C4 box head, detectron2's ROIPooler with output 14, scale 1/16, ROIAlignV2):
//   at::Tensor rois = at::cat({batch_index.unsqueeze(1).to(at::kFloat), proposals}, 1);
//   MOCHI_ASSIGN_OR_RETURN(at::Tensor pooled, RoiAlign(res4, rois, RoiAlignOptions()));
#ifndef EVAL_DETECTION_ROI_ALIGN_H_
#define EVAL_DETECTION_ROI_ALIGN_H_

#include <cstdint>

#include "ATen/core/Tensor.h"
#include "absl/status/statusor.h"

namespace mochi::eval::detection {

struct RoiAlignOptions {
  int64_t output_height = 14;
  int64_t output_width = 14;
  // Feature-map pixels per image pixel: 1 / 16 for C4 (res4, stride 16).
  double spatial_scale = 1.0 / 16;
  // Samples per bin side; 0 = adaptive, ceil(roi size / output size) per side and per box.
  int64_t sampling_ratio = 0;
  bool aligned = true;
};

// RoiAlign: pooled features of each region.
//   features: [N, C, H, W], float or double.
//   rois: [R, 5] rows (batch index, x1, y1, x2, y2), boxes in image coordinates (any floating
//     dtype; converted to the features' dtype).
//   returns: [R, C, output_height, output_width], dtype and device of `features`.
// Differentiable with respect to `features` (not `rois`, as in detectron2). InvalidArgument on
// shapes, dtypes, devices, options, or a batch index outside [0, N).
absl::StatusOr<at::Tensor> RoiAlign(const at::Tensor& features, const at::Tensor& rois,
                                    const RoiAlignOptions& options);

}  // namespace mochi::eval::detection

#endif  // EVAL_DETECTION_ROI_ALIGN_H_
