// One annotated image as the detector trainer reads it, whatever the file format: VOC XML
// (voc_dataset.h) or COCO JSON (coco_dataset.h). Torch-free.
#ifndef EVAL_DETECTION_DETECTION_RECORD_H_
#define EVAL_DETECTION_DETECTION_RECORD_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "eval/coco/mask.h"

namespace mochi::eval::detection {

struct DetectionRecord {
  std::string image_id;
  std::string image_path;
  std::vector<std::array<float, 4>> boxes;  // XYXY, continuous pixels of the original image
  std::vector<int64_t> classes;             // index into the class names
  std::vector<bool> difficult;              // VOC's flag (false for COCO)
  // Instance masks at the original image size, one per box; empty when the source has none
  // (VOC) or masks were not asked for.
  std::vector<coco::Rle> masks;
};

}  // namespace mochi::eval::detection

#endif  // EVAL_DETECTION_DETECTION_RECORD_H_
