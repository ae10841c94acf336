#include "eval/coco/coco_json.h"

#include <cmath>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "mochi/port/status_macros.h"
#include "mochi/port/text_proto.h"
#include "nlohmann/json.hpp"

namespace mochi::eval::coco {
namespace {

using Json = nlohmann::json;

// rleFrPoly and the RLE positions use 32-bit int arithmetic on pixel indices.
constexpr int64_t kMaxPixels = std::numeric_limits<int32_t>::max();

absl::Status Invalid(absl::string_view where, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

absl::StatusOr<Json> ParseJson(absl::string_view text, absl::string_view source_name) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(source_name, ": malformed JSON: ", e.what()));
  }
}

// A value as it appears in the file, shortened for error messages.
std::string Show(const Json& value) {
  std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}

// An integer-valued number (Python's json also yields 1.0 for "1.0", which works as an id).
absl::StatusOr<int64_t> ToInt(const Json& value, absl::string_view where) {
  if (value.is_number_unsigned()) {
    const uint64_t u = value.get<uint64_t>();
    if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return static_cast<int64_t>(u);
    }
  } else if (value.is_number_integer()) {
    return value.get<int64_t>();
  } else if (value.is_number_float()) {
    const double d = value.get<double>();
    if (std::floor(d) == d && std::fabs(d) < 9.2e18) return static_cast<int64_t>(d);
  }
  return Invalid(where, absl::StrCat("expected an integer, got ", Show(value)));
}

const Json* Find(const Json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

absl::StatusOr<const Json*> Require(const Json& object, const char* key, absl::string_view where) {
  const Json* value = Find(object, key);
  if (value == nullptr) return Invalid(where, absl::StrCat("missing '", key, "'"));
  return value;
}

absl::StatusOr<int64_t> RequireInt(const Json& object, const char* key, absl::string_view where) {
  MOCHI_ASSIGN_OR_RETURN(const Json* value, Require(object, key, where));
  return ToInt(*value, absl::StrCat(where, ": '", key, "'"));
}

absl::StatusOr<double> ToNumber(const Json& value, absl::string_view where) {
  if (!value.is_number()) {
    return Invalid(where, absl::StrCat("expected a number, got ", Show(value)));
  }
  return value.get<double>();
}

absl::StatusOr<double> RequireNumber(const Json& object, const char* key, absl::string_view where) {
  MOCHI_ASSIGN_OR_RETURN(const Json* value, Require(object, key, where));
  return ToNumber(*value, absl::StrCat(where, ": '", key, "'"));
}

absl::StatusOr<std::vector<double>> ToNumbers(const Json& value, absl::string_view where) {
  if (!value.is_array()) {
    return Invalid(where, absl::StrCat("expected an array of numbers, got ", Show(value)));
  }
  std::vector<double> numbers;
  numbers.reserve(value.size());
  for (const Json& element : value) {
    MOCHI_ASSIGN_OR_RETURN(double number, ToNumber(element, where));
    numbers.push_back(number);
  }
  return numbers;
}

absl::StatusOr<Box> ToBox(const Json& value, absl::string_view where) {
  MOCHI_ASSIGN_OR_RETURN(std::vector<double> numbers, ToNumbers(value, where));
  if (numbers.size() != 4) {
    return Invalid(where, absl::StrCat("a box is [x, y, width, height], got ", Show(value)));
  }
  return Box{numbers[0], numbers[1], numbers[2], numbers[3]};
}

absl::StatusOr<uint32_t> ToDimension(const Json& value, absl::string_view where) {
  MOCHI_ASSIGN_OR_RETURN(int64_t n, ToInt(value, where));
  if (n < 0 || n > kMaxPixels) return Invalid(where, absl::StrCat("bad image dimension ", n));
  return static_cast<uint32_t>(n);
}

// {"size": [h, w], "counts": [...] or "..."}.
absl::StatusOr<Rle> RleFromJson(const Json& segmentation, absl::string_view where) {
  MOCHI_ASSIGN_OR_RETURN(const Json* size, Require(segmentation, "size", where));
  MOCHI_ASSIGN_OR_RETURN(const Json* counts, Require(segmentation, "counts", where));
  if (!size->is_array() || size->size() != 2) {
    return Invalid(where, absl::StrCat("'size' must be [height, width], got ", Show(*size)));
  }
  MOCHI_ASSIGN_OR_RETURN(uint32_t height, ToDimension((*size)[0], where));
  MOCHI_ASSIGN_OR_RETURN(uint32_t width, ToDimension((*size)[1], where));
  if (static_cast<int64_t>(height) * width > kMaxPixels) {
    return Invalid(where, absl::StrCat("mask ", height, "x", width, " is too large"));
  }
  if (counts->is_string()) {
    absl::StatusOr<Rle> rle = DecodeRleCounts(counts->get<std::string>(), height, width);
    if (!rle.ok()) return Invalid(where, rle.status().message());
    return rle;
  }
  if (!counts->is_array()) {
    return Invalid(where, "'counts' must be a string (compressed RLE) or a list (uncompressed)");
  }
  Rle rle{height, width, {}};
  rle.counts.reserve(counts->size());
  for (const Json& count : *counts) {
    MOCHI_ASSIGN_OR_RETURN(int64_t n, ToInt(count, absl::StrCat(where, ": 'counts'")));
    if (n < 0 || n > std::numeric_limits<uint32_t>::max()) {
      return Invalid(where, absl::StrCat("RLE count ", n, " out of range"));
    }
    rle.counts.push_back(static_cast<uint32_t>(n));
  }
  absl::Status valid = ValidateRle(rle);
  if (!valid.ok()) return Invalid(where, valid.message());
  return rle;
}

// A polygon list ([[x0, y0, ...], ...]) on the image's canvas.
absl::StatusOr<Rle> RleFromPolygonList(const Json& polygons, const CocoImage& image,
                                       absl::string_view where) {
  std::vector<std::vector<double>> parts;
  for (const Json& part : polygons) {
    MOCHI_ASSIGN_OR_RETURN(std::vector<double> xy, ToNumbers(part, where));
    parts.push_back(std::move(xy));
  }
  absl::StatusOr<Rle> rle = RleFromPolygons(parts, image.height, image.width);
  if (!rle.ok()) {
    return Invalid(where, absl::StrCat(rle.status().message(), " (image ", image.id, ")"));
  }
  return rle;
}

absl::StatusOr<Rle> SegmentationToRle(const Json& segmentation, const CocoImage& image,
                                      absl::string_view where) {
  if (segmentation.is_array()) return RleFromPolygonList(segmentation, image, where);
  if (segmentation.is_object()) return RleFromJson(segmentation, where);
  return Invalid(where, "'segmentation' must be a list of polygons or an RLE object");
}

struct GroundTruthIndex {
  absl::flat_hash_map<int64_t, const CocoImage*> images;
  absl::flat_hash_set<int64_t> categories;
};

GroundTruthIndex IndexOf(const CocoGroundTruth& gt) {
  GroundTruthIndex index;
  for (const CocoImage& image : gt.images) index.images[image.id] = &image;
  for (const CocoCategory& category : gt.categories) index.categories.insert(category.id);
  return index;
}

absl::StatusOr<const CocoImage*> FindImage(const GroundTruthIndex& index, int64_t image_id,
                                           absl::string_view where) {
  auto it = index.images.find(image_id);
  if (it == index.images.end()) {
    return Invalid(where,
                   absl::StrCat("image_id ", image_id, " is not among the ground truth's images"));
  }
  return it->second;
}

absl::Status CheckCategory(const GroundTruthIndex& index, int64_t category_id,
                           absl::string_view where) {
  if (!index.categories.contains(category_id)) {
    return Invalid(where, absl::StrCat("category_id ", category_id,
                                       " is not among the ground truth's categories"));
  }
  return absl::OkStatus();
}

absl::StatusOr<const Json*> RequireArray(const Json& root, const char* key,
                                         absl::string_view where) {
  MOCHI_ASSIGN_OR_RETURN(const Json* value, Require(root, key, where));
  if (!value->is_array()) return Invalid(where, absl::StrCat("'", key, "' must be an array"));
  return value;
}

absl::Status ParseImages(const Json& root, absl::string_view source, CocoGroundTruth& gt) {
  MOCHI_ASSIGN_OR_RETURN(const Json* images, RequireArray(root, "images", source));
  absl::flat_hash_set<int64_t> seen;
  for (size_t i = 0; i < images->size(); ++i) {
    const Json& entry = (*images)[i];
    const std::string where = absl::StrCat(source, ": images[", i, "]");
    if (!entry.is_object()) return Invalid(where, "must be an object");
    CocoImage image;
    MOCHI_ASSIGN_OR_RETURN(image.id, RequireInt(entry, "id", where));
    if (!seen.insert(image.id).second) {
      return Invalid(where, absl::StrCat("duplicate image id ", image.id));
    }
    if (const Json* height = Find(entry, "height")) {
      MOCHI_ASSIGN_OR_RETURN(image.height, ToInt(*height, absl::StrCat(where, ": 'height'")));
    }
    if (const Json* width = Find(entry, "width")) {
      MOCHI_ASSIGN_OR_RETURN(image.width, ToInt(*width, absl::StrCat(where, ": 'width'")));
    }
    if (const Json* file_name = Find(entry, "file_name"); file_name != nullptr) {
      if (!file_name->is_string()) return Invalid(where, "'file_name' must be a string");
      image.file_name = file_name->get<std::string>();
    }
    gt.images.push_back(image);
  }
  return absl::OkStatus();
}

absl::Status ParseCategories(const Json& root, absl::string_view source, CocoGroundTruth& gt) {
  MOCHI_ASSIGN_OR_RETURN(const Json* categories, RequireArray(root, "categories", source));
  absl::flat_hash_set<int64_t> seen;
  for (size_t i = 0; i < categories->size(); ++i) {
    const Json& entry = (*categories)[i];
    const std::string where = absl::StrCat(source, ": categories[", i, "]");
    if (!entry.is_object()) return Invalid(where, "must be an object");
    CocoCategory category;
    MOCHI_ASSIGN_OR_RETURN(category.id, RequireInt(entry, "id", where));
    if (!seen.insert(category.id).second) {
      return Invalid(where, absl::StrCat("duplicate category id ", category.id));
    }
    if (const Json* name = Find(entry, "name"); name != nullptr && name->is_string()) {
      category.name = name->get<std::string>();
    }
    gt.categories.push_back(std::move(category));
  }
  return absl::OkStatus();
}

absl::Status ParseAnnotations(const Json& root, absl::string_view source, IouType iou_type,
                              CocoGroundTruth& gt) {
  const Json* annotations = Find(root, "annotations");
  if (annotations == nullptr) return absl::OkStatus();  // a dataset without objects
  if (!annotations->is_array()) return Invalid(source, "'annotations' must be an array");
  const GroundTruthIndex index = IndexOf(gt);
  absl::flat_hash_set<int64_t> seen;
  for (size_t i = 0; i < annotations->size(); ++i) {
    const Json& entry = (*annotations)[i];
    std::string where = absl::StrCat(source, ": annotations[", i, "]");
    if (!entry.is_object()) return Invalid(where, "must be an object");
    CocoInstance annotation;
    MOCHI_ASSIGN_OR_RETURN(annotation.id, RequireInt(entry, "id", where));
    absl::StrAppend(&where, " (id ", annotation.id, ")");
    if (annotation.id == 0) {
      return Invalid(where,
                     "annotation id 0 is not supported (pycocotools treats a match to it "
                     "as no match); number annotations from 1");
    }
    if (!seen.insert(annotation.id).second) return Invalid(where, "duplicate annotation id");
    MOCHI_ASSIGN_OR_RETURN(annotation.image_id, RequireInt(entry, "image_id", where));
    MOCHI_ASSIGN_OR_RETURN(const CocoImage* image, FindImage(index, annotation.image_id, where));
    MOCHI_ASSIGN_OR_RETURN(annotation.category_id, RequireInt(entry, "category_id", where));
    MOCHI_RETURN_IF_ERROR(CheckCategory(index, annotation.category_id, where));
    MOCHI_ASSIGN_OR_RETURN(annotation.area, RequireNumber(entry, "area", where));
    if (const Json* crowd = Find(entry, "iscrowd")) {
      if (crowd->is_boolean()) {
        annotation.is_crowd = crowd->get<bool>();
      } else {
        MOCHI_ASSIGN_OR_RETURN(int64_t value, ToInt(*crowd, absl::StrCat(where, ": 'iscrowd'")));
        annotation.is_crowd = value != 0;
      }
    }
    if (iou_type == IouType::kBbox) {
      MOCHI_ASSIGN_OR_RETURN(const Json* bbox, Require(entry, "bbox", where));
      MOCHI_ASSIGN_OR_RETURN(annotation.bbox, ToBox(*bbox, absl::StrCat(where, ": 'bbox'")));
    } else {
      MOCHI_ASSIGN_OR_RETURN(const Json* segmentation, Require(entry, "segmentation", where));
      MOCHI_ASSIGN_OR_RETURN(
          annotation.mask,
          SegmentationToRle(*segmentation, *image, absl::StrCat(where, ": 'segmentation'")));
    }
    gt.annotations.push_back(std::move(annotation));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<IouType> ParseIouType(absl::string_view name) {
  if (name == "bbox") return IouType::kBbox;
  if (name == "segm") return IouType::kSegm;
  return absl::InvalidArgumentError(
      absl::StrCat("iou type '", name, "' is not supported; use bbox or segm"));
}

const char* IouTypeName(IouType iou_type) {
  switch (iou_type) {
    case IouType::kBbox:
      return "bbox";
    case IouType::kSegm:
      return "segm";
  }
  return "unknown";
}

absl::StatusOr<CocoGroundTruth> ParseCocoGroundTruth(absl::string_view json_text,
                                                     absl::string_view source_name,
                                                     IouType iou_type) {
  MOCHI_ASSIGN_OR_RETURN(Json root, ParseJson(json_text, source_name));
  if (!root.is_object()) {
    return Invalid(source_name,
                   "a COCO dataset must be a JSON object with 'images', "
                   "'categories' and 'annotations'");
  }
  CocoGroundTruth gt;
  MOCHI_RETURN_IF_ERROR(ParseImages(root, source_name, gt));
  MOCHI_RETURN_IF_ERROR(ParseCategories(root, source_name, gt));
  MOCHI_RETURN_IF_ERROR(ParseAnnotations(root, source_name, iou_type, gt));
  return gt;
}

absl::StatusOr<CocoGroundTruth> LoadCocoGroundTruth(const std::string& path, IouType iou_type) {
  MOCHI_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseCocoGroundTruth(text, path, iou_type);
}

absl::StatusOr<std::vector<CocoInstance>> ParseCocoResults(absl::string_view json_text,
                                                           absl::string_view source_name,
                                                           const CocoGroundTruth& gt,
                                                           IouType iou_type) {
  MOCHI_ASSIGN_OR_RETURN(Json root, ParseJson(json_text, source_name));
  if (!root.is_array()) {
    return Invalid(source_name,
                   "results must be a JSON array of {image_id, category_id, "
                   "bbox|segmentation, score} objects");
  }
  std::vector<CocoInstance> detections;
  if (root.empty()) return detections;
  // loadRes decides from the first result whether these are box or mask results.
  const Json* first_box = root[0].is_object() ? Find(root[0], "bbox") : nullptr;
  const bool box_results = first_box != nullptr && !(first_box->is_array() && first_box->empty());
  const GroundTruthIndex index = IndexOf(gt);
  detections.reserve(root.size());
  for (size_t i = 0; i < root.size(); ++i) {
    const Json& entry = root[i];
    const std::string where = absl::StrCat(source_name, ": results[", i, "]");
    if (!entry.is_object()) return Invalid(where, "must be an object");
    CocoInstance detection;
    detection.id = static_cast<int64_t>(i) + 1;
    MOCHI_ASSIGN_OR_RETURN(detection.image_id, RequireInt(entry, "image_id", where));
    MOCHI_ASSIGN_OR_RETURN(const CocoImage* image, FindImage(index, detection.image_id, where));
    MOCHI_ASSIGN_OR_RETURN(detection.category_id, RequireInt(entry, "category_id", where));
    MOCHI_RETURN_IF_ERROR(CheckCategory(index, detection.category_id, where));
    MOCHI_ASSIGN_OR_RETURN(detection.score, RequireNumber(entry, "score", where));
    const Json* bbox = Find(entry, "bbox");
    const Json* segmentation = Find(entry, "segmentation");
    const std::string bbox_where = absl::StrCat(where, ": 'bbox'");
    const std::string segmentation_where = absl::StrCat(where, ": 'segmentation'");
    if (box_results) {
      if (bbox == nullptr) {
        return Invalid(where, "missing 'bbox' (the first result has one, so all must)");
      }
      MOCHI_ASSIGN_OR_RETURN(detection.bbox, ToBox(*bbox, bbox_where));
      detection.area = detection.bbox.w * detection.bbox.h;
      if (iou_type == IouType::kSegm) {
        if (segmentation != nullptr) {
          MOCHI_ASSIGN_OR_RETURN(detection.mask,
                                 SegmentationToRle(*segmentation, *image, segmentation_where));
        } else {
          // loadRes gives box results the polygon of the box.
          const Box& b = detection.bbox;
          const Json polygon = Json::array(
              {Json::array({b.x, b.y, b.x, b.y + b.h, b.x + b.w, b.y + b.h, b.x + b.w, b.y})});
          MOCHI_ASSIGN_OR_RETURN(detection.mask, SegmentationToRle(polygon, *image, bbox_where));
        }
      }
    } else {
      if (segmentation == nullptr) {
        return Invalid(where, "missing 'segmentation' (and the first result has no 'bbox')");
      }
      MOCHI_ASSIGN_OR_RETURN(Rle mask,
                             SegmentationToRle(*segmentation, *image, segmentation_where));
      detection.area = static_cast<double>(RleArea(mask));
      if (bbox != nullptr) {
        MOCHI_ASSIGN_OR_RETURN(detection.bbox, ToBox(*bbox, bbox_where));
      } else {
        detection.bbox = RleToBox(mask);
      }
      if (iou_type == IouType::kSegm) detection.mask = std::move(mask);
    }
    detections.push_back(std::move(detection));
  }
  return detections;
}

absl::StatusOr<std::vector<CocoInstance>> LoadCocoResults(const std::string& path,
                                                          const CocoGroundTruth& gt,
                                                          IouType iou_type) {
  MOCHI_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseCocoResults(text, path, gt, iou_type);
}

}  // namespace mochi::eval::coco
