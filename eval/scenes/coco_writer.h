// Writes Fashion-MNIST scenes as a COCO instances dataset.
//
// Layout under `root`:
//   annotations/instances_<split>.json
//   <split>/<file_name>                   JPEG images, file_name = "%012d.jpg" of the image id
// The JSON has `info`, `licenses`, `images` {id, file_name, width, height}, `annotations`
// {id, image_id, category_id, segmentation, area, bbox, iscrowd} and `categories`
// {id, name, supercategory} with the non-contiguous ids of categories.h. For every annotation
// bbox = [x, y, w, h] is the tight box of the visible mask (w = xmax - xmin + 1, as
// pycocotools toBbox) and area is the visible mask's pixel count (not the box area).
// Segmentations: iscrowd=1 regions use uncompressed RLE, {"size": [h, w], "counts": [...]}
// (column-major), as COCO does; iscrowd=0 instances use polygons traced from the mask
// (polygon.h: they rasterise back to exactly the mask) or, with kCompressedRle, COCO's
// compressed RLE string (rle.h). Annotation ids count from 1 in the order written.
#ifndef EVAL_SCENES_COCO_WRITER_H_
#define EVAL_SCENES_COCO_WRITER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eval/scenes/scene_generator.h"

namespace mochi::eval::scenes {

enum class CocoMaskFormat { kPolygon, kCompressedRle };

struct CocoWriterOptions {
  std::string root;             // dataset directory (created if missing)
  std::string split = "train";  // names the JSON file and the image directory
  CocoMaskFormat mask_format = CocoMaskFormat::kPolygon;  // for iscrowd=0 instances
  int jpeg_quality = 90;
};

// CocoImageId is the image id of scene `index` of `split`: non-sequential (a stride-510511
// permutation of 100000..999999 for train, 1100000..1999999 for val and 2100000.. for test),
// unique for index < 900000, so evaluators cannot confuse ids with positions.
//
// Example:
//   CocoImageId(SceneSplit::kTrain, 1) == 610511
int64_t CocoImageId(SceneSplit split, int64_t index);

// CocoWriter collects one split.
//
// Example:
//   MOCHI_ASSIGN_OR_RETURN(std::unique_ptr<CocoWriter> writer, CocoWriter::Create(options));
//   MOCHI_RETURN_IF_ERROR(writer->Add(scene, CocoImageId(SceneSplit::kTrain, 0)));
//   MOCHI_RETURN_IF_ERROR(writer->Finish());
class CocoWriter {
 public:
  // Creates the directories (Internal on failure; InvalidArgument for an empty root or split).
  static absl::StatusOr<std::unique_ptr<CocoWriter>> Create(const CocoWriterOptions& options);

  // Writes the scene's JPEG and records the image and its instances. InvalidArgument for a
  // repeated or non-positive image id.
  absl::Status Add(const Scene& scene, int64_t image_id);
  // Add with the JPEG already encoded (EncodeJpeg), so callers can encode in parallel.
  absl::Status AddEncoded(const Scene& scene, int64_t image_id, const std::string& jpeg);

  // Writes annotations/instances_<split>.json.
  absl::Status Finish();

  std::string annotation_path() const;
  std::string image_dir() const;

 private:
  explicit CocoWriter(const CocoWriterOptions& options) : options_(options) {}

  CocoWriterOptions options_;
  std::vector<std::string> images_json_;       // one serialised object per image
  std::vector<std::string> annotations_json_;  // one serialised object per annotation
  std::unordered_set<int64_t> image_ids_;
};

}  // namespace mochi::eval::scenes

#endif  // EVAL_SCENES_COCO_WRITER_H_
