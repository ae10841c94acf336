// A PASCAL VOC detection dataset as detectron2's load_voc_instances reads it: the ids of
// ImageSets/Main/<split>.txt, their JPEGImages/<id>.jpg and Annotations/<id>.xml. Torch-free;
// the trainer turns records and decoded pixels into tensors.
//
// Boxes follow detectron2: the XML's 1-based inclusive (xmin, ymin, xmax, ymax) become the
// continuous XYXY box (xmin - 1, ymin - 1, xmax, ymax). Difficult objects are kept (detectron2
// trains on them; voc_eval ignores them when scoring).
//
// Image sets are named "<year>_<split>" as in detectron2's dataset names: "2007_trainval" reads
// <voc_root>/VOC2007/ImageSets/Main/trainval.txt; a non-numeric year names the directory itself,
// so "FMS2007_test" reads the scene generator's <voc_root>/FMS2007/ImageSets/Main/test.txt.
//
// Example:
//   MOCHI_ASSIGN_OR_RETURN(std::vector<DetectionRecord> records,
//                          LoadVocRecords("/tmp/scenes/VOCdevkit", {"FMS2007_trainval"}, names));
//   MOCHI_ASSIGN_OR_RETURN(DecodedImage image, DecodeImageFile(records[0].image_path, 1));
#ifndef EVAL_DETECTION_VOC_DATASET_H_
#define EVAL_DETECTION_VOC_DATASET_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eval/detection/detection_record.h"

namespace mochi::eval::detection {

// The 20 PASCAL VOC classes in detectron2's CLASS_NAMES order.
const std::vector<std::string>& PascalVocClassNames();

// Where an image set lives: <voc_root>/<year_dir>/ImageSets/Main/<split>.txt.
struct VocImageSet {
  std::string year_root;  // <voc_root>/VOC2007 or <voc_root>/FMS2007
  std::string split;      // trainval, test, ...
};

// "2007_trainval" -> {<voc_root>/VOC2007, trainval}; "FMS2007_test" -> {<voc_root>/FMS2007,
// test}. InvalidArgument when there is no '_' separating two non-empty parts.
absl::StatusOr<VocImageSet> ParseVocImageSet(const std::string& voc_root,
                                             absl::string_view image_set);

// Records of every image of every image set, in list order. NotFound for a missing list or
// annotation; InvalidArgument for an object whose class is not in `class_names` or whose box is
// empty.
absl::StatusOr<std::vector<DetectionRecord>> LoadVocRecords(
    const std::string& voc_root, const std::vector<std::string>& image_sets,
    const std::vector<std::string>& class_names);

// Decoded pixels, height x width x channels bytes, row-major (HWC).
struct DecodedImage {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<uint8_t> pixels;
};

// Decodes a JPEG / PNG with stb_image into `channels` channels: 3 = RGB, 1 = gray (stb's luma,
// (77 R + 150 G + 29 B) >> 8, so RGB scenes feed a backbone pretrained on gray Fashion-MNIST).
// NotFound for a missing file, DataLoss for an undecodable one.
absl::StatusOr<DecodedImage> DecodeImageFile(const std::string& path, int channels);

}  // namespace mochi::eval::detection

#endif  // EVAL_DETECTION_VOC_DATASET_H_
