// End to end on the real Fashion-MNIST package (/usr/share/datasets/fashion-mnist).
#include "eval/scenes/make_scenes.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mochi::eval::scenes {
namespace {

namespace fs = std::filesystem;
using ::mochi::testing::IsOk;
using ::mochi::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::SizeIs;

std::string TempDir(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path = absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
  fs::remove_all(path);
  return path;
}

// Every regular file under `root`, by relative path, with its bytes.
std::map<std::string, std::string> Tree(const std::string& root) {
  std::map<std::string, std::string> files;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream file(entry.path(), std::ios::binary);
    std::stringstream contents;
    contents << file.rdbuf();
    files[fs::relative(entry.path(), root).string()] = contents.str();
  }
  return files;
}

MakeScenesOptions SmallOptions(const std::string& name) {
  MakeScenesOptions options;
  options.output_dir = TempDir(name);
  options.num_train = 12;
  options.num_val = 6;
  options.num_test = 5;
  options.canvas = 96;
  options.item_limit = 2000;
  return options;
}

TEST(MakeScenesTest, SameSeedSameBytesDifferentSeedDifferentBytes) {
  const MakeScenesOptions a = SmallOptions("same_a");
  MakeScenesOptions b = SmallOptions("same_b");
  b.num_threads = 1;  // the thread count must not matter
  MakeScenesOptions c = SmallOptions("other_seed");
  c.seed = 1;
  ASSERT_THAT(MakeScenes(a), IsOk());
  ASSERT_THAT(MakeScenes(b), IsOk());
  ASSERT_THAT(MakeScenes(c), IsOk());
  const std::map<std::string, std::string> tree_a = Tree(a.output_dir);
  const std::map<std::string, std::string> tree_b = Tree(b.output_dir);
  const std::map<std::string, std::string> tree_c = Tree(c.output_dir);
  // 12 + 6 + 5 VOC images and XMLs, 4 + 40 lists; 12 + 6 COCO images, 2 JSONs.
  EXPECT_THAT(tree_a, SizeIs(23 * 2 + 44 + 18 + 2));
  EXPECT_EQ(tree_a, tree_b);
  ASSERT_EQ(tree_a.size(), tree_c.size());
  for (const char* path :
       {"coco/annotations/instances_train.json", "coco/annotations/instances_val.json",
        "VOCdevkit/FMS2007/JPEGImages/000001.jpg", "VOCdevkit/FMS2007/Annotations/000001.xml"}) {
    ASSERT_EQ(tree_a.count(path), 1u) << path;
    EXPECT_NE(tree_a.at(path), tree_c.at(path)) << path;
  }
}

TEST(MakeScenesTest, AreaBucketsOnTheDefaultCanvas) {
  MakeScenesOptions options = SmallOptions("buckets");
  options.canvas = 192;
  options.num_train = 60;
  options.num_val = 0;
  options.num_test = 0;
  absl::StatusOr<std::vector<TaskSummary>> summaries = MakeScenes(options);
  ASSERT_THAT(summaries, IsOk());
  ASSERT_THAT(*summaries, SizeIs(2));
  for (const TaskSummary& summary : *summaries) {
    const SplitSummary& train = summary.splits[0];
    EXPECT_EQ(train.images, 60);
    EXPECT_EQ(train.small + train.medium + train.large, train.instances);
    EXPECT_GT(train.small, 0) << summary.task;
    EXPECT_GT(train.medium, 0) << summary.task;
    EXPECT_GT(train.large, 0) << summary.task;
    EXPECT_THAT(FormatTaskSummary(summary),
                AllOf(HasSubstr("train 60 images"), HasSubstr("small/medium/large")));
  }
  EXPECT_EQ((*summaries)[0].task, "voc");
  EXPECT_EQ((*summaries)[0].splits[0].crowd_regions, 0);
  EXPECT_EQ((*summaries)[1].task, "coco");
  EXPECT_GT((*summaries)[1].splits[0].crowd_regions, 0);
  EXPECT_GT((*summaries)[1].splits[0].instances, 2 * (*summaries)[0].splits[0].instances);
}

TEST(MakeScenesTest, SmallCanvasHasSmallAndMediumObjects) {
  MakeScenesOptions options = SmallOptions("small_canvas");
  options.canvas = 128;
  options.voc = false;
  options.num_train = 40;
  options.num_val = 0;
  absl::StatusOr<std::vector<TaskSummary>> summaries = MakeScenes(options);
  ASSERT_THAT(summaries, IsOk());
  EXPECT_GT((*summaries)[0].splits[0].small, 0);
  EXPECT_GT((*summaries)[0].splits[0].medium, 0);
  EXPECT_FALSE(fs::exists(options.output_dir + "/VOCdevkit"));
}

TEST(MakeScenesTest, BadOptions) {
  MakeScenesOptions options = SmallOptions("bad");
  options.num_train = -1;
  EXPECT_THAT(MakeScenes(options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--num_train=-1")));
  options = SmallOptions("bad");
  options.num_val = -5;
  EXPECT_THAT(ValidateMakeScenesOptions(options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--num_val=-5")));
  options = SmallOptions("bad");
  options.canvas = 48;
  EXPECT_THAT(ValidateMakeScenesOptions(options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--canvas=48 is too small"), HasSubstr("64"))));
  options = SmallOptions("bad");
  options.output_dir = "";
  EXPECT_THAT(ValidateMakeScenesOptions(options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--output_dir")));
  options = SmallOptions("bad");
  options.voc = options.coco = false;
  EXPECT_THAT(ValidateMakeScenesOptions(options), StatusIs(absl::StatusCode::kInvalidArgument));
  options = SmallOptions("bad");
  options.jpeg_quality = 0;
  EXPECT_THAT(ValidateMakeScenesOptions(options), StatusIs(absl::StatusCode::kInvalidArgument));
  options = SmallOptions("bad");
  options.num_threads = 0;
  EXPECT_THAT(ValidateMakeScenesOptions(options), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(MakeScenesTest, MissingFashionMnist) {
  MakeScenesOptions options = SmallOptions("missing");
  options.fashion_mnist_root = TempDir("no_such_fashion_mnist");
  EXPECT_THAT(MakeScenes(options),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("dataset-fashion-mnist")));
}

}  // namespace
}  // namespace mochi::eval::scenes
