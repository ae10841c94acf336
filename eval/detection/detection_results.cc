#include "eval/detection/detection_results.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"

namespace mochi::eval::detection {
namespace {

absl::Status WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteVocResults(const std::string& dir, const std::string& prefix,
                             const std::vector<std::string>& class_names,
                             const std::vector<ImageDetections>& detections) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", error.message()));
  std::vector<std::string> files(class_names.size());
  for (const ImageDetections& image : detections) {
    for (const DetectedBox& box : image.boxes) {
      if (box.class_index < 0 || box.class_index >= static_cast<int64_t>(class_names.size())) {
        return absl::InvalidArgumentError(absl::StrCat("image ", image.image_id, ": class index ",
                                                       box.class_index, " outside [0, ",
                                                       class_names.size(), ")"));
      }
      // detectron2 adds 1 to xmin / ymin only: VOC's xmax is inclusive, i.e. equal to x2.
      absl::StrAppendFormat(&files[box.class_index], "%s %.3f %.1f %.1f %.1f %.1f\n",
                            image.image_id, box.score, box.x1 + 1, box.y1 + 1, box.x2, box.y2);
    }
  }
  for (size_t c = 0; c < class_names.size(); ++c) {
    const absl::Status status =
        WriteFile(absl::StrCat(dir, "/", prefix, class_names[c], ".txt"), files[c]);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status WriteCocoResults(const std::string& path, const std::vector<int64_t>& category_ids,
                              const std::vector<ImageDetections>& detections,
                              CocoResultsLayout layout) {
  nlohmann::json results = nlohmann::json::array();
  for (const ImageDetections& image : detections) {
    int64_t numeric_id = 0;
    const bool numeric = !image.image_id.empty() &&
                         std::all_of(image.image_id.begin(), image.image_id.end(),
                                     [](char c) { return absl::ascii_isdigit(c); }) &&
                         absl::SimpleAtoi(image.image_id, &numeric_id);
    for (const DetectedBox& box : image.boxes) {
      if (box.class_index < 0 || box.class_index >= static_cast<int64_t>(category_ids.size())) {
        return absl::InvalidArgumentError(absl::StrCat("image ", image.image_id, ": class index ",
                                                       box.class_index, " outside [0, ",
                                                       category_ids.size(), ")"));
      }
      nlohmann::json entry;
      if (numeric) {
        entry["image_id"] = numeric_id;
      } else {
        entry["image_id"] = image.image_id;
      }
      entry["category_id"] = category_ids[box.class_index];
      if (layout == CocoResultsLayout::kBoxesAndMasks) {
        entry["bbox"] = {box.x1, box.y1, box.x2 - box.x1, box.y2 - box.y1};
      } else if (box.mask_counts.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "image ", image.image_id, ": a detection without a mask in a masks-only results file"));
      }
      entry["score"] = box.score;
      if (!box.mask_counts.empty()) {
        if (image.height <= 0 || image.width <= 0) {
          return absl::InvalidArgumentError(absl::StrCat(
              "image ", image.image_id, ": a mask needs the image's height and width"));
        }
        entry["segmentation"] = {{"size", {image.height, image.width}},
                                 {"counts", box.mask_counts}};
      }
      results.push_back(std::move(entry));
    }
  }
  return WriteFile(path, results.dump());
}

}  // namespace mochi::eval::detection
