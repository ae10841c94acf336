// Writes Fashion-MNIST scenes as a PASCAL VOC devkit (the layout detectron2's VOC loader and
// voc_eval read).
//
// Layout under `devkit_root` (e.g. <out>/VOCdevkit):
//   FMS2007/JPEGImages/<id>.jpg
//   FMS2007/Annotations/<id>.xml
//   FMS2007/ImageSets/Main/{train,val,trainval,test}.txt     one id per line
//   FMS2007/ImageSets/Main/<class>_{train,val,trainval,test}.txt
//                                     "<id> <flag>": 1 present, -1 absent, 0 only difficult
// XML boxes are 1-based inclusive integers: for a tight pixel box (x, y, w, h),
// xmin = x + 1, ymin = y + 1, xmax = x + w, ymax = y + h. <difficult> is 1 for instances
// 25-50% visible (and for crowd regions, which VOC cannot express otherwise); <truncated> is 1
// when the object is cut by the canvas edge.
#ifndef EVAL_SCENES_VOC_WRITER_H_
#define EVAL_SCENES_VOC_WRITER_H_

#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eval/scenes/scene_generator.h"

namespace mochi::eval::scenes {

inline constexpr char kVocYearDir[] = "FMS2007";

struct VocWriterOptions {
  std::string devkit_root;  // the VOCdevkit directory (created if missing)
  int jpeg_quality = 90;
};

// VocAnnotationXml returns the Annotations/<id>.xml document of `scene`.
//
// Example (one bag with tight box x=9, y=19, w=40, h=30):
//   <object><name>bag</name><pose>Unspecified</pose><truncated>0</truncated>
//   <difficult>0</difficult><bndbox><xmin>10</xmin><ymin>20</ymin><xmax>49</xmax>
//   <ymax>49</ymax></bndbox></object>
std::string VocAnnotationXml(const Scene& scene, const std::string& id);

// VocWriter collects the splits of one devkit.
//
// Example:
//   MOCHI_ASSIGN_OR_RETURN(std::unique_ptr<VocWriter> writer, VocWriter::Create(options));
//   MOCHI_RETURN_IF_ERROR(writer->Add(scene, SceneSplit::kTrain, "000001"));
//   MOCHI_RETURN_IF_ERROR(writer->Finish());
class VocWriter {
 public:
  // Creates the directories (Internal on failure; InvalidArgument for an empty root).
  static absl::StatusOr<std::unique_ptr<VocWriter>> Create(const VocWriterOptions& options);

  // Writes JPEGImages/<id>.jpg and Annotations/<id>.xml and lists `id` in `split`.
  // InvalidArgument for an empty, repeated or path-like id.
  absl::Status Add(const Scene& scene, SceneSplit split, const std::string& id);
  // Add with the JPEG already encoded (EncodeJpeg), so callers can encode in parallel.
  absl::Status AddEncoded(const Scene& scene, SceneSplit split, const std::string& id,
                          const std::string& jpeg);

  // Writes ImageSets/Main (trainval = train then val).
  absl::Status Finish();

  // <devkit_root>/FMS2007
  std::string year_root() const;

 private:
  explicit VocWriter(const VocWriterOptions& options) : options_(options) {}

  struct Entry {
    std::string id;
    // Per class: 1 present, 0 only difficult instances, -1 absent.
    std::vector<int> class_flags;
  };

  VocWriterOptions options_;
  std::vector<Entry> splits_[3];  // train, val, test
  std::unordered_set<std::string> ids_;
};

}  // namespace mochi::eval::scenes

#endif  // EVAL_SCENES_VOC_WRITER_H_
