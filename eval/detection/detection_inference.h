// Inference on a split: detections in original-image pixels, masks as COCO RLE.
#ifndef EVAL_DETECTION_DETECTION_INFERENCE_H_
#define EVAL_DETECTION_DETECTION_INFERENCE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "eval/detection/detection_record.h"
#include "eval/detection/detection_results.h"
#include "eval/detection/faster_rcnn.h"

namespace mochi::eval::detection {

// Runs `model` (in eval mode, without gradients) on `records`, `batch_size` images at a time,
// at the test size, and maps boxes back to original pixels; with a mask head, pastes each mask
// into the original image and stores it as a compressed COCO RLE.
absl::StatusOr<std::vector<ImageDetections>> DetectRecords(
    FasterRcnn& model, const std::vector<DetectionRecord>& records, int channels, int min_size,
    int max_size, int batch_size);

}  // namespace mochi::eval::detection

#endif  // EVAL_DETECTION_DETECTION_INFERENCE_H_
