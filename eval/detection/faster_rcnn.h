// Faster R-CNN with a C4 backbone (Ren et al. 2015; the R50-C4 model of detectron2's
// GeneralizedRCNN + RPN + Res5ROIHeads, which MoCo and MoCHi fine-tune on PASCAL VOC), and with
// mask_on its Mask R-CNN extension (He et al. 2017; detectron2's coco_R_50_C4_1x, which they
// fine-tune on COCO).
//
//   images -> normalise, pad -> ResNet stem + res2..res4 (stride 16, or 4 with the small-input
//   stem) -> RPN: 3x3 conv + ReLU, 1x1 objectness (A) and deltas (4A) per res4 cell
//   -> proposals: top-k objectness, decode, clip, NMS, top-k
//   -> RoIAlign 14x14 (ROIAlignV2) on res4 -> res5 (stride 2) [-> extra BN] -> mean pool
//   -> cls_score (K + 1 logits, background last) and bbox_pred (4K class-specific deltas).
//   mask_on: the res5 [-> extra norm] map of a region (7x7) -> 2x2 stride-2 deconvolution + ReLU
//   -> 1x1 conv to K class-specific 14x14 mask logits (MaskRCNNConvUpsampleHead, NUM_CONV 0).
//
// Losses as detectron2 (SMOOTH_L1_BETA 0, i.e. L1): RPN objectness BCE over sampled anchors and
// L1 over the positive ones, both summed and divided by rpn_batch_size_per_image x images; box
// head cross-entropy (mean) and L1 over the foreground regions' class deltas, summed and divided
// by the number of sampled regions. Ground-truth boxes are added to the proposals while training.
// Mask loss (mask_on): mean binary cross-entropy of the ground-truth class's mask logits of the
// foreground regions against their ground-truth masks cut to the region and resampled to 14x14
// (mask_ops.h CropAndResizeMasks); the regions share the box head's res5 features.
// Inference: softmax, class-specific boxes clipped to the image, score > threshold, NMS per class,
// the best detections_per_image. mask_on: the detected boxes go through res5 and the mask head
// again, and the detected class's mask logits become probabilities (sigmoid).
//
// Norm: with frozen_bn every BatchNorm of the backbone (and the extra norm) stays in eval mode
// and its affine parameters get no gradient (detectron2 FrozenBN); otherwise BN uses batch
// statistics of the step's images (res2..res4) and regions (res5), which on one process is what
// SyncBN computes.
//
// Example:
//   MOCHI_ASSIGN_OR_RETURN(FasterRcnn model, MakeFasterRcnn(backbone, options));
//   MOCHI_ASSIGN_OR_RETURN(RcnnLosses losses, model->Losses(images, targets, generator));
//   losses.Total().backward();
//   model->eval();
//   MOCHI_ASSIGN_OR_RETURN(std::vector<Detections> detections, model->Detect(images));
#ifndef EVAL_DETECTION_FASTER_RCNN_H_
#define EVAL_DETECTION_FASTER_RCNN_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "ATen/core/Generator.h"
#include "ATen/core/Tensor.h"
#include "absl/status/statusor.h"
#include "eval/detection/anchors.h"
#include "eval/detection/boxes.h"
#include "eval/detection/faster_rcnn_options.h"
#include "eval/detection/mask_head.h"
#include "eval/detection/roi_heads.h"
#include "eval/detection/rpn.h"
#include "mochi/models/resnet.h"
#include "torch/nn/module.h"
#include "torch/nn/modules/batchnorm.h"
#include "torch/nn/pimpl.h"

namespace mochi::eval::detection {

class FasterRcnnImpl : public torch::nn::Module {
 public:
  // Use MakeFasterRcnn (it validates the options); `anchors` from AnchorGenerator::Create.
  FasterRcnnImpl(models::ResNet backbone, const FasterRcnnOptions& options, AnchorGenerator anchors,
                 Box2BoxTransform rpn_transform, Box2BoxTransform roi_transform);

  // Losses: images are [C, H, W] float tensors in 0-255 (any sizes; they are normalised and
  // zero-padded to one batch), targets one per image. Draws anchor and region samples from
  // `generator`. The model must be in train mode.
  absl::StatusOr<RcnnLosses> Losses(const std::vector<at::Tensor>& images,
                                    const std::vector<ImageTargets>& targets,
                                    const at::Generator& generator);

  // Detect: per image, at most detections_per_image boxes. Call in eval mode, under NoGradGuard.
  absl::StatusOr<std::vector<Detections>> Detect(const std::vector<at::Tensor>& images);

  // Keeps frozen BN layers in eval mode whatever `on` is.
  void train(bool on = true) override;

  const FasterRcnnOptions& options() const { return options_; }
  models::ResNet backbone() const { return backbone_; }

 private:
  struct Batch {
    at::Tensor images;                               // [N, C, H, W], normalised, padded
    std::vector<std::pair<int64_t, int64_t>> sizes;  // (height, width) before padding
  };
  struct RpnOutput {
    at::Tensor features;  // res4 [N, C4, h, w]
    at::Tensor anchors;   // [h * w * A, 4]
    at::Tensor logits;    // [N, h * w * A]
    at::Tensor deltas;    // [N, h * w * A, 4]
  };

  Batch Preprocess(const std::vector<at::Tensor>& images) const;
  RpnOutput RunRpn(const at::Tensor& images);
  // Per image, detached proposals [P, 4].
  std::vector<at::Tensor> SelectProposals(const RpnOutput& rpn, const Batch& batch,
                                          int64_t pre_nms_topk, int64_t post_nms_topk) const;
  // Box-head features of `boxes` per image: RoIAlign on res4, res5 [, extra norm]:
  // [R, C5, 7, 7] (mean-pooled for the box predictors, as is for the mask head).
  at::Tensor RegionFeatures(const at::Tensor& features, const std::vector<at::Tensor>& boxes);
  // Mask head: [R, C5, 7, 7] -> class-specific mask logits [R, K, 14, 14].
  at::Tensor MaskLogits(const at::Tensor& region_features);
  // The mask loss over the foreground rows (class < K) of the sampled regions of each image.
  at::Tensor MaskLoss(const at::Tensor& regions, const std::vector<at::Tensor>& sampled,
                      const std::vector<at::Tensor>& classes,
                      const std::vector<at::Tensor>& matched,
                      const std::vector<ImageTargets>& targets);

  FasterRcnnOptions options_;
  AnchorGenerator anchor_generator_;
  Box2BoxTransform rpn_transform_;
  Box2BoxTransform roi_transform_;
  models::ResNet backbone_{nullptr};
  RpnHead rpn_{nullptr};
  torch::nn::BatchNorm2d extra_norm_{nullptr};
  BoxPredictor box_predictor_{nullptr};
  MaskHead mask_head_{nullptr};
  at::Tensor pixel_mean_;  // buffer [C, 1, 1]
  at::Tensor pixel_std_;   // buffer [C, 1, 1]
};

TORCH_MODULE(FasterRcnn);

// MakeFasterRcnn: InvalidArgument for bad options (counts <= 0, fractions outside (0, 1],
// pixel statistics not one per backbone input channel, bad anchors).
absl::StatusOr<FasterRcnn> MakeFasterRcnn(models::ResNet backbone,
                                          const FasterRcnnOptions& options);

}  // namespace mochi::eval::detection

#endif  // EVAL_DETECTION_FASTER_RCNN_H_
