// Fashion-MNIST (Xiao et al. 2017) from Debian's dataset-fashion-mnist package.
//
// 70,000 28x28 grayscale images of 10 balanced clothing classes: 60,000 train, 10,000 test.
// The package installs the four gzip-compressed IDX files under
// /usr/share/datasets/fashion-mnist (`bash tools/setup.sh` installs it). Debian re-compressed
// the .gz files, so checksums are verified over the decompressed content.
#ifndef MOCHI_DATA_FASHION_MNIST_H_
#define MOCHI_DATA_FASHION_MNIST_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "ATen/core/Tensor.h"
#include "absl/status/statusor.h"
#include "mochi/data/dataset.h"

namespace mochi::data {

struct FashionMnistOptions {
  enum class Split { kTrain, kTest };

  std::string root = "/usr/share/datasets/fashion-mnist";
  Split split = Split::kTrain;
  // Compare the decompressed files' MD5s with the published Fashion-MNIST content.
  bool verify_checksums = true;
  // Keep only the first `limit` examples (for smoke runs); 0 keeps all.
  int64_t limit = 0;
};

// FashionMnist holds one split in memory: images uint8 [N, 1, 28, 28], labels int64 [N].
//
// Load() errors: NotFound (root or a file missing; the message points at tools/setup.sh),
// DataLoss (corrupt gzip/IDX, MD5 mismatch, wrong shape or count, label >= 10),
// InvalidArgument (limit < 0 or larger than the split).
//
// Example:
//   FashionMnistOptions options;
//   options.split = FashionMnistOptions::Split::kTest;
//   MOCHI_ASSIGN_OR_RETURN(std::unique_ptr<FashionMnist> test_set, FashionMnist::Load(options));
//   MOCHI_ASSIGN_OR_RETURN(Example example, test_set->Get(0));  // image [1, 28, 28], label 9
class FashionMnist : public Dataset {
 public:
  static constexpr int kNumClasses = 10;
  static constexpr int kImageSize = 28;
  static constexpr int64_t kTrainSize = 60000;
  static constexpr int64_t kTestSize = 10000;

  static absl::StatusOr<std::unique_ptr<FashionMnist>> Load(const FashionMnistOptions& options);

  // Names of labels 0..9, as in the Fashion-MNIST README ("T-shirt/top", ..., "Ankle boot").
  static const std::array<std::string, kNumClasses>& ClassNames();

  int64_t size() const override { return labels_.size(0); }
  int num_classes() const override { return kNumClasses; }
  int channels() const override { return 1; }
  // Returns a copy of image `index` (uint8 [1, 28, 28]) and its label; OutOfRange outside
  // [0, size()).
  absl::StatusOr<Example> Get(int64_t index) const override;
  // E.g. "fashion_mnist(train, n=60000, md5 verified)".
  std::string Describe() const override;

  const at::Tensor& images() const { return images_; }  // uint8 [N, 1, 28, 28]
  const at::Tensor& labels() const { return labels_; }  // int64 [N]
  // MD5 of the two decompressed files' MD5 hex digests concatenated (images then labels):
  // one digest naming the exact content read, for provenance logs.
  std::string content_md5() const { return content_md5_; }

 private:
  FashionMnist(FashionMnistOptions options, at::Tensor images, at::Tensor labels,
               std::string content_md5);

  FashionMnistOptions options_;
  at::Tensor images_;
  at::Tensor labels_;
  std::string content_md5_;
};

}  // namespace mochi::data

#endif  // MOCHI_DATA_FASHION_MNIST_H_
