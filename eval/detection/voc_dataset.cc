#include "eval/detection/voc_dataset.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <memory>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "eval/voc/voc_annotation.h"
#include "mochi/port/status_macros.h"
#include "stb/stb_image.h"

namespace mochi::eval::detection {
namespace {

struct StbiFree {
  void operator()(stbi_uc* pixels) const { stbi_image_free(pixels); }
};

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

}  // namespace

const std::vector<std::string>& PascalVocClassNames() {
  static const auto* const kNames = new std::vector<std::string>{
      "aeroplane", "bicycle",     "bird",  "boat",        "bottle", "bus",      "car",
      "cat",       "chair",       "cow",   "diningtable", "dog",    "horse",    "motorbike",
      "person",    "pottedplant", "sheep", "sofa",        "train",  "tvmonitor"};
  return *kNames;
}

absl::StatusOr<VocImageSet> ParseVocImageSet(const std::string& voc_root,
                                             absl::string_view image_set) {
  const size_t separator = image_set.rfind('_');
  if (separator == absl::string_view::npos || separator == 0 || separator + 1 == image_set.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("image set \"", image_set, "\": expected <year>_<split>, e.g. 2007_trainval"));
  }
  const absl::string_view year = image_set.substr(0, separator);
  const bool numeric =
      std::all_of(year.begin(), year.end(), [](char c) { return absl::ascii_isdigit(c); });
  VocImageSet out;
  out.year_root = absl::StrCat(voc_root, "/", numeric ? "VOC" : "", year);
  out.split = std::string(image_set.substr(separator + 1));
  return out;
}

absl::StatusOr<std::vector<DetectionRecord>> LoadVocRecords(
    const std::string& voc_root, const std::vector<std::string>& image_sets,
    const std::vector<std::string>& class_names) {
  std::vector<DetectionRecord> records;
  for (const std::string& image_set : image_sets) {
    MOCHI_ASSIGN_OR_RETURN(VocImageSet set, ParseVocImageSet(voc_root, image_set));
    const std::string list = absl::StrCat(set.year_root, "/ImageSets/Main/", set.split, ".txt");
    MOCHI_ASSIGN_OR_RETURN(std::string ids, ReadWholeFile(list));
    for (absl::string_view line : absl::StrSplit(ids, '\n')) {
      const std::string id(absl::StripAsciiWhitespace(line));
      if (id.empty()) continue;
      const std::string xml = absl::StrCat(set.year_root, "/Annotations/", id, ".xml");
      MOCHI_ASSIGN_OR_RETURN(voc::VocAnnotation annotation, voc::LoadVocAnnotation(xml));
      DetectionRecord record;
      record.image_id = id;
      record.image_path = absl::StrCat(set.year_root, "/JPEGImages/", id, ".jpg");
      for (const voc::VocObject& object : annotation.objects) {
        const auto it = std::find(class_names.begin(), class_names.end(), object.name);
        if (it == class_names.end()) {
          return absl::InvalidArgumentError(
              absl::StrCat(xml, ": object class \"", object.name, "\" is not in class_names"));
        }
        if (object.xmax < object.xmin || object.ymax < object.ymin) {
          return absl::InvalidArgumentError(absl::StrCat(xml, ": empty box of a ", object.name));
        }
        record.boxes.push_back({static_cast<float>(object.xmin - 1),
                                static_cast<float>(object.ymin - 1),
                                static_cast<float>(object.xmax), static_cast<float>(object.ymax)});
        record.classes.push_back(it - class_names.begin());
        record.difficult.push_back(object.difficult);
      }
      records.push_back(std::move(record));
    }
  }
  return records;
}

absl::StatusOr<DecodedImage> DecodeImageFile(const std::string& path, int channels) {
  if (channels != 1 && channels != 3) {
    return absl::InvalidArgumentError(absl::StrCat("channels must be 1 or 3, got ", channels));
  }
  MOCHI_ASSIGN_OR_RETURN(std::string encoded, ReadWholeFile(path));
  DecodedImage image;
  int channels_in_file = 0;
  // Thread-safe: stb keeps its failure reason thread-local.
  std::unique_ptr<stbi_uc, StbiFree> pixels(stbi_load_from_memory(
      reinterpret_cast<const stbi_uc*>(encoded.data()), static_cast<int>(encoded.size()),
      &image.width, &image.height, &channels_in_file, channels));
  if (pixels == nullptr) {
    return absl::DataLossError(
        absl::StrCat(path, ": cannot decode image (stb_image: ", stbi_failure_reason(), ")"));
  }
  image.channels = channels;
  image.pixels.assign(pixels.get(),
                      pixels.get() + static_cast<size_t>(image.width) * image.height * channels);
  return image;
}

}  // namespace mochi::eval::detection
