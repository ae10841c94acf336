#include "eval/detection/detection_builders.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "eval/detection/voc_dataset.h"
#include "mochi/engine/builders.h"
#include "mochi/engine/lr_schedule.h"
#include "mochi/engine/pretrained_model.h"
#include "mochi/port/paths.h"

namespace mochi::eval::detection {
namespace {

bool SameBackbone(const proto::Backbone& a, const proto::Backbone& b) {
  return a.architecture() == b.architecture() && a.stem() == b.stem() && a.width() == b.width() &&
         a.in_channels() == b.in_channels();
}

}  // namespace

std::string DescribeBackbone(const proto::Backbone& b) {
  return absl::StrCat(proto::Backbone::Architecture_Name(b.architecture()), " (stem ",
                      proto::Backbone::Stem_Name(b.stem()), ", width ", b.width(), ", in_channels ",
                      b.in_channels(), ")");
}

std::vector<std::string> DetectionClassNames(const proto::DetectionConfig& config) {
  if (config.class_names_size() == 0) return PascalVocClassNames();
  return {config.class_names().begin(), config.class_names().end()};
}

absl::StatusOr<models::ResNet> BuildDetectionBackbone(const proto::DetectionConfig& config) {
  const models::ResNetOptions expected = BuildResNetOptions(config.backbone(), 0);
  if (!config.init().has_checkpoint()) return models::MakeResNet(expected);
  const std::string path = ResolvePath(config.init().checkpoint());
  absl::StatusOr<PretrainedModel> pretrained = LoadPretrainedModel(path, /*load_weights=*/true);
  if (!pretrained.ok()) {
    return absl::Status(pretrained.status().code(), absl::StrCat("backbone init from ", path, ": ",
                                                                 pretrained.status().message()));
  }
  if (!SameBackbone(pretrained->config.backbone(), config.backbone())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "checkpoint ", path, " holds a ", DescribeBackbone(pretrained->config.backbone()),
        " backbone but the detection config asks for ", DescribeBackbone(config.backbone())));
  }
  return pretrained->model.backbone;
}

FasterRcnnOptions BuildFasterRcnnOptions(const proto::DetectionConfig& c) {
  FasterRcnnOptions o;
  o.num_classes = c.num_classes();
  if (c.anchor_sizes_size() > 0) {
    o.anchors.sizes.assign(c.anchor_sizes().begin(), c.anchor_sizes().end());
  }
  if (c.anchor_aspect_ratios_size() > 0) {
    o.anchors.aspect_ratios.assign(c.anchor_aspect_ratios().begin(),
                                   c.anchor_aspect_ratios().end());
  }
  o.rpn_batch_size_per_image = c.rpn_batch_size_per_image();
  o.rpn_pre_nms_topk_train = c.rpn_pre_nms_topk_train();
  o.rpn_post_nms_topk_train = c.rpn_post_nms_topk_train();
  o.rpn_pre_nms_topk_test = c.rpn_pre_nms_topk_test();
  o.rpn_post_nms_topk_test = c.rpn_post_nms_topk_test();
  o.rpn_nms_thresh = c.rpn_nms_thresh();
  o.roi_batch_size_per_image = c.roi_batch_size_per_image();
  o.roi_positive_fraction = c.roi_positive_fraction();
  o.test_score_thresh = c.test_score_thresh();
  o.test_nms_thresh = c.test_nms_thresh();
  o.detections_per_image = c.detections_per_image();
  // One process: SyncBN and BN both normalise with the whole step's batch statistics.
  o.frozen_bn = c.norm() == proto::DetectionConfig::FROZEN_BN;
  o.roi_head_extra_norm = c.roi_head_extra_norm();
  o.pixel_mean.assign(c.pixel_mean().begin(), c.pixel_mean().end());
  o.pixel_std.assign(c.pixel_std().begin(), c.pixel_std().end());
  return o;
}

double DetectionLearningRate(const proto::DetectionConfig& c, int64_t iter) {
  const std::vector<int64_t> steps(c.steps().begin(), c.steps().end());
  return StepDecay(c.base_lr() * LinearWarmupFactor(iter, c.warmup_iters(), c.warmup_factor()),
                   steps, c.gamma(), iter);
}

}  // namespace mochi::eval::detection
