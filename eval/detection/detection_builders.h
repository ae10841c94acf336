// A DetectionConfig into the detector's parts: class names, backbone, options, LR schedule.
#ifndef EVAL_DETECTION_DETECTION_BUILDERS_H_
#define EVAL_DETECTION_DETECTION_BUILDERS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eval/detection/faster_rcnn.h"
#include "mochi/models/resnet.h"
#include "mochi/proto/detection.pb.h"

namespace mochi::eval::detection {

// The class names (config.class_names, or the 20 PASCAL VOC classes when empty; RunDetection
// requires num_classes 20 then).
std::vector<std::string> DetectionClassNames(const proto::DetectionConfig& config);

// The backbone per config.init: random (torchvision init), or the query encoder's backbone of a
// //tools:pretrain run (LoadPretrainedModel: the run's config.pbtxt and checkpoint.pt).
// FailedPrecondition when the run's backbone (architecture, stem, width, input channels) differs
// from config.backbone or its weights do not fit; NotFound for a missing run.
absl::StatusOr<models::ResNet> BuildDetectionBackbone(const proto::DetectionConfig& config);

// detectron2's MODEL.* of the config, with PIXEL_MEAN / PIXEL_STD from pixel_mean / pixel_std.
FasterRcnnOptions BuildFasterRcnnOptions(const proto::DetectionConfig& config);

// "RESNET18 (stem SMALL_INPUT_STRIDE2, width 16, in_channels 1)": for messages and logs.
std::string DescribeBackbone(const proto::Backbone& backbone);

// WarmupMultiStepLR: base_lr * warm-up factor * gamma^(steps passed) at iteration `iter`.
double DetectionLearningRate(const proto::DetectionConfig& config, int64_t iter);

}  // namespace mochi::eval::detection

#endif  // EVAL_DETECTION_DETECTION_BUILDERS_H_
