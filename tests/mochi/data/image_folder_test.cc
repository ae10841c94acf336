#include "mochi/data/image_folder.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ATen/ATen.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "stb/stb_image_write.h"
#include "tests/testing/status_matchers.h"

namespace mochi::data {
namespace {

namespace fs = std::filesystem;
using ::mochi::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;

// An interleaved image as stb_image_write takes it.
struct TestImage {
  int width;
  int height;
  int channels;
  std::vector<uint8_t> pixels;  // [height][width][channels]
};

// Deterministic content; `smooth` keeps neighbours close so JPEG error stays small.
TestImage MakeImage(int width, int height, int channels, int seed, bool smooth = false) {
  TestImage image{width, height, channels, {}};
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < channels; ++c) {
        // Smooth ramps stay below 256 for images up to 16x8 (no wrap-around edge).
        const int value = smooth ? 30 + 6 * x + 5 * y + 40 * c + seed
                                 : (x * 53 + y * 97 + c * 31 + seed * 11) % 256;
        image.pixels.push_back(static_cast<uint8_t>(value));
      }
    }
  }
  return image;
}

// The RGB value stb_image produces for pixel (x, y), channel c of `image` (req_comp = 3).
uint8_t ExpectedRgb(const TestImage& image, int x, int y, int c) {
  const uint8_t* pixel = &image.pixels[(y * image.width + x) * image.channels];
  if (image.channels < 3) return pixel[0];  // gray (+alpha) is replicated
  return pixel[c];
}

void WritePng(const std::string& path, const TestImage& image) {
  ASSERT_NE(stbi_write_png(path.c_str(), image.width, image.height, image.channels,
                           image.pixels.data(), image.width * image.channels),
            0)
      << path;
}

void WriteJpeg(const std::string& path, const TestImage& image) {
  ASSERT_NE(stbi_write_jpg(path.c_str(), image.width, image.height, image.channels,
                           image.pixels.data(), /*quality=*/95),
            0)
      << path;
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

std::string FreshDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Checks `tensor` (uint8 [3, H, W]) against `image`, within `tolerance` per value.
void ExpectPixels(const at::Tensor& tensor, const TestImage& image, int tolerance) {
  ASSERT_THAT(tensor.sizes(), ElementsAre(3, image.height, image.width));
  ASSERT_EQ(tensor.scalar_type(), at::kByte);
  ASSERT_TRUE(tensor.is_contiguous());
  const uint8_t* data = tensor.data_ptr<uint8_t>();
  int mismatches = 0;
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < image.height; ++y) {
      for (int x = 0; x < image.width; ++x) {
        const int got = data[(c * image.height + y) * image.width + x];
        const int want = ExpectedRgb(image, x, y, c);
        if (std::abs(got - want) > tolerance && ++mismatches <= 5) {
          ADD_FAILURE() << "pixel (c=" << c << ", y=" << y << ", x=" << x << "): got " << got
                        << ", want " << want << " +- " << tolerance;
        }
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
}

// root/
//   n03_zebra/z.png          RGBA 2x3
//   n01_cat/b.png            RGB 5x4
//   n01_cat/a.PNG            gray 3x2
//   n01_cat/notes.txt        not an image: ignored
//   n01_cat/nested/c.png     not directly in the class dir: ignored
//   n02_dog/x.jpg            RGB 16x8, JPEG
//   n02_dog/y.JPEG           RGB 8x8, JPEG
//   README.md                not a directory: not a class
class ImageFolderTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = FreshDir("tree");
    for (const char* name : {"n03_zebra", "n01_cat", "n02_dog", "n01_cat/nested"}) {
      fs::create_directories(absl::StrCat(root_, "/", name));
    }
    ASSERT_NO_FATAL_FAILURE(WritePng(absl::StrCat(root_, "/n03_zebra/z.png"), zebra_rgba_));
    ASSERT_NO_FATAL_FAILURE(WritePng(absl::StrCat(root_, "/n01_cat/b.png"), cat_rgb_));
    ASSERT_NO_FATAL_FAILURE(WritePng(absl::StrCat(root_, "/n01_cat/a.PNG"), cat_gray_));
    ASSERT_NO_FATAL_FAILURE(WriteText(absl::StrCat(root_, "/n01_cat/notes.txt"), "not an image"));
    ASSERT_NO_FATAL_FAILURE(
        WritePng(absl::StrCat(root_, "/n01_cat/nested/c.png"), MakeImage(2, 2, 3, 9)));
    ASSERT_NO_FATAL_FAILURE(WriteJpeg(absl::StrCat(root_, "/n02_dog/x.jpg"), dog_wide_));
    ASSERT_NO_FATAL_FAILURE(WriteJpeg(absl::StrCat(root_, "/n02_dog/y.JPEG"), dog_square_));
    ASSERT_NO_FATAL_FAILURE(WriteText(absl::StrCat(root_, "/README.md"), "# tree"));
  }

  std::string root_;
  const TestImage zebra_rgba_ = MakeImage(2, 3, 4, 1);
  const TestImage cat_rgb_ = MakeImage(5, 4, 3, 2);
  const TestImage cat_gray_ = MakeImage(3, 2, 1, 3);
  const TestImage dog_wide_ = MakeImage(16, 8, 3, 4, /*smooth=*/true);
  const TestImage dog_square_ = MakeImage(8, 8, 3, 5, /*smooth=*/true);
};

TEST_F(ImageFolderTreeTest, SortedClassesAndImages) {
  absl::StatusOr<std::unique_ptr<ImageFolder>> folder = ImageFolder::Load({root_, ""});
  MOCHI_ASSERT_OK(folder);
  const ImageFolder& dataset = **folder;
  EXPECT_THAT(dataset.classes(), ElementsAre("n01_cat", "n02_dog", "n03_zebra"));
  EXPECT_EQ(dataset.num_classes(), 3);
  EXPECT_EQ(dataset.channels(), 3);
  ASSERT_EQ(dataset.size(), 5);
  EXPECT_THAT(dataset.image_path(0), EndsWith("/n01_cat/a.PNG"));
  EXPECT_THAT(dataset.image_path(1), EndsWith("/n01_cat/b.png"));
  EXPECT_THAT(dataset.image_path(2), EndsWith("/n02_dog/x.jpg"));
  EXPECT_THAT(dataset.image_path(3), EndsWith("/n02_dog/y.JPEG"));
  EXPECT_THAT(dataset.image_path(4), EndsWith("/n03_zebra/z.png"));
  EXPECT_EQ(dataset.Describe(), absl::StrCat("image_folder(", root_, ", classes=3, n=5)"));

  std::vector<int64_t> labels;
  for (int64_t i = 0; i < dataset.size(); ++i) {
    absl::StatusOr<Example> example = dataset.Get(i);
    MOCHI_ASSERT_OK(example);
    labels.push_back(example->label);
  }
  EXPECT_THAT(labels, ElementsAre(0, 0, 1, 1, 2));
}

TEST_F(ImageFolderTreeTest, DecodesToRgbChw) {
  absl::StatusOr<std::unique_ptr<ImageFolder>> folder = ImageFolder::Load({root_, ""});
  MOCHI_ASSERT_OK(folder);
  const ImageFolder& dataset = **folder;
  const std::vector<std::pair<int64_t, const TestImage*>> lossless = {
      {0, &cat_gray_}, {1, &cat_rgb_}, {4, &zebra_rgba_}};
  for (const auto& [index, image] : lossless) {
    SCOPED_TRACE(dataset.image_path(index));
    absl::StatusOr<Example> example = dataset.Get(index);
    MOCHI_ASSERT_OK(example);
    ExpectPixels(example->image, *image, /*tolerance=*/0);  // PNG: bit-exact
  }
  for (const auto& [index, image] :
       std::vector<std::pair<int64_t, const TestImage*>>{{2, &dog_wide_}, {3, &dog_square_}}) {
    SCOPED_TRACE(dataset.image_path(index));
    absl::StatusOr<Example> example = dataset.Get(index);
    MOCHI_ASSERT_OK(example);
    ExpectPixels(example->image, *image, /*tolerance=*/12);  // JPEG q95 with chroma subsampling
  }
}

// JPEG files decode with libjpeg-turbo by default; stb_image, the decoder before it, gives the
// same pixels up to rounding, and PNG files are untouched by the choice.
TEST_F(ImageFolderTreeTest, JpegDecodersAgree) {
  ImageFolderOptions turbo_options{root_, ""};
  ImageFolderOptions stb_options{root_, ""};
  stb_options.jpeg_decoder = JpegDecoder::kStbImage;
  absl::StatusOr<std::unique_ptr<ImageFolder>> turbo = ImageFolder::Load(turbo_options);
  absl::StatusOr<std::unique_ptr<ImageFolder>> stb = ImageFolder::Load(stb_options);
  MOCHI_ASSERT_OK(turbo);
  MOCHI_ASSERT_OK(stb);
  for (int64_t index = 0; index < (*turbo)->size(); ++index) {
    SCOPED_TRACE((*turbo)->image_path(index));
    absl::StatusOr<Example> a = (*turbo)->Get(index);
    absl::StatusOr<Example> b = (*stb)->Get(index);
    MOCHI_ASSERT_OK(a);
    MOCHI_ASSERT_OK(b);
    ASSERT_EQ(a->image.sizes(), b->image.sizes());
    EXPECT_LE((a->image.to(at::kInt) - b->image.to(at::kInt)).abs().max().item<int32_t>(), 4);
  }
}

TEST_F(ImageFolderTreeTest, GetOutsideTheDatasetIsOutOfRange) {
  absl::StatusOr<std::unique_ptr<ImageFolder>> folder = ImageFolder::Load({root_, ""});
  MOCHI_ASSERT_OK(folder);
  EXPECT_THAT((*folder)->Get(5), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT((*folder)->Get(-1), StatusIs(absl::StatusCode::kOutOfRange));
}

TEST_F(ImageFolderTreeTest, ConcurrentGetMatchesSequentialGet) {
  absl::StatusOr<std::unique_ptr<ImageFolder>> folder = ImageFolder::Load({root_, ""});
  MOCHI_ASSERT_OK(folder);
  const ImageFolder& dataset = **folder;
  std::vector<std::vector<uint8_t>> sequential;
  for (int64_t i = 0; i < dataset.size(); ++i) {
    absl::StatusOr<Example> example = dataset.Get(i);
    MOCHI_ASSERT_OK(example);
    const uint8_t* data = example->image.data_ptr<uint8_t>();
    sequential.emplace_back(data, data + example->image.numel());
  }
  constexpr int kThreads = 4;
  constexpr int kRounds = 50;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        const int64_t i = (t + round) % dataset.size();
        absl::StatusOr<Example> example = dataset.Get(i);
        if (!example.ok()) {
          ++mismatches[t];
          continue;
        }
        const uint8_t* data = example->image.data_ptr<uint8_t>();
        if (std::vector<uint8_t>(data, data + example->image.numel()) != sequential[i]) {
          ++mismatches[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(mismatches, ElementsAre(0, 0, 0, 0));
}

TEST_F(ImageFolderTreeTest, ClassListDefinesClassesAndOrder) {
  const std::string list = absl::StrCat(root_, "/../classes.txt");
  ASSERT_NO_FATAL_FAILURE(WriteText(list,
                                    "# two of the three classes, in label order\n"
                                    "n03_zebra\n"
                                    "\n"
                                    "   n01_cat   # the cat\n"));
  absl::StatusOr<std::unique_ptr<ImageFolder>> folder = ImageFolder::Load({root_, list});
  MOCHI_ASSERT_OK(folder);
  const ImageFolder& dataset = **folder;
  EXPECT_THAT(dataset.classes(), ElementsAre("n03_zebra", "n01_cat"));
  EXPECT_EQ(dataset.num_classes(), 2);
  ASSERT_EQ(dataset.size(), 3);
  EXPECT_THAT(dataset.image_path(0), EndsWith("/n03_zebra/z.png"));
  EXPECT_THAT(dataset.image_path(1), EndsWith("/n01_cat/a.PNG"));
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < dataset.size(); ++i) {
    absl::StatusOr<Example> example = dataset.Get(i);
    MOCHI_ASSERT_OK(example);
    labels.push_back(example->label);
  }
  EXPECT_THAT(labels, ElementsAre(0, 1, 1));
}

TEST_F(ImageFolderTreeTest, ListedClassWithoutDirectoryIsNotFound) {
  const std::string list = absl::StrCat(root_, "/../missing_class.txt");
  ASSERT_NO_FATAL_FAILURE(WriteText(list, "n01_cat\nn09_unicorn\n"));
  EXPECT_THAT(ImageFolder::Load({root_, list}),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("n09_unicorn"), HasSubstr(root_ + "/n09_unicorn"))));
}

TEST_F(ImageFolderTreeTest, DuplicateClassIsInvalidArgument) {
  const std::string list = absl::StrCat(root_, "/../duplicate.txt");
  ASSERT_NO_FATAL_FAILURE(WriteText(list, "n01_cat\nn02_dog\nn01_cat\n"));
  EXPECT_THAT(ImageFolder::Load({root_, list}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(list), HasSubstr("n01_cat"), HasSubstr(":3"))));
}

TEST_F(ImageFolderTreeTest, EmptyOrMissingClassListIsAnError) {
  const std::string list = absl::StrCat(root_, "/../only_comments.txt");
  ASSERT_NO_FATAL_FAILURE(WriteText(list, "# nothing here\n\n"));
  EXPECT_THAT(ImageFolder::Load({root_, list}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(list)));
  const std::string missing = absl::StrCat(root_, "/../no_such_list.txt");
  EXPECT_THAT(ImageFolder::Load({root_, missing}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(missing)));
}

TEST_F(ImageFolderTreeTest, ClassWithoutImagesIsFailedPrecondition) {
  const std::string empty_class = absl::StrCat(root_, "/n04_empty");
  fs::create_directories(empty_class);
  ASSERT_NO_FATAL_FAILURE(WriteText(absl::StrCat(empty_class, "/readme.txt"), "no images"));
  EXPECT_THAT(ImageFolder::Load({root_, ""}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("n04_empty"), HasSubstr(empty_class))));
}

TEST(ImageFolderTest, MissingRootIsNotFound) {
  const std::string root = absl::StrCat(FreshDir("missing_root"), "/nothing");
  EXPECT_THAT(ImageFolder::Load({root, ""}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(root)));
}

TEST(ImageFolderTest, RootWithoutClassDirectoriesIsFailedPrecondition) {
  const std::string root = FreshDir("no_classes");
  ASSERT_NO_FATAL_FAILURE(WriteText(absl::StrCat(root, "/image.png"), "x"));
  EXPECT_THAT(ImageFolder::Load({root, ""}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(root)));
}

TEST(ImageFolderTest, UndecodableImageIsDataLossFromGet) {
  const std::string root = FreshDir("undecodable");
  fs::create_directories(absl::StrCat(root, "/only"));
  const std::string garbage = absl::StrCat(root, "/only/garbage.jpg");
  ASSERT_NO_FATAL_FAILURE(WriteText(garbage, "this is not a JPEG"));
  // A real PNG cut to its first 40 bytes.
  const std::string full = absl::StrCat(root, "/full.png");
  ASSERT_NO_FATAL_FAILURE(WritePng(full, MakeImage(32, 32, 3, 7)));
  std::ifstream in(full, std::ios::binary);
  std::string png((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(png.size(), 40u);
  const std::string cut = absl::StrCat(root, "/only/truncated.png");
  ASSERT_NO_FATAL_FAILURE(WriteText(cut, png.substr(0, 40)));

  absl::StatusOr<std::unique_ptr<ImageFolder>> folder = ImageFolder::Load({root, ""});
  MOCHI_ASSERT_OK(folder);  // Decoding is lazy.
  ASSERT_EQ((*folder)->size(), 2);
  EXPECT_THAT((*folder)->Get(0), StatusIs(absl::StatusCode::kDataLoss, HasSubstr(garbage)));
  EXPECT_THAT((*folder)->Get(1), StatusIs(absl::StatusCode::kDataLoss, HasSubstr(cut)));
}

TEST(ImageNet100ClassListTest, HasTheHundredCmcWordNetIds) {
  // The test runs from the main repository's runfiles root.
  absl::StatusOr<std::vector<std::string>> classes =
      ReadClassList("configs/data/imagenet100_classes.txt");
  MOCHI_ASSERT_OK(classes);
  ASSERT_EQ(classes->size(), 100u);
  const std::regex wordnet_id("n[0-9]{8}");
  for (const std::string& id : *classes) EXPECT_TRUE(std::regex_match(id, wordnet_id)) << id;
  EXPECT_EQ(std::set<std::string>(classes->begin(), classes->end()).size(), 100u);
  EXPECT_EQ(classes->front(), "n02869837");
  EXPECT_EQ(classes->back(), "n02090622");
}

}  // namespace
}  // namespace mochi::data
