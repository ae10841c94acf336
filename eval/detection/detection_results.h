// Detections of a test set written for the evaluators: PASCAL VOC results files (read by
// //eval:voc_eval, as detectron2's PascalVOCDetectionEvaluator writes them) and a COCO results
// JSON (read by //eval:coco_eval / pycocotools' loadRes). Torch-free.
//
// Example:
//   MOCHI_RETURN_IF_ERROR(WriteVocResults(dir, "", class_names, detections));
//   MOCHI_RETURN_IF_ERROR(WriteCocoResults(dir + "/coco_results.json", category_ids, detections));
#ifndef EVAL_DETECTION_DETECTION_RESULTS_H_
#define EVAL_DETECTION_DETECTION_RESULTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace mochi::eval::detection {

// One detected box in original-image pixels, continuous XYXY (detectron2's convention).
struct DetectedBox {
  int64_t class_index = 0;  // into the class names
  float score = 0;
  float x1 = 0;
  float y1 = 0;
  float x2 = 0;
  float y2 = 0;
  // Instance segmentation: the mask as a compressed COCO RLE string over the whole image
  // (height x width of ImageDetections); empty for box-only detections.
  std::string mask_counts;
};

struct ImageDetections {
  std::string image_id;
  std::vector<DetectedBox> boxes;
  int64_t height = 0;  // original image size, needed with masks
  int64_t width = 0;
};

// Writes <dir>/<prefix><class>.txt for every class (empty files included, so the evaluator sees
// every class): lines "<image id> <score %.3f> <xmin> <ymin> <xmax> <ymax>" with xmin, ymin
// shifted by +1 to VOC's 1-based pixels and coordinates "%.1f", exactly as detectron2. Creates
// `dir`. InvalidArgument for a class index outside the names; Internal on a write error.
absl::Status WriteVocResults(const std::string& dir, const std::string& prefix,
                             const std::vector<std::string>& class_names,
                             const std::vector<ImageDetections>& detections);

// What a COCO results file holds per detection.
enum class CocoResultsLayout {
  // "bbox", plus "segmentation" for boxes with a mask: detectron2's instances_to_coco_json, the
  // file it saves. pycocotools' loadRes takes every result's area from its box when the first
  // result has one, so segm AP's area ranges would read box areas.
  kBoxesAndMasks,
  // "segmentation" only, every box needs a mask: what detectron2's COCOEvaluator scores for segm
  // (it pops "bbox" so that the area ranges read mask areas).
  kMasksOnly,
};

// Writes a COCO results array [{"image_id", "category_id", "bbox": [x, y, w, h], "score"}],
// with "segmentation": {"size": [height, width], "counts": mask_counts} as `layout` says.
// `category_ids[c]` is class c's COCO id; image ids that are decimal integers are written as
// numbers (COCO), others as strings. InvalidArgument for a box without a mask under kMasksOnly.
absl::Status WriteCocoResults(const std::string& path, const std::vector<int64_t>& category_ids,
                              const std::vector<ImageDetections>& detections,
                              CocoResultsLayout layout = CocoResultsLayout::kBoxesAndMasks);

}  // namespace mochi::eval::detection

#endif  // EVAL_DETECTION_DETECTION_RESULTS_H_
