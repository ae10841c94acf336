// The box head's predictors (cls_score: K + 1 logits, background last; bbox_pred: 4K
// class-specific deltas) and its training samples (detectron2 ROIHeads).
#ifndef EVAL_DETECTION_ROI_HEADS_H_
#define EVAL_DETECTION_ROI_HEADS_H_

#include <cstdint>
#include <utility>

#include "ATen/core/Generator.h"
#include "ATen/core/Tensor.h"
#include "absl/status/statusor.h"
#include "eval/detection/faster_rcnn_options.h"
#include "torch/nn/module.h"
#include "torch/nn/modules/linear.h"
#include "torch/nn/pimpl.h"

namespace mochi::eval::detection {

// Box head training samples of one image (detectron2 ROIHeads.label_and_sample_proposals).
struct RoiTargets {
  at::Tensor proposals;  // float [S, 4]: the sampled proposals (positives first)
  at::Tensor classes;    // int64 [S]: matched class, or K (background) for negatives
  at::Tensor deltas;     // float [S, 4]: deltas to the matched ground truth (weights 10, 10, 5, 5)
  at::Tensor matched;    // int64 [S]: index of the matched ground truth (foreground rows)
};

// AssignRoiTargets: appends gt_boxes to `proposals`, matches with Matcher({iou}, {0, 1}) and
// samples batch_size regions with at most positive_fraction foreground.
absl::StatusOr<RoiTargets> AssignRoiTargets(const at::Tensor& proposals, const at::Tensor& gt_boxes,
                                            const at::Tensor& gt_classes, int64_t num_classes,
                                            const FasterRcnnOptions& options,
                                            const at::Generator& generator);

class BoxPredictorImpl : public torch::nn::Module {
 public:
  // Weights keep LibTorch's default initialisation; FasterRcnnImpl applies detectron2's.
  BoxPredictorImpl(int64_t channels, int64_t num_classes);
  // Pooled region features [R, C5] -> class logits [R, K + 1] and deltas [R, 4K].
  std::pair<at::Tensor, at::Tensor> forward(const at::Tensor& x);

  torch::nn::Linear cls_score{nullptr}, bbox_pred{nullptr};
};
TORCH_MODULE(BoxPredictor);

}  // namespace mochi::eval::detection

#endif  // EVAL_DETECTION_ROI_HEADS_H_
