#include "eval/detection/coco_dataset.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "eval/coco/coco_json.h"
#include "mochi/port/status_macros.h"
#include "mochi/port/text_proto.h"

namespace mochi::eval::detection {

absl::StatusOr<CocoDataset> LoadCocoDataset(const std::string& annotations_json,
                                            const std::string& images_dir, bool with_masks) {
  MOCHI_ASSIGN_OR_RETURN(std::string text, ReadFileToString(annotations_json));
  // The evaluator's reader keeps either boxes or masks; annotations come back in file order both
  // times, so the two passes line up entry by entry.
  MOCHI_ASSIGN_OR_RETURN(coco::CocoGroundTruth boxes,
                         coco::ParseCocoGroundTruth(text, annotations_json, coco::IouType::kBbox));
  coco::CocoGroundTruth masks;
  if (with_masks) {
    MOCHI_ASSIGN_OR_RETURN(
        masks, coco::ParseCocoGroundTruth(text, annotations_json, coco::IouType::kSegm));
  }

  CocoDataset out;
  std::vector<coco::CocoCategory> categories = boxes.categories;
  std::sort(categories.begin(), categories.end(),
            [](const coco::CocoCategory& a, const coco::CocoCategory& b) { return a.id < b.id; });
  absl::flat_hash_map<int64_t, int64_t> class_of_category;
  for (const coco::CocoCategory& category : categories) {
    if (category.name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(annotations_json, ": category ", category.id,
                                                     " has no name (it names the class)"));
    }
    class_of_category[category.id] = static_cast<int64_t>(out.class_names.size());
    out.class_names.push_back(category.name);
    out.category_ids.push_back(category.id);
  }

  std::vector<coco::CocoImage> images = boxes.images;
  std::sort(images.begin(), images.end(),
            [](const coco::CocoImage& a, const coco::CocoImage& b) { return a.id < b.id; });
  absl::flat_hash_map<int64_t, size_t> record_of_image;
  for (const coco::CocoImage& image : images) {
    if (image.file_name.empty() || image.height <= 0 || image.width <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(annotations_json, ": image ", image.id,
                                                     " needs file_name, height and width"));
    }
    record_of_image[image.id] = out.records.size();
    DetectionRecord record;
    record.image_id = absl::StrCat(image.id);
    record.image_path = absl::StrCat(images_dir, "/", image.file_name);
    out.records.push_back(std::move(record));
  }

  for (size_t i = 0; i < boxes.annotations.size(); ++i) {
    const coco::CocoInstance& annotation = boxes.annotations[i];
    const coco::Box& b = annotation.bbox;
    if (annotation.is_crowd || !(b.w > 0 && b.h > 0)) continue;
    DetectionRecord& record = out.records[record_of_image.at(annotation.image_id)];
    record.boxes.push_back({static_cast<float>(b.x), static_cast<float>(b.y),
                            static_cast<float>(b.x + b.w), static_cast<float>(b.y + b.h)});
    record.classes.push_back(class_of_category.at(annotation.category_id));
    record.difficult.push_back(false);
    if (with_masks) record.masks.push_back(*masks.annotations[i].mask);
  }
  return out;
}

}  // namespace mochi::eval::detection
