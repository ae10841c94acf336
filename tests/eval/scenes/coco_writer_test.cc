#include "eval/scenes/coco_writer.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "eval/coco/mask.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/eval/scenes/reference_raster.h"
#include "tests/eval/scenes/synthetic_items.h"
#include "tests/testing/status_matchers.h"

namespace mochi::eval::scenes {
namespace {

namespace fs = std::filesystem;
using ::mochi::eval::scenes::testing::RasterisePolygons;
using ::mochi::eval::scenes::testing::SyntheticPool;
using ::mochi::testing::IsOk;
using ::mochi::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Json = nlohmann::json;

std::string TempDir(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path = absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
  fs::remove_all(path);
  return path;
}

Json ReadJson(const std::string& path) {
  std::ifstream file(path);
  EXPECT_TRUE(file.good()) << path;
  std::stringstream contents;
  contents << file.rdbuf();
  return Json::parse(contents.str());
}

// Writes `count` COCO-task scenes (synthetic items) and returns them with the parsed JSON.
struct Written {
  std::vector<Scene> scenes;
  std::vector<int64_t> ids;
  Json json;
  std::string root;
};

Written WriteScenes(const std::string& name, CocoMaskFormat format, int count) {
  Written written;
  written.root = TempDir(name);
  SceneGeneratorOptions generator_options;
  generator_options.seed = 3;
  const SceneGenerator generator = *SceneGenerator::Create(generator_options);
  const ItemPool pool = SyntheticPool(10);
  CocoWriterOptions options;
  options.root = written.root;
  options.split = "val";
  options.mask_format = format;
  absl::StatusOr<std::unique_ptr<CocoWriter>> writer = CocoWriter::Create(options);
  EXPECT_THAT(writer, IsOk());
  for (int64_t index = 0; index < count; ++index) {
    written.scenes.push_back(*generator.Generate(pool, SceneSplit::kVal, index));
    written.ids.push_back(CocoImageId(SceneSplit::kVal, index));
    EXPECT_THAT((*writer)->Add(written.scenes.back(), written.ids.back()), IsOk());
  }
  EXPECT_THAT((*writer)->Finish(), IsOk());
  EXPECT_EQ((*writer)->annotation_path(),
            absl::StrCat(written.root, "/annotations/instances_val.json"));
  written.json = ReadJson((*writer)->annotation_path());
  return written;
}

Mask MaskOf(const Json& annotation, int height, int width) {
  const Json& segmentation = annotation.at("segmentation");
  if (segmentation.is_array()) {
    return RasterisePolygons(segmentation.get<std::vector<std::vector<int>>>(), height, width);
  }
  EXPECT_THAT(segmentation.at("size").get<std::vector<int>>(), ElementsAre(height, width));
  const Json& counts = segmentation.at("counts");
  eval::coco::Rle rle{static_cast<uint32_t>(height), static_cast<uint32_t>(width), {}};
  if (counts.is_string()) {
    absl::StatusOr<eval::coco::Rle> decoded =
        eval::coco::DecodeRleCounts(counts.get<std::string>(), rle.height, rle.width);
    EXPECT_THAT(decoded, IsOk());
    if (decoded.ok()) rle = *decoded;
  } else {
    rle.counts = counts.get<std::vector<uint32_t>>();
  }
  const absl::Status valid = eval::coco::ValidateRle(rle);
  EXPECT_THAT(valid, IsOk());
  if (!valid.ok()) return Mask(height, width);
  Mask mask(height, width);
  mask.bits = eval::coco::DecodeRle(rle).pixels;
  return mask;
}

TEST(CocoImageIdTest, NonSequentialAndUnique) {
  EXPECT_EQ(CocoImageId(SceneSplit::kTrain, 0), 100000);
  EXPECT_EQ(CocoImageId(SceneSplit::kTrain, 1), 610511);
  std::set<int64_t> ids;
  for (int64_t i = 0; i < 20000; ++i) {
    ids.insert(CocoImageId(SceneSplit::kTrain, i));
    ids.insert(CocoImageId(SceneSplit::kVal, i));
  }
  EXPECT_EQ(ids.size(), 40000u);
}

TEST(CocoWriterTest, RequiredFieldsAndNonContiguousCategories) {
  const Written written = WriteScenes("coco_fields", CocoMaskFormat::kPolygon, 40);
  const Json& json = written.json;
  for (const char* key : {"info", "licenses", "images", "annotations", "categories"}) {
    EXPECT_TRUE(json.contains(key)) << key;
  }
  std::vector<int> category_ids;
  for (const Json& category : json.at("categories")) {
    category_ids.push_back(category.at("id").get<int>());
    EXPECT_TRUE(category.at("name").is_string());
    EXPECT_TRUE(category.at("supercategory").is_string());
  }
  EXPECT_THAT(category_ids, ElementsAre(1, 2, 3, 5, 7, 8, 11, 13, 14, 17));
  EXPECT_EQ(json.at("categories")[8].at("name"), "bag");

  ASSERT_EQ(json.at("images").size(), 40u);
  bool sorted = true;
  for (size_t i = 0; i < json.at("images").size(); ++i) {
    const Json& image = json.at("images")[i];
    EXPECT_EQ(image.at("id").get<int64_t>(), written.ids[i]);
    EXPECT_EQ(image.at("width"), 192);
    EXPECT_EQ(image.at("height"), 192);
    const std::string file_name = image.at("file_name").get<std::string>();
    EXPECT_EQ(file_name.size(), 16u);  // %012d.jpg
    EXPECT_TRUE(fs::exists(absl::StrCat(written.root, "/val/", file_name))) << file_name;
    if (i > 0 && written.ids[i] < written.ids[i - 1]) sorted = false;
  }
  EXPECT_FALSE(sorted);  // ids are not in file order

  std::set<int64_t> annotation_ids;
  int crowd = 0;
  for (const Json& annotation : json.at("annotations")) {
    for (const char* key :
         {"id", "image_id", "category_id", "segmentation", "area", "bbox", "iscrowd"}) {
      EXPECT_TRUE(annotation.contains(key)) << key;
    }
    annotation_ids.insert(annotation.at("id").get<int64_t>());
    EXPECT_THAT(category_ids, ::testing::Contains(annotation.at("category_id").get<int>()));
    crowd += annotation.at("iscrowd").get<int>();
  }
  EXPECT_EQ(annotation_ids.size(), json.at("annotations").size());
  EXPECT_GT(crowd, 0);
}

// bbox is the tight box of the mask each segmentation decodes to, and area its pixel count;
// both agree with the in-memory scene.
void CheckAnnotationsMatchScenes(const Written& written) {
  size_t next = 0;
  const Json& annotations = written.json.at("annotations");
  for (size_t i = 0; i < written.scenes.size(); ++i) {
    const Scene& scene = written.scenes[i];
    for (const SceneInstance& instance : scene.instances) {
      ASSERT_LT(next, annotations.size());
      const Json& annotation = annotations[next++];
      EXPECT_EQ(annotation.at("image_id").get<int64_t>(), written.ids[i]);
      EXPECT_EQ(annotation.at("iscrowd").get<int>(), instance.is_crowd ? 1 : 0);
      const Mask mask = MaskOf(annotation, scene.height, scene.width);
      EXPECT_EQ(mask, instance.visible) << "annotation " << annotation.at("id");
      const Box box = TightBox(mask);
      EXPECT_THAT(annotation.at("bbox").get<std::vector<int>>(),
                  ElementsAre(box.x, box.y, box.width, box.height));
      EXPECT_EQ(annotation.at("area").get<int64_t>(), Area(mask));
      if (instance.is_crowd) {  // crowd regions: uncompressed RLE, as COCO
        EXPECT_TRUE(annotation.at("segmentation").at("counts").is_array());
      }
    }
  }
  EXPECT_EQ(next, annotations.size());
}

TEST(CocoWriterTest, PolygonsRasteriseToTheVisibleMasks) {
  const Written written = WriteScenes("coco_polygons", CocoMaskFormat::kPolygon, 40);
  CheckAnnotationsMatchScenes(written);
}

TEST(CocoWriterTest, CompressedRleDecodesToTheVisibleMasks) {
  const Written written = WriteScenes("coco_rle", CocoMaskFormat::kCompressedRle, 40);
  CheckAnnotationsMatchScenes(written);
  int strings = 0;
  for (const Json& annotation : written.json.at("annotations")) {
    strings += annotation.at("segmentation").is_object() &&
               annotation.at("segmentation").at("counts").is_string();
  }
  EXPECT_GT(strings, 0);
}

TEST(CocoWriterTest, RejectsRepeatedImageIds) {
  CocoWriterOptions options;
  options.root = TempDir("coco_repeat");
  absl::StatusOr<std::unique_ptr<CocoWriter>> writer = CocoWriter::Create(options);
  ASSERT_THAT(writer, IsOk());
  Scene scene;
  scene.width = scene.height = 8;
  scene.rgb.assign(8 * 8 * 3, 0);
  EXPECT_THAT((*writer)->Add(scene, 7), IsOk());
  EXPECT_THAT((*writer)->Add(scene, 7),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("already used")));
  EXPECT_THAT((*writer)->Add(scene, 0), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CocoWriter::Create(CocoWriterOptions{}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace mochi::eval::scenes
