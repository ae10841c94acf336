// One detection record as the model's input: decoded, resized (detectron2's ResizeShortestEdge)
// and optionally flipped, with its targets.
#ifndef EVAL_DETECTION_DETECTION_INPUT_H_
#define EVAL_DETECTION_DETECTION_INPUT_H_

#include <cstdint>

#include "ATen/core/Tensor.h"
#include "absl/status/statusor.h"
#include "eval/detection/detection_record.h"
#include "eval/detection/faster_rcnn.h"

namespace mochi::eval::detection {

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

}  // namespace mochi::eval::detection

#endif  // EVAL_DETECTION_DETECTION_INPUT_H_
