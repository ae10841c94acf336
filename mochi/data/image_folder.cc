#include "mochi/data/image_folder.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <system_error>
#include <unordered_set>
#include <utility>

#include "ATen/ops/empty.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "mochi/port/status_macros.h"
#include "mochi/data/jpeg_codec.h"
#include "stb/stb_image.h"

namespace mochi::data {
namespace {

namespace fs = std::filesystem;

struct StbiFree {
  void operator()(stbi_uc* pixels) const { stbi_image_free(pixels); }
};

bool IsImageFile(const std::string& name) {
  return absl::EndsWithIgnoreCase(name, ".jpg") || absl::EndsWithIgnoreCase(name, ".jpeg") ||
         absl::EndsWithIgnoreCase(name, ".png");
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code error;
    if (!fs::exists(path, error)) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
    return absl::PermissionDeniedError(absl::StrCat(path, ": cannot open"));
  }
  std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read failed"));
  return contents;
}

// Names of the subdirectories of `root`, sorted bytewise (Python's sorted() on str).
absl::StatusOr<std::vector<std::string>> ListClassDirs(const std::string& root) {
  std::vector<std::string> names;
  std::error_code error;
  for (fs::directory_iterator it(root, error), end; !error && it != end; it.increment(error)) {
    std::error_code type_error;
    if (it->is_directory(type_error)) names.push_back(it->path().filename().string());
  }
  if (error) {
    return absl::InternalError(absl::StrCat(root, ": cannot list: ", error.message()));
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Image files directly inside `dir`, sorted by name.
absl::StatusOr<std::vector<std::string>> ListImages(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code error;
  for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    std::error_code type_error;
    const std::string name = it->path().filename().string();
    if (it->is_regular_file(type_error) && IsImageFile(name)) names.push_back(name);
  }
  if (error) {
    return absl::InternalError(absl::StrCat(dir, ": cannot list: ", error.message()));
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ReadClassList(const std::string& path) {
  MOCHI_ASSIGN_OR_RETURN(std::string contents, ReadWholeFile(path));
  std::vector<std::string> classes;
  std::unordered_set<std::string> seen;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(contents, '\n')) {
    ++line_number;
    line = line.substr(0, line.find('#'));
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    if (absl::StrContains(line, '/')) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", line_number, ": class name '", line,
                                                     "' must be a directory name, not a path"));
    }
    if (!seen.insert(std::string(line)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line_number, ": class '", line, "' is listed twice"));
    }
    classes.emplace_back(line);
  }
  if (classes.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": lists no classes"));
  }
  return classes;
}

absl::StatusOr<std::unique_ptr<ImageFolder>> ImageFolder::Load(const ImageFolderOptions& options) {
  std::error_code error;
  if (!fs::is_directory(options.root, error)) {
    return absl::NotFoundError(
        absl::StrCat("image folder root ", options.root, " is not a directory"));
  }
  std::vector<std::string> classes;
  if (options.class_list_file.empty()) {
    MOCHI_ASSIGN_OR_RETURN(classes, ListClassDirs(options.root));
    if (classes.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("image folder root ", options.root, " has no class subdirectories"));
    }
  } else {
    MOCHI_ASSIGN_OR_RETURN(classes, ReadClassList(options.class_list_file));
  }

  std::vector<Sample> samples;
  for (size_t label = 0; label < classes.size(); ++label) {
    const std::string dir = absl::StrCat(options.root, "/", classes[label]);
    if (!fs::is_directory(dir, error)) {
      return absl::NotFoundError(absl::StrCat("class '", classes[label], "' (listed in ",
                                              options.class_list_file, ") has no directory ", dir));
    }
    MOCHI_ASSIGN_OR_RETURN(std::vector<std::string> images, ListImages(dir));
    // A class no sample can have still counts in num_classes(); torchvision refuses it too.
    if (images.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("class '", classes[label], "' has no .jpg/.jpeg/.png images in ", dir));
    }
    for (const std::string& name : images) {
      samples.push_back({absl::StrCat(dir, "/", name), static_cast<int64_t>(label)});
    }
  }
  return std::unique_ptr<ImageFolder>(
      new ImageFolder(options, std::move(classes), std::move(samples)));
}

ImageFolder::ImageFolder(ImageFolderOptions options, std::vector<std::string> classes,
                         std::vector<Sample> samples)
    : options_(std::move(options)), classes_(std::move(classes)), samples_(std::move(samples)) {}

absl::StatusOr<Example> ImageFolder::Get(int64_t index) const {
  if (index < 0 || index >= size()) {
    return absl::OutOfRangeError(absl::StrCat("image_folder index ", index, " is outside [0, ",
                                              size(), ") for ", options_.root));
  }
  const Sample& sample = samples_[index];
  MOCHI_ASSIGN_OR_RETURN(std::string encoded, ReadWholeFile(sample.path));
  if (options_.jpeg_decoder == JpegDecoder::kLibjpegTurbo && LooksLikeJpeg(encoded)) {
    absl::StatusOr<at::Tensor> image = DecodeJpeg(encoded, options_.min_decoded_side);
    if (!image.ok()) {
      return absl::DataLossError(absl::StrCat(sample.path, ": ", image.status().message()));
    }
    return Example{*std::move(image), sample.label};
  }
  int width = 0;
  int height = 0;
  int channels_in_file = 0;
  // stbi_load_from_memory keeps no shared state (its failure reason is thread-local), so
  // concurrent Get() calls are safe; req_comp = 3 converts gray/RGBA to RGB.
  std::unique_ptr<stbi_uc, StbiFree> pixels(stbi_load_from_memory(
      reinterpret_cast<const stbi_uc*>(encoded.data()), static_cast<int>(encoded.size()), &width,
      &height, &channels_in_file, /*req_comp=*/3));
  if (pixels == nullptr) {
    return absl::DataLossError(absl::StrCat(
        sample.path, ": cannot decode image (stb_image: ", stbi_failure_reason(), ")"));
  }
  Example example;
  example.label = sample.label;
  example.image = at::empty({3, height, width}, at::kByte);
  // HWC (interleaved RGB) to CHW.
  const stbi_uc* rgb = pixels.get();
  uint8_t* out = example.image.data_ptr<uint8_t>();
  const int64_t plane = static_cast<int64_t>(height) * width;
  for (int64_t p = 0; p < plane; ++p) {
    out[p] = rgb[3 * p];
    out[plane + p] = rgb[3 * p + 1];
    out[2 * plane + p] = rgb[3 * p + 2];
  }
  return example;
}

std::string ImageFolder::Describe() const {
  return absl::StrCat("image_folder(", options_.root, ", classes=", classes_.size(),
                      ", n=", samples_.size(), ")");
}

}  // namespace mochi::data
