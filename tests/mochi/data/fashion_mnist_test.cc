// Runs against the real Debian package (dataset-fashion-mnist) and corrupted copies of it.
#include "mochi/data/fashion_mnist.h"

#include <zlib.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/data/idx_reader.h"
#include "tests/testing/gzip_files.h"
#include "tests/testing/status_matchers.h"

namespace mochi::data {
namespace {

namespace fs = std::filesystem;
using ::mochi::testing::StatusIs;
using ::mochi::testing::WriteGzip;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Split = FashionMnistOptions::Split;

constexpr char kPackageRoot[] = "/usr/share/datasets/fashion-mnist";
constexpr char kTestImages[] = "t10k-images-idx3-ubyte.gz";
constexpr char kTestLabels[] = "t10k-labels-idx1-ubyte.gz";

std::string TempDir(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path = absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
  fs::create_directories(path);
  return path;
}

// A copy of the package in a fresh directory, for tests that damage one file.
std::string CopyOfPackage(const std::string& name) {
  const std::string root = TempDir(name);
  for (const char* file :
       {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", kTestImages, kTestLabels}) {
    fs::copy_file(absl::StrCat(kPackageRoot, "/", file), absl::StrCat(root, "/", file),
                  fs::copy_options::overwrite_existing);
  }
  return root;
}

std::string ReadGzip(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  EXPECT_NE(file, nullptr) << path;
  if (file == nullptr) return "";
  std::string contents;
  char buffer[1 << 16];
  int got;
  while ((got = gzread(file, buffer, sizeof(buffer))) > 0) contents.append(buffer, got);
  gzclose(file);
  return contents;
}

FashionMnistOptions OptionsFor(Split split, const std::string& root = kPackageRoot) {
  FashionMnistOptions options;
  options.root = root;
  options.split = split;
  return options;
}

std::array<int64_t, 10> ClassCounts(const at::Tensor& labels) {
  std::array<int64_t, 10> counts{};
  const int64_t* data = labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < labels.numel(); ++i) {
    EXPECT_GE(data[i], 0);
    EXPECT_LT(data[i], 10);
    if (data[i] >= 0 && data[i] < 10) ++counts[data[i]];
  }
  return counts;
}

std::vector<int64_t> FirstLabels(const at::Tensor& labels, int64_t n) {
  const int64_t* data = labels.data_ptr<int64_t>();
  return std::vector<int64_t>(data, data + n);
}

class FashionMnistPackageTest : public ::testing::Test {
 protected:
  // The train split is loaded once for the whole suite (47 MB to inflate and hash).
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<FashionMnist>> train =
        FashionMnist::Load(OptionsFor(Split::kTrain));
    ASSERT_TRUE(train.ok()) << train.status();
    train_ = std::move(train).value().release();
  }
  static void TearDownTestSuite() {
    delete train_;
    train_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(train_, nullptr) << "train split failed to load"; }

  static FashionMnist* train_;
};

FashionMnist* FashionMnistPackageTest::train_ = nullptr;

TEST_F(FashionMnistPackageTest, TrainSplitMatchesTheRelease) {
  EXPECT_EQ(train_->size(), 60000);
  EXPECT_EQ(train_->num_classes(), 10);
  EXPECT_EQ(train_->channels(), 1);
  EXPECT_THAT(train_->images().sizes(), ElementsAre(60000, 1, 28, 28));
  EXPECT_EQ(train_->images().scalar_type(), at::kByte);
  EXPECT_TRUE(train_->images().is_contiguous());
  EXPECT_THAT(train_->labels().sizes(), ElementsAre(60000));
  EXPECT_EQ(train_->labels().scalar_type(), at::kLong);

  std::array<int64_t, 10> counts = ClassCounts(train_->labels());
  for (int c = 0; c < 10; ++c) EXPECT_EQ(counts[c], 6000) << "class " << c;
  EXPECT_THAT(FirstLabels(train_->labels(), 10), ElementsAre(9, 0, 0, 3, 0, 2, 7, 2, 5, 5));

  // The usual normalisation constant: mean 0.2860 of pixel/255.
  const uint8_t* pixels = train_->images().data_ptr<uint8_t>();
  uint64_t sum = 0;
  for (int64_t i = 0; i < train_->images().numel(); ++i) sum += pixels[i];
  const double mean = static_cast<double>(sum) / train_->images().numel() / 255.0;
  EXPECT_NEAR(mean, 0.2860, 0.0005);

  EXPECT_EQ(train_->Describe(), "fashion_mnist(train, n=60000, md5 verified)");
  EXPECT_EQ(train_->content_md5(),
            Md5Hex("f4a8712d7a061bf5bd6d2ca38dc4d50a9018921c3c673c538a1fc5bad174d6f9"));
}

TEST_F(FashionMnistPackageTest, GetReturnsACopyOfOneImage) {
  absl::StatusOr<Example> example = train_->Get(1234);
  MOCHI_ASSERT_OK(example);
  EXPECT_THAT(example->image.sizes(), ElementsAre(1, 28, 28));
  EXPECT_EQ(example->image.scalar_type(), at::kByte);
  EXPECT_TRUE(example->image.is_contiguous());
  EXPECT_EQ(example->label, train_->labels().data_ptr<int64_t>()[1234]);
  const uint8_t* expected = train_->images().data_ptr<uint8_t>() + 1234 * 28 * 28;
  uint8_t* got = example->image.data_ptr<uint8_t>();
  EXPECT_EQ(std::vector<uint8_t>(got, got + 784), std::vector<uint8_t>(expected, expected + 784));
  // Writing into the example must not change the dataset.
  const uint8_t before = expected[400];
  got[400] = static_cast<uint8_t>(before + 1);
  EXPECT_EQ(expected[400], before);

  // Image 0 is an ankle boot (label 9).
  absl::StatusOr<Example> first = train_->Get(0);
  MOCHI_ASSERT_OK(first);
  EXPECT_EQ(first->label, 9);
  EXPECT_EQ(FashionMnist::ClassNames()[first->label], "Ankle boot");
}

TEST_F(FashionMnistPackageTest, GetOutsideTheSplitIsOutOfRange) {
  EXPECT_THAT(train_->Get(60000), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(train_->Get(-1), StatusIs(absl::StatusCode::kOutOfRange));
  MOCHI_EXPECT_OK(train_->Get(59999));
}

TEST(FashionMnistTest, TestSplitMatchesTheRelease) {
  absl::StatusOr<std::unique_ptr<FashionMnist>> test = FashionMnist::Load(OptionsFor(Split::kTest));
  MOCHI_ASSERT_OK(test);
  const FashionMnist& dataset = **test;
  EXPECT_EQ(dataset.size(), 10000);
  EXPECT_THAT(dataset.images().sizes(), ElementsAre(10000, 1, 28, 28));
  std::array<int64_t, 10> counts = ClassCounts(dataset.labels());
  for (int c = 0; c < 10; ++c) EXPECT_EQ(counts[c], 1000) << "class " << c;
  EXPECT_THAT(FirstLabels(dataset.labels(), 10), ElementsAre(9, 2, 1, 1, 6, 1, 4, 6, 5, 7));
  EXPECT_EQ(dataset.Describe(), "fashion_mnist(test, n=10000, md5 verified)");
  EXPECT_THAT(dataset.Get(10000), StatusIs(absl::StatusCode::kOutOfRange));
}

TEST(FashionMnistTest, ClassNames) {
  EXPECT_THAT(FashionMnist::ClassNames(),
              ElementsAre("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                          "Sneaker", "Bag", "Ankle boot"));
}

TEST(FashionMnistTest, LimitKeepsTheFirstExamples) {
  FashionMnistOptions options = OptionsFor(Split::kTest);
  options.limit = 100;
  absl::StatusOr<std::unique_ptr<FashionMnist>> test = FashionMnist::Load(options);
  MOCHI_ASSERT_OK(test);
  EXPECT_EQ((*test)->size(), 100);
  EXPECT_THAT((*test)->images().sizes(), ElementsAre(100, 1, 28, 28));
  EXPECT_THAT(FirstLabels((*test)->labels(), 10), ElementsAre(9, 2, 1, 1, 6, 1, 4, 6, 5, 7));
  EXPECT_EQ((*test)->Describe(), "fashion_mnist(test, n=100 of 10000, md5 verified)");
  EXPECT_THAT((*test)->Get(100), StatusIs(absl::StatusCode::kOutOfRange));

  options.limit = -1;
  EXPECT_THAT(FashionMnist::Load(options), StatusIs(absl::StatusCode::kInvalidArgument));
  options.limit = 10001;
  EXPECT_THAT(FashionMnist::Load(options), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(FashionMnistTest, FlippedPixelFailsTheChecksum) {
  const std::string root = CopyOfPackage("flipped_pixel");
  const std::string images_path = absl::StrCat(root, "/", kTestImages);
  std::string raw = ReadGzip(images_path);
  ASSERT_EQ(raw.size(), 7840016u);
  const size_t offset = 16 + 5 * 784 + 400;  // a pixel of test image 5
  const uint8_t original = static_cast<uint8_t>(raw[offset]);
  raw[offset] = static_cast<char>(original ^ 0xFF);
  WriteGzip(images_path, raw);

  FashionMnistOptions options = OptionsFor(Split::kTest, root);
  EXPECT_THAT(
      FashionMnist::Load(options),
      StatusIs(absl::StatusCode::kDataLoss, AllOf(HasSubstr(images_path), HasSubstr("md5"),
                                                  HasSubstr("8181f5470baa50b63fa0f6fddb340f0a"))));

  // Without verification the (structurally valid) copy loads, flipped pixel and all.
  options.verify_checksums = false;
  absl::StatusOr<std::unique_ptr<FashionMnist>> test = FashionMnist::Load(options);
  MOCHI_ASSERT_OK(test);
  EXPECT_EQ((*test)->images().data_ptr<uint8_t>()[5 * 784 + 400], original ^ 0xFF);
  EXPECT_EQ((*test)->Describe(), "fashion_mnist(test, n=10000, md5 not verified)");
}

TEST(FashionMnistTest, TruncatedLabelsAreDataLoss) {
  const std::string root = CopyOfPackage("truncated_labels");
  const std::string labels_path = absl::StrCat(root, "/", kTestLabels);
  // A valid gzip stream whose IDX payload stops half way.
  const std::string raw = ReadGzip(labels_path);
  ASSERT_EQ(raw.size(), 10008u);
  WriteGzip(labels_path, raw.substr(0, 8 + 5000));
  for (bool verify : {true, false}) {
    FashionMnistOptions options = OptionsFor(Split::kTest, root);
    options.verify_checksums = verify;
    EXPECT_THAT(FashionMnist::Load(options),
                StatusIs(absl::StatusCode::kDataLoss, HasSubstr(labels_path)))
        << "verify_checksums=" << verify;
  }

  // The .gz file itself cut short.
  std::ifstream in(absl::StrCat(kPackageRoot, "/", kTestLabels), std::ios::binary);
  const std::string compressed((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
  ASSERT_GT(compressed.size(), 1000u);
  std::ofstream(labels_path, std::ios::binary | std::ios::trunc)
      << compressed.substr(0, compressed.size() / 2);
  EXPECT_THAT(FashionMnist::Load(OptionsFor(Split::kTest, root)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(labels_path)));
}

TEST(FashionMnistTest, WrongSizedButValidFileIsDataLoss) {
  // Train labels in place of test labels: valid IDX, md5 of the wrong split, count 60000.
  const std::string root = CopyOfPackage("swapped_labels");
  fs::copy_file(absl::StrCat(kPackageRoot, "/train-labels-idx1-ubyte.gz"),
                absl::StrCat(root, "/", kTestLabels), fs::copy_options::overwrite_existing);
  FashionMnistOptions options = OptionsFor(Split::kTest, root);
  EXPECT_THAT(FashionMnist::Load(options), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("md5")));
  options.verify_checksums = false;
  EXPECT_THAT(FashionMnist::Load(options),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("expected 10000")));
}

TEST(FashionMnistTest, LabelOutOfRangeIsDataLoss) {
  const std::string root = CopyOfPackage("bad_label");
  const std::string labels_path = absl::StrCat(root, "/", kTestLabels);
  std::string raw = ReadGzip(labels_path);
  ASSERT_EQ(raw.size(), 10008u);
  raw[8 + 17] = 10;
  WriteGzip(labels_path, raw);
  FashionMnistOptions options = OptionsFor(Split::kTest, root);
  options.verify_checksums = false;
  EXPECT_THAT(FashionMnist::Load(options),
              StatusIs(absl::StatusCode::kDataLoss, AllOf(HasSubstr("label 10"), HasSubstr("17"))));
}

TEST(FashionMnistTest, MissingRootIsNotFoundWithSetupHint) {
  const std::string root = absl::StrCat(TempDir("empty"), "/no_such_dir");
  EXPECT_THAT(
      FashionMnist::Load(OptionsFor(Split::kTrain, root)),
      StatusIs(absl::StatusCode::kNotFound, AllOf(HasSubstr(root), HasSubstr("tools/setup.sh"))));
}

TEST(FashionMnistTest, MissingFileIsNotFoundWithSetupHint) {
  const std::string root = CopyOfPackage("missing_file");
  const std::string images_path = absl::StrCat(root, "/", kTestImages);
  fs::remove(images_path);
  EXPECT_THAT(FashionMnist::Load(OptionsFor(Split::kTest, root)),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr(images_path), HasSubstr("tools/setup.sh"))));
}

}  // namespace
}  // namespace mochi::data
