// PASCAL VOC annotation files (Annotations/<image id>.xml): the part voc_eval reads.
//
//   <annotation>
//     <object>
//       <name>dog</name> <difficult>0</difficult>
//       <bndbox><xmin>48</xmin><ymin>240</ymin><xmax>195</xmax><ymax>371</ymax></bndbox>
//     </object> ...
//   </annotation>
//
// Boxes are 1-based and inclusive, kept exactly as written (integers; the evaluator's +1 widths
// assume this). Other elements (<size>, <pose>, <truncated>, ...) are not read. A missing
// <difficult> counts as 0 (detectron2 would fail on it); <name> is trimmed of surrounding
// whitespace. Errors name the file and line.
//
// Example:
//   MOCHI_ASSIGN_OR_RETURN(VocAnnotation annotation,
//                          LoadVocAnnotation("VOCdevkit/VOC2007/Annotations/000001.xml"));
#ifndef EVAL_VOC_VOC_ANNOTATION_H_
#define EVAL_VOC_VOC_ANNOTATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mochi::eval::voc {

struct VocObject {
  std::string name;
  bool difficult = false;
  int64_t xmin = 0;  // 1-based, inclusive
  int64_t ymin = 0;
  int64_t xmax = 0;
  int64_t ymax = 0;
};

struct VocAnnotation {
  std::vector<VocObject> objects;  // document order
};

absl::StatusOr<VocAnnotation> ParseVocAnnotation(absl::string_view xml,
                                                 absl::string_view source_name);
// NotFound if the file does not exist.
absl::StatusOr<VocAnnotation> LoadVocAnnotation(const std::string& path);

}  // namespace mochi::eval::voc

#endif  // EVAL_VOC_VOC_ANNOTATION_H_
