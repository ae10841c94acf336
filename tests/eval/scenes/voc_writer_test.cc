#include "eval/scenes/voc_writer.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "eval/scenes/categories.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "stb/stb_image.h"
#include "tests/eval/scenes/synthetic_items.h"
#include "tests/testing/status_matchers.h"

namespace mochi::eval::scenes {
namespace {

namespace fs = std::filesystem;
using ::mochi::eval::scenes::testing::SyntheticPool;
using ::mochi::testing::IsOk;
using ::mochi::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string TempDir(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path = absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
  fs::remove_all(path);
  return path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  EXPECT_TRUE(file.good()) << path;
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

// Texts of every <tag>...</tag> in `xml`, in order (enough for the flat VOC schema).
std::vector<std::string> Tags(const std::string& xml, const std::string& tag) {
  std::vector<std::string> values;
  const std::string open = absl::StrCat("<", tag, ">"), close = absl::StrCat("</", tag, ">");
  for (size_t pos = xml.find(open); pos != std::string::npos; pos = xml.find(open, pos + 1)) {
    const size_t begin = pos + open.size();
    values.push_back(xml.substr(begin, xml.find(close, begin) - begin));
  }
  return values;
}

SceneInstance Instance(int label, Box box, bool difficult, bool truncated) {
  SceneInstance instance;
  instance.label = label;
  instance.box = box;
  instance.difficult = difficult;
  instance.truncated = truncated;
  return instance;
}

TEST(VocAnnotationXmlTest, FieldsAndOneBasedInclusiveBoxes) {
  Scene scene;
  scene.width = 192;
  scene.height = 160;
  scene.instances = {Instance(8, Box{9, 19, 40, 30}, false, false),
                     Instance(9, Box{0, 0, 1, 1}, true, true)};
  const std::string xml = VocAnnotationXml(scene, "000042");
  EXPECT_THAT(Tags(xml, "filename"), ElementsAre("000042.jpg"));
  EXPECT_THAT(Tags(xml, "folder"), ElementsAre("FMS2007"));
  EXPECT_THAT(Tags(xml, "width"), ElementsAre("192"));
  EXPECT_THAT(Tags(xml, "height"), ElementsAre("160"));
  EXPECT_THAT(Tags(xml, "depth"), ElementsAre("3"));
  EXPECT_THAT(Tags(xml, "name"), ElementsAre("bag", "ankle_boot"));
  EXPECT_THAT(Tags(xml, "pose"), ElementsAre("Unspecified", "Unspecified"));
  EXPECT_THAT(Tags(xml, "difficult"), ElementsAre("0", "1"));
  EXPECT_THAT(Tags(xml, "truncated"), ElementsAre("0", "1"));
  // xmin = x + 1, ymin = y + 1, xmax = x + w, ymax = y + h.
  EXPECT_THAT(Tags(xml, "xmin"), ElementsAre("10", "1"));
  EXPECT_THAT(Tags(xml, "ymin"), ElementsAre("20", "1"));
  EXPECT_THAT(Tags(xml, "xmax"), ElementsAre("49", "1"));
  EXPECT_THAT(Tags(xml, "ymax"), ElementsAre("49", "1"));
}

TEST(VocWriterTest, DevkitLayoutParsesBack) {
  const std::string devkit = TempDir("voc_layout");
  VocWriterOptions options;
  options.devkit_root = devkit;
  absl::StatusOr<std::unique_ptr<VocWriter>> writer = VocWriter::Create(options);
  ASSERT_THAT(writer, IsOk());
  const std::string root = (*writer)->year_root();
  EXPECT_EQ(root, absl::StrCat(devkit, "/FMS2007"));

  SceneGeneratorOptions generator_options;
  generator_options.task = SceneTask::kVoc;
  generator_options.canvas = 128;
  const SceneGenerator generator = *SceneGenerator::Create(generator_options);
  const ItemPool pool = SyntheticPool(10);
  std::vector<Scene> scenes;
  std::vector<std::string> ids;
  const SceneSplit splits[] = {SceneSplit::kTrain, SceneSplit::kTrain, SceneSplit::kTrain,
                               SceneSplit::kVal,   SceneSplit::kVal,   SceneSplit::kTest};
  for (int i = 0; i < 6; ++i) {
    scenes.push_back(*generator.Generate(pool, splits[i], i));
    ids.push_back(absl::StrCat("00000", i + 1));
    ASSERT_THAT((*writer)->Add(scenes.back(), splits[i], ids.back()), IsOk());
  }
  ASSERT_THAT((*writer)->Finish(), IsOk());

  const std::string main_dir = absl::StrCat(root, "/ImageSets/Main/");
  EXPECT_EQ(ReadFile(main_dir + "train.txt"), "000001\n000002\n000003\n");
  EXPECT_EQ(ReadFile(main_dir + "val.txt"), "000004\n000005\n");
  EXPECT_EQ(ReadFile(main_dir + "trainval.txt"), "000001\n000002\n000003\n000004\n000005\n");
  EXPECT_EQ(ReadFile(main_dir + "test.txt"), "000006\n");

  for (int i = 0; i < 6; ++i) {
    const std::string xml = ReadFile(absl::StrCat(root, "/Annotations/", ids[i], ".xml"));
    const Scene& scene = scenes[i];
    ASSERT_EQ(Tags(xml, "object").size(), scene.instances.size());
    const std::vector<std::string> xmin = Tags(xml, "xmin"), ymin = Tags(xml, "ymin");
    const std::vector<std::string> xmax = Tags(xml, "xmax"), ymax = Tags(xml, "ymax");
    const std::vector<std::string> difficult = Tags(xml, "difficult");
    for (size_t k = 0; k < scene.instances.size(); ++k) {
      const SceneInstance& instance = scene.instances[k];
      // Parsed back the way detectron2 does (subtract 1 from xmin/ymin), the box is the tight
      // pixel box of the visible mask in continuous coordinates.
      const Box box = TightBox(instance.visible);
      EXPECT_EQ(std::stoi(xmin[k]) - 1, box.x);
      EXPECT_EQ(std::stoi(ymin[k]) - 1, box.y);
      EXPECT_EQ(std::stoi(xmax[k]), box.x + box.width);
      EXPECT_EQ(std::stoi(ymax[k]), box.y + box.height);
      EXPECT_GE(std::stoi(xmin[k]), 1);
      EXPECT_LE(std::stoi(xmax[k]), scene.width);
      EXPECT_EQ(difficult[k], instance.difficult ? "1" : "0");
    }
    // Per-class lists: 1 present, 0 only difficult, -1 absent.
    for (int c = 0; c < kNumSceneCategories; ++c) {
      int expected = -1;
      for (const SceneInstance& instance : scene.instances) {
        if (instance.label != c) continue;
        expected = instance.difficult ? std::max(expected, 0) : 1;
      }
      const std::string list = ReadFile(absl::StrCat(main_dir, SceneCategories()[c].name, "_",
                                                     i < 3   ? "train"
                                                     : i < 5 ? "val"
                                                             : "test",
                                                     ".txt"));
      EXPECT_THAT(list, HasSubstr(absl::StrCat(ids[i], expected < 0 ? " " : "  ", expected)));
    }
    int width = 0, height = 0, channels = 0;
    stbi_uc* pixels = stbi_load(absl::StrCat(root, "/JPEGImages/", ids[i], ".jpg").c_str(), &width,
                                &height, &channels, 3);
    ASSERT_NE(pixels, nullptr);
    EXPECT_EQ(width, 128);
    EXPECT_EQ(height, 128);
    stbi_image_free(pixels);
  }
  EXPECT_THAT((*writer)->Add(scenes[0], SceneSplit::kTrain, "000001"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("repeated")));
  EXPECT_THAT((*writer)->Add(scenes[0], SceneSplit::kTrain, "../x"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace mochi::eval::scenes
