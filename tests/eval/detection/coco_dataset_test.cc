// The COCO reader of //eval:detect and //eval:segment: detectron2's ordering (images and
// categories by id), boxes as XYXY, crowd and empty boxes dropped, masks exactly as the COCO
// evaluator rasterises them, and errors that name the file.
#include "eval/detection/coco_dataset.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "eval/coco/mask.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mochi::eval::detection {
namespace {

using ::mochi::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string WriteJson(const std::string& name, const std::string& text) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  std::ofstream(path) << text;
  return path;
}

// Image 9 is listed before image 3, category 7 before category 2.
constexpr char kDataset[] = R"json({
  "images": [{"id": 9, "file_name": "b.jpg", "height": 20, "width": 30},
             {"id": 3, "file_name": "a.jpg", "height": 10, "width": 12}],
  "categories": [{"id": 7, "name": "sneaker"}, {"id": 2, "name": "bag"}],
  "annotations": [
    {"id": 1, "image_id": 9, "category_id": 7, "bbox": [2, 3, 10, 5], "area": 50, "iscrowd": 0,
     "segmentation": [[2, 3, 12, 3, 12, 8, 2, 8]]},
    {"id": 2, "image_id": 9, "category_id": 2, "bbox": [0, 0, 30, 20], "area": 600, "iscrowd": 1,
     "segmentation": {"size": [20, 30], "counts": [0, 600]}},
    {"id": 3, "image_id": 3, "category_id": 2, "bbox": [1, 1, 0, 4], "area": 0, "iscrowd": 0,
     "segmentation": [[1, 1, 1, 5, 1, 3]]},
    {"id": 4, "image_id": 3, "category_id": 2, "bbox": [1.5, 2, 4, 3], "area": 12, "iscrowd": 0,
     "segmentation": [[1.5, 2, 5.5, 2, 5.5, 5]]}
  ]})json";

TEST(CocoDatasetTest, ReadsImagesAndClassesInIdOrderAsDetectron2) {
  const std::string path = WriteJson("dataset.json", kDataset);
  absl::StatusOr<CocoDataset> dataset = LoadCocoDataset(path, "/images", /*with_masks=*/true);
  MOCHI_ASSERT_OK(dataset);
  EXPECT_THAT(dataset->class_names, ElementsAre("bag", "sneaker"));
  EXPECT_THAT(dataset->category_ids, ElementsAre(2, 7));
  ASSERT_EQ(dataset->records.size(), 2u);
  const DetectionRecord& first = dataset->records[0];
  EXPECT_EQ(first.image_id, "3");
  EXPECT_EQ(first.image_path, "/images/a.jpg");
  // The zero-width box is dropped; [1.5, 2, 4, 3] becomes XYXY.
  ASSERT_EQ(first.boxes.size(), 1u);
  EXPECT_THAT(first.boxes[0], ElementsAre(1.5f, 2.f, 5.5f, 5.f));
  EXPECT_THAT(first.classes, ElementsAre(0));
  EXPECT_THAT(first.difficult, ElementsAre(false));
  const DetectionRecord& second = dataset->records[1];
  EXPECT_EQ(second.image_id, "9");
  // The crowd region is dropped.
  ASSERT_EQ(second.boxes.size(), 1u);
  EXPECT_THAT(second.boxes[0], ElementsAre(2.f, 3.f, 12.f, 8.f));
  EXPECT_THAT(second.classes, ElementsAre(1));
  // Masks are the evaluator's rasterisation, at the image size.
  ASSERT_EQ(second.masks.size(), 1u);
  EXPECT_EQ(second.masks[0].height, 20u);
  EXPECT_EQ(second.masks[0].width, 30u);
  EXPECT_EQ(second.masks[0], coco::RleFromPolygon({2, 3, 12, 3, 12, 8, 2, 8}, 20, 30));
  ASSERT_EQ(first.masks.size(), 1u);
  EXPECT_EQ(first.masks[0], coco::RleFromPolygon({1.5, 2, 5.5, 2, 5.5, 5}, 10, 12));

  absl::StatusOr<CocoDataset> boxes_only = LoadCocoDataset(path, "/images", false);
  MOCHI_ASSERT_OK(boxes_only);
  EXPECT_TRUE(boxes_only->records[1].masks.empty());
  EXPECT_EQ(boxes_only->records[1].boxes.size(), 1u);
}

TEST(CocoDatasetTest, ErrorsNameTheFile) {
  EXPECT_THAT(LoadCocoDataset("/nonexistent/instances.json", "/images", false),
              StatusIs(absl::StatusCode::kNotFound));
  const std::string no_file_name = WriteJson(
      "no_file_name.json",
      R"json({"images": [{"id": 1, "height": 5, "width": 5}], "categories": [], "annotations": []})json");
  EXPECT_THAT(LoadCocoDataset(no_file_name, "/images", false),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("no_file_name.json: image 1 needs file_name")));
  const std::string unknown_category =
      WriteJson("unknown_category.json",
                R"json({"images": [{"id": 1, "file_name": "x.jpg", "height": 5, "width": 5}],
              "categories": [{"id": 1, "name": "bag"}],
              "annotations": [{"id": 1, "image_id": 1, "category_id": 4, "bbox": [0, 0, 1, 1],
                               "area": 1, "iscrowd": 0}]})json");
  EXPECT_THAT(LoadCocoDataset(unknown_category, "/images", false),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown_category.json")));
}

}  // namespace
}  // namespace mochi::eval::detection
