#include "mochi/data/fashion_mnist.h"

#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "ATen/ops/empty.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mochi/data/idx_reader.h"
#include "mochi/port/status_macros.h"

namespace mochi::data {
namespace {

using Split = FashionMnistOptions::Split;

struct SplitFiles {
  const char* name;  // for messages and Describe()
  const char* images_file;
  const char* labels_file;
  // MD5 of the decompressed files (the upstream content; Debian's .gz bytes differ).
  const char* images_md5;
  const char* labels_md5;
  int64_t size;
};

const SplitFiles& FilesFor(Split split) {
  static const SplitFiles kTrain = {"train",
                                    "train-images-idx3-ubyte.gz",
                                    "train-labels-idx1-ubyte.gz",
                                    "f4a8712d7a061bf5bd6d2ca38dc4d50a",
                                    "9018921c3c673c538a1fc5bad174d6f9",
                                    FashionMnist::kTrainSize};
  static const SplitFiles kTest = {"test",
                                   "t10k-images-idx3-ubyte.gz",
                                   "t10k-labels-idx1-ubyte.gz",
                                   "8181f5470baa50b63fa0f6fddb340f0a",
                                   "15d484375f8d13e6eb1aabb0c3f46965",
                                   FashionMnist::kTestSize};
  switch (split) {
    case Split::kTrain:
      return kTrain;
    case Split::kTest:
      return kTest;
  }
  return kTrain;  // Unreachable: -Werror=switch keeps the switch exhaustive.
}

absl::Status VerifyMd5(const std::string& path, const std::string& expected,
                       const std::string& actual) {
  if (actual == expected) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat(path, ": md5 of the decompressed content is ", actual,
                                          ", expected ", expected,
                                          " (corrupt or not the Fashion-MNIST release)"));
}

}  // namespace

const std::array<std::string, FashionMnist::kNumClasses>& FashionMnist::ClassNames() {
  static const std::array<std::string, kNumClasses> kNames = {
      "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
      "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return kNames;
}

absl::StatusOr<std::unique_ptr<FashionMnist>> FashionMnist::Load(
    const FashionMnistOptions& options) {
  const SplitFiles& files = FilesFor(options.split);
  std::error_code error;
  if (!std::filesystem::is_directory(options.root, error)) {
    return absl::NotFoundError(absl::StrCat(
        "Fashion-MNIST root ", options.root,
        " is not a directory. It comes from the apt package dataset-fashion-mnist; install it "
        "with `bash tools/setup.sh`"));
  }
  if (options.limit < 0 || options.limit > files.size) {
    return absl::InvalidArgumentError(absl::StrCat("fashion_mnist limit ", options.limit,
                                                   " is outside [0, ", files.size, "] for the ",
                                                   files.name, " split"));
  }
  const std::string images_path = absl::StrCat(options.root, "/", files.images_file);
  const std::string labels_path = absl::StrCat(options.root, "/", files.labels_file);
  MOCHI_ASSIGN_OR_RETURN(IdxArray images, ReadGzipIdx(images_path));
  MOCHI_ASSIGN_OR_RETURN(IdxArray labels, ReadGzipIdx(labels_path));

  // Checksums first: on a modified file they explain more than a shape mismatch would.
  if (options.verify_checksums) {
    MOCHI_RETURN_IF_ERROR(VerifyMd5(images_path, files.images_md5, images.md5_hex));
    MOCHI_RETURN_IF_ERROR(VerifyMd5(labels_path, files.labels_md5, labels.md5_hex));
  }
  const std::vector<int32_t> expected_image_dims = {static_cast<int32_t>(files.size), kImageSize,
                                                    kImageSize};
  if (images.dims != expected_image_dims) {
    return absl::DataLossError(absl::StrCat(images_path, ": dims ", absl::StrJoin(images.dims, "x"),
                                            ", expected ",
                                            absl::StrJoin(expected_image_dims, "x")));
  }
  if (labels.dims != std::vector<int32_t>{static_cast<int32_t>(files.size)}) {
    return absl::DataLossError(absl::StrCat(labels_path, ": dims ", absl::StrJoin(labels.dims, "x"),
                                            ", expected ", files.size));
  }
  for (size_t i = 0; i < labels.data.size(); ++i) {
    if (labels.data[i] >= kNumClasses) {
      return absl::DataLossError(absl::StrCat(labels_path, ": label ", int{labels.data[i]},
                                              " at index ", i, " is not in [0, ", kNumClasses,
                                              ")"));
    }
  }

  const int64_t n = options.limit > 0 ? options.limit : files.size;
  const int64_t pixels_per_image = kImageSize * kImageSize;
  at::Tensor image_tensor = at::empty({n, 1, kImageSize, kImageSize}, at::kByte);
  std::memcpy(image_tensor.data_ptr<uint8_t>(), images.data.data(), n * pixels_per_image);
  at::Tensor label_tensor = at::empty({n}, at::kLong);
  int64_t* label_out = label_tensor.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) label_out[i] = labels.data[i];

  std::string content_md5 = Md5Hex(absl::StrCat(images.md5_hex, labels.md5_hex));
  return std::unique_ptr<FashionMnist>(new FashionMnist(
      options, std::move(image_tensor), std::move(label_tensor), std::move(content_md5)));
}

FashionMnist::FashionMnist(FashionMnistOptions options, at::Tensor images, at::Tensor labels,
                           std::string content_md5)
    : options_(std::move(options)),
      images_(std::move(images)),
      labels_(std::move(labels)),
      content_md5_(std::move(content_md5)) {}

absl::StatusOr<Example> FashionMnist::Get(int64_t index) const {
  if (index < 0 || index >= size()) {
    return absl::OutOfRangeError(
        absl::StrCat("fashion_mnist index ", index, " is outside [0, ", size(), ")"));
  }
  // A copy, not a view: callers may augment in place without touching the dataset. Only
  // at::empty and raw reads here, so concurrent calls are safe.
  constexpr int64_t kPixels = kImageSize * kImageSize;
  Example example;
  example.image = at::empty({1, kImageSize, kImageSize}, at::kByte);
  std::memcpy(example.image.data_ptr<uint8_t>(), images_.data_ptr<uint8_t>() + index * kPixels,
              kPixels);
  example.label = labels_.data_ptr<int64_t>()[index];
  return example;
}

std::string FashionMnist::Describe() const {
  const SplitFiles& files = FilesFor(options_.split);
  const std::string count = size() == files.size ? absl::StrCat("n=", size())
                                                 : absl::StrCat("n=", size(), " of ", files.size);
  return absl::StrCat("fashion_mnist(", files.name, ", ", count, ", ",
                      options_.verify_checksums ? "md5 verified" : "md5 not verified", ")");
}

}  // namespace mochi::data
