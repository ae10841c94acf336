// A COCO instances dataset as detectron2's load_coco_json + DatasetMapper read it for training
// and testing: images in increasing id order from <images_dir>/<file_name>; classes are the
// categories in increasing id order (contiguous index i = i-th smallest category id, its name
// the class name); boxes are the annotations' `bbox` [x, y, w, h] as XYXY (x, y, x + w, y + h);
// masks come from `segmentation` (polygons, RLE or compressed RLE, read by //eval/coco exactly as
// pycocotools reads them). Crowd regions (iscrowd = 1) are dropped and so are boxes with no area,
// as detectron2's mapper drops them before training. Torch-free.
//
// Example:
//   MOCHI_ASSIGN_OR_RETURN(CocoDataset val,
//                          LoadCocoDataset("coco/annotations/instances_val.json", "coco/val",
//                                          /*with_masks=*/true));
//   val.records[0].masks[0];  // coco::Rle at the image size
#ifndef EVAL_DETECTION_COCO_DATASET_H_
#define EVAL_DETECTION_COCO_DATASET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eval/detection/detection_record.h"

namespace mochi::eval::detection {

struct CocoDataset {
  std::vector<std::string> class_names;  // category names by contiguous index
  std::vector<int64_t> category_ids;     // COCO id of each contiguous index (for results JSON)
  std::vector<DetectionRecord> records;  // every image, increasing id; image_id = decimal id
};

// Errors name the file: NotFound for a missing file, InvalidArgument for what //eval/coco rejects
// (unknown ids, malformed segmentations, ...) and for an image without `file_name`, `height` or
// `width`, or categories without names.
absl::StatusOr<CocoDataset> LoadCocoDataset(const std::string& annotations_json,
                                            const std::string& images_dir, bool with_masks);

}  // namespace mochi::eval::detection

#endif  // EVAL_DETECTION_COCO_DATASET_H_
