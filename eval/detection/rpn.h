// The region proposal network of the C4 detector: its head (3x3 conv + ReLU, 1x1 objectness (A)
// and deltas (4A) per res4 cell) and its training targets (detectron2 RPN).
#ifndef EVAL_DETECTION_RPN_H_
#define EVAL_DETECTION_RPN_H_

#include <cstdint>
#include <utility>

#include "ATen/core/Generator.h"
#include "ATen/core/Tensor.h"
#include "absl/status/statusor.h"
#include "torch/nn/module.h"
#include "torch/nn/modules/conv.h"
#include "torch/nn/pimpl.h"

namespace mochi::eval::detection {

// RPN training targets of one image (detectron2 RPN.label_and_sample_anchors).
struct RpnTargets {
  at::Tensor labels;  // int8 [A]: 1 sampled positive, 0 sampled negative, -1 not sampled
  at::Tensor deltas;  // float [A, 4]: deltas from each anchor to its matched ground truth
};

// AssignRpnTargets: Matcher({0.3, 0.7}, {0, -1, 1}, low-quality matches) on IoU(gt, anchors),
// then SubsampleLabels(batch_size, positive_fraction). No ground truth: every anchor is negative.
absl::StatusOr<RpnTargets> AssignRpnTargets(const at::Tensor& anchors, const at::Tensor& gt_boxes,
                                            int64_t batch_size, double positive_fraction,
                                            const at::Generator& generator);

class RpnHeadImpl : public torch::nn::Module {
 public:
  // Weights keep LibTorch's default initialisation; FasterRcnnImpl applies detectron2's.
  RpnHeadImpl(int64_t channels, int64_t cell_anchors);
  // res4 [N, C4, h, w] -> objectness logits [N, h * w * A] and deltas [N, h * w * A, 4], in the
  // anchors' cell-major order.
  std::pair<at::Tensor, at::Tensor> forward(const at::Tensor& features);

  torch::nn::Conv2d conv{nullptr}, objectness{nullptr}, deltas{nullptr};

 private:
  const int64_t cell_anchors_;
};
TORCH_MODULE(RpnHead);

}  // namespace mochi::eval::detection

#endif  // EVAL_DETECTION_RPN_H_
