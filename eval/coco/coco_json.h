// COCO ground-truth and results JSON, read into the form COCOeval works on, with pycocotools'
// rules for what each field means (coco.py COCO() and loadRes()):
//   * ground-truth `area` is taken from the file (in COCO it is the mask area, even for bbox
//     evaluation) and `iscrowd` decides the ignore flag (an `ignore` field is not read);
//   * `segmentation` is polygons (rasterised with the image's height and width, several polygons
//     united), an uncompressed RLE ({"size": [h, w], "counts": [...]}) or a compressed one
//     ("counts" a string);
//   * results: if the FIRST result has a non-empty `bbox`, every result's area is its box w * h and
//     a missing segmentation becomes the box's polygon; otherwise every result needs a
//     `segmentation`, its area is the mask area and a missing bbox is the mask's tight box.
//     Detection ids are 1, 2, ... in file order.
// Departures, all on input pycocotools would crash on or silently misread, are errors naming the
// file and the entry: unknown image or category ids (also in results), duplicate ids, annotation
// id 0 (pycocotools would count a match to it as a false positive), odd-length or empty polygons,
// RLE counts that do not add up to height * width. An empty results array means no detections.
//
// Example:
//   MOCHI_ASSIGN_OR_RETURN(CocoGroundTruth gt, LoadCocoGroundTruth("gt.json", IouType::kSegm));
//   MOCHI_ASSIGN_OR_RETURN(std::vector<CocoInstance> dt,
//                          LoadCocoResults("dt.json", gt, IouType::kSegm));
#ifndef EVAL_COCO_COCO_JSON_H_
#define EVAL_COCO_COCO_JSON_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eval/coco/mask.h"

namespace mochi::eval::coco {

// What the instances are compared by: boxes or masks.
enum class IouType { kBbox, kSegm };

// "bbox" or "segm"; InvalidArgument otherwise.
absl::StatusOr<IouType> ParseIouType(absl::string_view name);
const char* IouTypeName(IouType iou_type);

struct CocoImage {
  int64_t id = 0;
  int64_t height = 0;  // 0 when the file does not give it
  int64_t width = 0;
  std::string file_name;  // empty when the file does not give it (the evaluator never needs it)
};

struct CocoCategory {
  int64_t id = 0;
  std::string name;
};

// One ground-truth annotation or one detection.
struct CocoInstance {
  int64_t id = 0;
  int64_t image_id = 0;
  int64_t category_id = 0;
  Box bbox;                 // read for IouType::kBbox (and kept from results)
  std::optional<Rle> mask;  // set for IouType::kSegm
  double area = 0;          // decides the area range (see the file comment)
  bool is_crowd = false;    // ground truth only
  double score = 0;         // detections only
};

struct CocoGroundTruth {
  std::vector<CocoImage> images;
  std::vector<CocoCategory> categories;
  std::vector<CocoInstance> annotations;  // file order
};

// Parses a ground-truth dataset ({"images", "categories", "annotations"}); `source_name` prefixes
// every error. Reads `bbox` for kBbox and converts `segmentation` to masks for kSegm.
absl::StatusOr<CocoGroundTruth> ParseCocoGroundTruth(absl::string_view json_text,
                                                     absl::string_view source_name,
                                                     IouType iou_type);
absl::StatusOr<CocoGroundTruth> LoadCocoGroundTruth(const std::string& path, IouType iou_type);

// Parses a results array ([{image_id, category_id, bbox | segmentation, score}]) against `gt`.
absl::StatusOr<std::vector<CocoInstance>> ParseCocoResults(absl::string_view json_text,
                                                           absl::string_view source_name,
                                                           const CocoGroundTruth& gt,
                                                           IouType iou_type);
absl::StatusOr<std::vector<CocoInstance>> LoadCocoResults(const std::string& path,
                                                          const CocoGroundTruth& gt,
                                                          IouType iou_type);

}  // namespace mochi::eval::coco

#endif  // EVAL_COCO_COCO_JSON_H_
