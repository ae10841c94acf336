#include "eval/scenes/coco_writer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "eval/coco/mask.h"
#include "eval/scenes/categories.h"
#include "eval/scenes/image_file.h"
#include "eval/scenes/polygon.h"
#include "mochi/port/status_macros.h"
#include "nlohmann/json.hpp"

namespace mochi::eval::scenes {
namespace {

using Json = nlohmann::ordered_json;

constexpr int64_t kIdStride = 510511;  // coprime with kIdRange: a permutation
constexpr int64_t kIdRange = 900000;

// The visible mask as COCO run lengths, by the evaluator's own encoder.
eval::coco::Rle VisibleRle(const Mask& visible) {
  return eval::coco::EncodeMask(eval::coco::BinaryMask{
      static_cast<uint32_t>(visible.height), static_cast<uint32_t>(visible.width), visible.bits});
}

Json Segmentation(const SceneInstance& instance, CocoMaskFormat format) {
  const Json size = Json::array({instance.visible.height, instance.visible.width});
  if (instance.is_crowd) {
    return Json{{"size", size}, {"counts", VisibleRle(instance.visible).counts}};
  }
  switch (format) {
    case CocoMaskFormat::kPolygon:
      return TraceMaskPolygons(instance.visible);
    case CocoMaskFormat::kCompressedRle:
      return Json{{"size", size},
                  {"counts", eval::coco::EncodeRleCounts(VisibleRle(instance.visible))}};
  }
  return Json();  // Unreachable: -Werror=switch keeps the switch exhaustive.
}

}  // namespace

int64_t CocoImageId(SceneSplit split, int64_t index) {
  int64_t base = 100000;
  switch (split) {
    case SceneSplit::kTrain:
      base = 100000;
      break;
    case SceneSplit::kVal:
      base = 1100000;
      break;
    case SceneSplit::kTest:
      base = 2100000;
      break;
  }
  return base + (index % kIdRange) * kIdStride % kIdRange;
}

absl::StatusOr<std::unique_ptr<CocoWriter>> CocoWriter::Create(const CocoWriterOptions& options) {
  if (options.root.empty() || options.split.empty()) {
    return absl::InvalidArgumentError("coco writer: root and split must be set");
  }
  std::unique_ptr<CocoWriter> writer(new CocoWriter(options));
  MOCHI_RETURN_IF_ERROR(MakeDirectories(writer->image_dir()));
  MOCHI_RETURN_IF_ERROR(MakeDirectories(absl::StrCat(options.root, "/annotations")));
  return writer;
}

std::string CocoWriter::annotation_path() const {
  return absl::StrCat(options_.root, "/annotations/instances_", options_.split, ".json");
}

std::string CocoWriter::image_dir() const {
  return absl::StrCat(options_.root, "/", options_.split);
}

absl::Status CocoWriter::Add(const Scene& scene, int64_t image_id) {
  MOCHI_ASSIGN_OR_RETURN(std::string jpeg,
                         EncodeJpeg(scene.rgb, scene.width, scene.height, options_.jpeg_quality));
  return AddEncoded(scene, image_id, jpeg);
}

absl::Status CocoWriter::AddEncoded(const Scene& scene, int64_t image_id, const std::string& jpeg) {
  if (image_id <= 0 || !image_ids_.insert(image_id).second) {
    return absl::InvalidArgumentError(
        absl::StrCat("coco writer: image id ", image_id, " is not positive or already used"));
  }
  const std::string file_name = absl::StrFormat("%012d.jpg", image_id);
  MOCHI_RETURN_IF_ERROR(WriteFileBytes(absl::StrCat(image_dir(), "/", file_name), jpeg));

  images_json_.push_back(Json{
      {"id", image_id}, {"file_name", file_name}, {"width", scene.width}, {"height", scene.height}}
                             .dump());
  for (const SceneInstance& instance : scene.instances) {
    const Json annotation = {
        {"id", static_cast<int64_t>(annotations_json_.size()) + 1},
        {"image_id", image_id},
        {"category_id", SceneCategories()[instance.label].coco_id},
        {"segmentation", Segmentation(instance, options_.mask_format)},
        {"area", instance.area},
        {"bbox",
         Json::array({instance.box.x, instance.box.y, instance.box.width, instance.box.height})},
        {"iscrowd", instance.is_crowd ? 1 : 0},
    };
    annotations_json_.push_back(annotation.dump());
  }
  return absl::OkStatus();
}

absl::Status CocoWriter::Finish() {
  const Json info = {
      {"description", "Fashion-MNIST scenes (MoCHi benchmark suite, //eval:make_scenes)"},
      {"version", "1.0"},
      {"year", 2017},  // Fashion-MNIST's release year; no wall-clock date, for reproducibility
      {"contributor", "Fashion-MNIST items (c) 2017 Zalando SE, MIT licence"},
  };
  const Json licenses =
      Json::array({{{"id", 1}, {"name", "MIT"}, {"url", "https://opensource.org/licenses/MIT"}}});
  Json categories = Json::array();
  for (const SceneCategory& category : SceneCategories()) {
    categories.push_back({{"id", category.coco_id},
                          {"name", category.name},
                          {"supercategory", category.supercategory}});
  }
  // One image or annotation per line: large files stay greppable and diffable.
  const std::string json = absl::StrCat(
      "{\"info\":", info.dump(), ",\"licenses\":", licenses.dump(), ",\n\"images\":[\n",
      absl::StrJoin(images_json_, ",\n"), "],\n\"annotations\":[\n",
      absl::StrJoin(annotations_json_, ",\n"), "],\n\"categories\":", categories.dump(), "}\n");
  return WriteFileBytes(annotation_path(), json);
}

}  // namespace mochi::eval::scenes
