// ImageNet-style image folders: root/<class_dir>/<image>, one directory per class.
//
// Classes are either every subdirectory of root, sorted by name (as torchvision's ImageFolder
// orders them), or the directories named by a class list file, in the file's order (e.g.
// configs/data/imagenet100_classes.txt for the CMC ImageNet-100 split). Images are the files
// directly inside a class directory whose names end in .jpg, .jpeg or .png (any case), sorted by
// name; other files are ignored. Decoding is lazy: Get() reads and decodes one file (JPEG with
// libjpeg-turbo by default, PNG with stb_image).
#ifndef MOCHI_DATA_IMAGE_FOLDER_H_
#define MOCHI_DATA_IMAGE_FOLDER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mochi/data/dataset.h"

namespace mochi::data {

// How JPEG files are decoded. PNG files always go through stb_image.
enum class JpegDecoder {
  kLibjpegTurbo,  // SIMD, optional DCT-domain downscaling (jpeg_codec.h); the default
  kStbImage,      // the decoder before it, kept for side-by-side benchmarks
};

struct ImageFolderOptions {
  std::string root;
  // Optional. One class directory name per line (e.g. a WordNet id such as n02869837); blank
  // lines and '#' comments are ignored. Defines the classes and their label order. Empty: all
  // subdirectories of root, sorted.
  std::string class_list_file;
  JpegDecoder jpeg_decoder = JpegDecoder::kLibjpegTurbo;
  // libjpeg-turbo only: decode at 1/2, 1/4 or 1/8 scale while the shorter side stays at least
  // this (DecodeJpeg's min_side). 0 = full size. A crop smaller than this many decoded pixels is
  // then upsampled from fewer pixels than the file has: set it no higher than the smallest crop
  // side the augmentation should see.
  int min_decoded_side = 0;
};

// ImageFolder indexes the tree at Load() time and decodes images to RGB in Get().
//
// Load() errors: NotFound (root, the class list file, or a listed class directory missing),
// InvalidArgument (a class listed twice, an empty class list, a class name with '/'),
// FailedPrecondition (no classes, or a class without images).
// Get() errors: OutOfRange (bad index), NotFound (file gone since Load), DataLoss (undecodable).
//
// Example:
//   ImageFolderOptions options;
//   options.root = "/data/imagenet/train";
//   options.class_list_file = "configs/data/imagenet100_classes.txt";
//   MOCHI_ASSIGN_OR_RETURN(std::unique_ptr<ImageFolder> in100, ImageFolder::Load(options));
//   MOCHI_ASSIGN_OR_RETURN(Example example, in100->Get(0));  // image uint8 [3, H, W]
class ImageFolder : public Dataset {
 public:
  static absl::StatusOr<std::unique_ptr<ImageFolder>> Load(const ImageFolderOptions& options);

  int64_t size() const override { return static_cast<int64_t>(samples_.size()); }
  int num_classes() const override { return static_cast<int>(classes_.size()); }
  int channels() const override { return 3; }
  // Decodes image `index` to uint8 [3, H, W] (grayscale and RGBA files become RGB). Thread-safe.
  absl::StatusOr<Example> Get(int64_t index) const override;
  // E.g. "image_folder(/data/imagenet/train, classes=100, n=126689)".
  std::string Describe() const override;

  // Class directory names; label i is classes()[i].
  const std::vector<std::string>& classes() const { return classes_; }
  // Path of image `index` (precondition: 0 <= index < size()).
  const std::string& image_path(int64_t index) const { return samples_[index].path; }

 private:
  struct Sample {
    std::string path;
    int64_t label;
  };

  ImageFolder(ImageFolderOptions options, std::vector<std::string> classes,
              std::vector<Sample> samples);

  ImageFolderOptions options_;
  std::vector<std::string> classes_;
  std::vector<Sample> samples_;
};

// ReadClassList parses a class list file (see ImageFolderOptions::class_list_file).
// NotFound if the file is missing; InvalidArgument for duplicates, names with '/', or no names.
absl::StatusOr<std::vector<std::string>> ReadClassList(const std::string& path);

}  // namespace mochi::data

#endif  // MOCHI_DATA_IMAGE_FOLDER_H_
