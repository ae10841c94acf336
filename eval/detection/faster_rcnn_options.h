// The detector's options (detectron2's MODEL.* keys) and the data its parts exchange: per-image
// ground truth, detections and losses.
#ifndef EVAL_DETECTION_FASTER_RCNN_OPTIONS_H_
#define EVAL_DETECTION_FASTER_RCNN_OPTIONS_H_

#include <cstdint>
#include <vector>

#include "ATen/ATen.h"
#include "eval/detection/anchors.h"
#include "eval/detection/boxes.h"

namespace mochi::eval::detection {

// FasterRcnnOptions: detectron2's MODEL.* keys; defaults are its defaults for the C4 models.
struct FasterRcnnOptions {
  int64_t num_classes = 20;  // K, background excluded
  // Sizes and ratios; the stride is taken from the backbone (ResNet::res4_stride()).
  AnchorGeneratorOptions anchors;
  // RPN (MODEL.RPN.*).
  int64_t rpn_batch_size_per_image = 256;
  double rpn_positive_fraction = 0.5;
  int64_t rpn_pre_nms_topk_train = 12000;
  int64_t rpn_post_nms_topk_train = 2000;
  int64_t rpn_pre_nms_topk_test = 6000;
  int64_t rpn_post_nms_topk_test = 1000;
  double rpn_nms_thresh = 0.7;
  // Box head (MODEL.ROI_HEADS.*, MODEL.ROI_BOX_HEAD.*).
  int64_t roi_batch_size_per_image = 512;
  double roi_positive_fraction = 0.25;
  double roi_iou_threshold = 0.5;
  int64_t pooler_resolution = 14;
  BoxTransformWeights roi_box_weights = {10, 10, 5, 5};
  double test_score_thresh = 0.05;
  double test_nms_thresh = 0.5;
  int64_t detections_per_image = 100;
  // Norm.
  bool frozen_bn = false;
  bool roi_head_extra_norm = true;  // MoCo's Res5ROIHeadsExtraNorm
  // Mask head (MODEL.MASK_ON, MODEL.ROI_MASK_HEAD.CONV_DIM).
  bool mask_on = false;
  int64_t mask_head_conv_dim = 256;
  // Per input channel, in the images' 0-255 scale (MODEL.PIXEL_MEAN / PIXEL_STD).
  std::vector<double> pixel_mean = {103.530, 116.280, 123.675};
  std::vector<double> pixel_std = {1, 1, 1};
};

// Side of the mask head's square output: res5 (stride 2) halves the pooler's side and the
// deconvolution doubles it back, so 14 for the C4 pooler of 14.
inline int64_t MaskSide(const FasterRcnnOptions& options) {
  return 2 * ((options.pooler_resolution + 1) / 2);
}

// Ground truth of one training image, in its (resized) input pixels.
struct ImageTargets {
  at::Tensor boxes;    // float [G, 4] XYXY
  at::Tensor classes;  // int64 [G], in [0, K)
  at::Tensor masks;    // float [G, H, W] of 0 / 1 over the input image; needed with mask_on
};

struct Detections {
  at::Tensor boxes;    // float [D, 4] XYXY in input pixels, clipped to the image
  at::Tensor scores;   // float [D], decreasing
  at::Tensor classes;  // int64 [D], in [0, K)
  at::Tensor masks;    // mask_on: float [D, M, M] probabilities of the detected class, box frame
};

struct RcnnLosses {
  at::Tensor rpn_cls;
  at::Tensor rpn_loc;
  at::Tensor cls;
  at::Tensor box_reg;
  at::Tensor mask;  // mask_on only (undefined otherwise)
  at::Tensor Total() const {
    const at::Tensor boxes = rpn_cls + rpn_loc + cls + box_reg;
    return mask.defined() ? boxes + mask : boxes;
  }
};

}  // namespace mochi::eval::detection

#endif  // EVAL_DETECTION_FASTER_RCNN_OPTIONS_H_
