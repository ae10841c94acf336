// The pieces of //eval:detect that turn a DetectionConfig into a detector and data into tensors;
// implemented in detection_train.cc, exposed for tests.
#ifndef EVAL_DETECTION_DETECTION_BUILDERS_H_
#define EVAL_DETECTION_DETECTION_BUILDERS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ATen/core/Tensor.h"
#include "absl/status/statusor.h"
#include "eval/detection/detection_results.h"
#include "eval/detection/faster_rcnn.h"
#include "eval/detection/voc_dataset.h"
#include "mochi/models/resnet.h"
#include "mochi/proto/detection.pb.h"

namespace mochi::eval::detection {

// The class names (config.class_names, or the 20 PASCAL VOC classes when empty; RunDetection
// requires num_classes 20 then).
std::vector<std::string> DetectionClassNames(const proto::DetectionConfig& config);

// The backbone per config.init: random (torchvision init), or the query encoder's backbone of a
// //tools:pretrain run (BuildMoco from its config.pbtxt, LoadCheckpoint of checkpoint.pt).
// FailedPrecondition when the run's backbone (architecture, stem, width, input channels) differs
// from config.backbone or its weights do not fit; NotFound for a missing run.
absl::StatusOr<models::ResNet> BuildDetectionBackbone(const proto::DetectionConfig& config);

// detectron2's MODEL.* of the config, with PIXEL_MEAN / PIXEL_STD from pixel_mean / pixel_std.
FasterRcnnOptions BuildFasterRcnnOptions(const proto::DetectionConfig& config);

// WarmupMultiStepLR: base_lr * warm-up factor * gamma^(steps passed) at iteration `iter`.
double DetectionLearningRate(const proto::DetectionConfig& config, int64_t iter);

// One image ready for the model, resized so its shorter side is `min_size` (longer side at
// most `max_size`; detectron2's ResizeShortestEdge, antialiased bilinear) and optionally
// flipped horizontally; targets move with it. Masks (records with masks) are resized with
// nearest-exact sampling (detectron2 resizes bitmasks with PIL's NEAREST).
struct DetectionInput {
  at::Tensor image;  // float [C, H, W], 0-255
  ImageTargets targets;
  double scale_x = 1;  // input pixels per original pixel
  double scale_y = 1;
  int64_t original_height = 0;  // the decoded file's size
  int64_t original_width = 0;
};
absl::StatusOr<DetectionInput> LoadDetectionInput(const DetectionRecord& record, int channels,
                                                  int min_size, int max_size, bool flip);

// Runs `model` (in eval mode, without gradients) on `records`, `batch_size` images at a time,
// at the test size, and maps boxes back to original pixels; with a mask head, pastes each mask
// into the original image and stores it as a compressed COCO RLE.
absl::StatusOr<std::vector<ImageDetections>> DetectRecords(
    FasterRcnn& model, const std::vector<DetectionRecord>& records, int channels, int min_size,
    int max_size, int batch_size);

}  // namespace mochi::eval::detection

#endif  // EVAL_DETECTION_DETECTION_BUILDERS_H_
