#include "eval/coco/coco_json.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/status_matchers.h"

namespace mochi::eval::coco {
namespace {

using ::mochi::testing::IsOk;
using ::mochi::testing::StatusIs;
using ::testing::HasSubstr;
using Json = nlohmann::json;

constexpr char kGolden[] = "tests/eval/testdata/eval_golden/";

// One 20x10 image (id 5), categories 1 and 3, one annotation with box, area and a polygon.
Json SmallDataset() {
  return Json::parse(R"json({
    "images": [{"id": 5, "width": 20, "height": 10}],
    "categories": [{"id": 1, "name": "shirt"}, {"id": 3, "name": "bag"}],
    "annotations": [{"id": 1, "image_id": 5, "category_id": 3, "bbox": [1, 1, 3, 2], "area": 6,
                     "iscrowd": 0, "segmentation": [[1, 1, 4, 1, 4, 3, 1, 3]]}]
  })json");
}

absl::StatusOr<CocoGroundTruth> Gt(const Json& json, IouType iou_type = IouType::kBbox) {
  return ParseCocoGroundTruth(json.dump(), "gt.json", iou_type);
}

absl::StatusOr<std::vector<CocoInstance>> Results(const std::string& text,
                                                  IouType iou_type = IouType::kBbox) {
  absl::StatusOr<CocoGroundTruth> gt = Gt(SmallDataset(), iou_type);
  if (!gt.ok()) return gt.status();
  return ParseCocoResults(text, "dt.json", *gt, iou_type);
}

TEST(CocoJsonTest, ReadsGroundTruth) {
  absl::StatusOr<CocoGroundTruth> gt = Gt(SmallDataset(), IouType::kSegm);
  ASSERT_THAT(gt, IsOk());
  ASSERT_EQ(gt->images.size(), 1u);
  EXPECT_EQ(gt->images[0].height, 10);
  ASSERT_EQ(gt->categories.size(), 2u);
  EXPECT_EQ(gt->categories[1].name, "bag");
  ASSERT_EQ(gt->annotations.size(), 1u);
  const CocoInstance& annotation = gt->annotations[0];
  EXPECT_EQ(annotation.category_id, 3);
  EXPECT_EQ(annotation.area, 6);
  ASSERT_TRUE(annotation.mask.has_value());
  EXPECT_EQ(RleArea(*annotation.mask), 6u);  // the rectangle (1,1)-(4,3)
  EXPECT_EQ(annotation.mask->height, 10u);   // the image's size
  EXPECT_EQ(annotation.mask->width, 20u);
}

TEST(CocoJsonTest, ReadsGoldenFixtures) {
  absl::StatusOr<CocoGroundTruth> gt =
      LoadCocoGroundTruth(std::string(kGolden) + "f1_boxes_ties_gt.json", IouType::kBbox);
  ASSERT_THAT(gt, IsOk());
  EXPECT_EQ(gt->annotations.size(), 4u);
  absl::StatusOr<std::vector<CocoInstance>> dt =
      LoadCocoResults(std::string(kGolden) + "f1_boxes_ties_dt.json", *gt, IouType::kBbox);
  ASSERT_THAT(dt, IsOk());
  ASSERT_EQ(dt->size(), 6u);
  EXPECT_EQ((*dt)[0].id, 1);  // numbered in file order
  EXPECT_EQ((*dt)[5].id, 6);
  EXPECT_EQ((*dt)[4].area, 30 * 45);  // box results: area = w * h
}

TEST(CocoJsonTest, CrowdRegionsAsUncompressedRle) {
  Json gt = SmallDataset();
  // Column-major counts on the 10x20 canvas: 12 background, 3 foreground, rest background.
  gt["annotations"].push_back(Json::parse(R"json({
    "id": 2, "image_id": 5, "category_id": 1, "bbox": [1, 2, 1, 3], "area": 3, "iscrowd": 1,
    "segmentation": {"size": [10, 20], "counts": [12, 3, 185]}})json"));
  absl::StatusOr<CocoGroundTruth> parsed = Gt(gt, IouType::kSegm);
  ASSERT_THAT(parsed, IsOk());
  const CocoInstance& crowd = parsed->annotations[1];
  EXPECT_TRUE(crowd.is_crowd);
  EXPECT_EQ(RleToBox(*crowd.mask), (Box{1, 2, 1, 3}));
  // iscrowd as a JSON boolean is accepted too.
  gt["annotations"][1]["iscrowd"] = true;
  ASSERT_THAT(Gt(gt, IouType::kSegm), IsOk());
}

// loadRes: the first result decides. With a bbox, area = w * h for every result (even when a mask
// is given); a result without a segmentation gets its box's polygon as mask.
TEST(CocoJsonTest, BoxResultsTakeTheBoxArea) {
  absl::StatusOr<std::vector<CocoInstance>> dt = Results(R"json([
    {"image_id": 5, "category_id": 1, "bbox": [1, 1, 3, 2], "score": 0.9},
    {"image_id": 5, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.8,
     "segmentation": {"size": [10, 20], "counts": [12, 3, 185]}}
  ])json",
                                                         IouType::kSegm);
  ASSERT_THAT(dt, IsOk());
  EXPECT_EQ((*dt)[0].area, 6);
  EXPECT_EQ(RleArea(*(*dt)[0].mask), 6u);  // the box as a polygon
  EXPECT_EQ((*dt)[1].area, 100);           // box area, not the 3-pixel mask
  EXPECT_EQ(RleArea(*(*dt)[1].mask), 3u);
  EXPECT_FALSE((*dt)[1].is_crowd);
}

// Without a bbox in the first result: area = mask area, bbox = the mask's tight box.
TEST(CocoJsonTest, MaskResultsTakeTheMaskArea) {
  absl::StatusOr<std::vector<CocoInstance>> dt = Results(R"json([
    {"image_id": 5, "category_id": 1, "score": 0.9,
     "segmentation": {"size": [10, 20], "counts": "<3i5"}}
  ])json",
                                                         IouType::kBbox);
  ASSERT_THAT(dt, IsOk());
  ASSERT_EQ(dt->size(), 1u);
  EXPECT_EQ((*dt)[0].area, 3);
  EXPECT_EQ((*dt)[0].bbox, (Box{1, 2, 1, 3}));
}

TEST(CocoJsonTest, EmptyResultsAreNoDetections) {
  absl::StatusOr<std::vector<CocoInstance>> dt = Results("[]");
  ASSERT_THAT(dt, IsOk());
  EXPECT_TRUE(dt->empty());
}

TEST(CocoJsonTest, MalformedJsonNamesTheFile) {
  EXPECT_THAT(ParseCocoGroundTruth("{\"images\": [", "gt.json", IouType::kBbox),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("gt.json: malformed JSON")));
  EXPECT_THAT(Results("[{\"image_id\": 5,}]"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("dt.json: malformed JSON")));
  EXPECT_THAT(Results("{\"image_id\": 5}"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("must be a JSON array")));
}

TEST(CocoJsonTest, MissingFilesAreNotFound) {
  EXPECT_THAT(LoadCocoGroundTruth("/nonexistent/gt.json", IouType::kBbox),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/gt.json")));
  absl::StatusOr<CocoGroundTruth> gt = Gt(SmallDataset());
  ASSERT_THAT(gt, IsOk());
  EXPECT_THAT(LoadCocoResults("/nonexistent/dt.json", *gt, IouType::kBbox),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/dt.json")));
}

TEST(CocoJsonTest, ResultsWithUnknownIdsAreRejected) {
  EXPECT_THAT(
      Results(R"json([{"image_id": 5, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1},
                      {"image_id": 99, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}])json"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("dt.json: results[1]: image_id 99 is not among the ground truth's")));
  EXPECT_THAT(
      Results(R"json([{"image_id": 5, "category_id": 2, "bbox": [0, 0, 1, 1], "score": 1}])json"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("category_id 2 is not among")));
}

TEST(CocoJsonTest, MalformedResultsAreRejected) {
  // The first result has a bbox, so every result needs one.
  EXPECT_THAT(
      Results(R"json([{"image_id": 5, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1},
                              {"image_id": 5, "category_id": 1, "score": 1,
                               "segmentation": [[0, 0, 1, 0, 1, 1]]}])json"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("results[1]: missing 'bbox'")));
  EXPECT_THAT(
      Results(R"json([{"image_id": 5, "category_id": 1, "bbox": [0, 0, 1], "score": 1}])json"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("[x, y, width, height]")));
  EXPECT_THAT(Results(R"json([{"image_id": 5, "category_id": 1, "bbox": [0, 0, 1, 1]}])json"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("missing 'score'")));
  EXPECT_THAT(Results(R"json([{"image_id": 5, "category_id": 1, "score": 1}])json"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("missing 'segmentation'")));
  EXPECT_THAT(Results(R"json([{"image_id": "5", "category_id": 1, "score": 1}])json"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected an integer")));
}

TEST(CocoJsonTest, MalformedGroundTruthIsRejected) {
  Json gt = SmallDataset();
  gt["annotations"][0]["image_id"] = 6;
  EXPECT_THAT(Gt(gt), StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr("annotations[0] (id 1): image_id 6 is not among")));
  gt = SmallDataset();
  gt["annotations"][0]["category_id"] = 2;
  EXPECT_THAT(Gt(gt), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("category_id 2")));
  gt = SmallDataset();
  gt["annotations"][0].erase("area");
  EXPECT_THAT(Gt(gt), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("missing 'area'")));
  gt = SmallDataset();
  gt["annotations"][0]["id"] = 0;
  EXPECT_THAT(Gt(gt), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("id 0")));
  gt = SmallDataset();
  gt["annotations"].push_back(gt["annotations"][0]);
  EXPECT_THAT(Gt(gt),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("duplicate annotation id")));
  gt = SmallDataset();
  gt["images"].push_back(gt["images"][0]);
  EXPECT_THAT(Gt(gt), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("duplicate image")));
  gt = SmallDataset();
  gt.erase("categories");
  EXPECT_THAT(Gt(gt), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'categories'")));
  EXPECT_THAT(ParseCocoGroundTruth("[]", "gt.json", IouType::kBbox),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("JSON object")));
}

TEST(CocoJsonTest, MalformedSegmentationsAreRejected) {
  Json gt = SmallDataset();
  gt["annotations"][0]["segmentation"] = Json::parse("[[1, 1, 4, 1, 4]]");
  EXPECT_THAT(Gt(gt, IouType::kSegm),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("annotations[0] (id 1): 'segmentation': a polygon needs")));
  gt["annotations"][0]["segmentation"] = Json::parse(R"({"size": [10, 20], "counts": [12, 3]})");
  EXPECT_THAT(Gt(gt, IouType::kSegm),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("add up to 15")));
  gt["annotations"][0]["segmentation"] = Json::parse(R"({"size": [10, 20], "counts": "~~"})");
  EXPECT_THAT(Gt(gt, IouType::kSegm),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("outside '0'..'o'")));
  gt["annotations"][0]["segmentation"] = Json::array();
  EXPECT_THAT(Gt(gt, IouType::kSegm), StatusIs(absl::StatusCode::kInvalidArgument));
  gt["annotations"][0].erase("segmentation");
  EXPECT_THAT(Gt(gt, IouType::kSegm),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("missing 'segmentation'")));
  // Box evaluation does not read segmentations at all.
  EXPECT_THAT(Gt(gt, IouType::kBbox), IsOk());
  // Polygons need the image size.
  gt = SmallDataset();
  gt["images"][0].erase("height");
  EXPECT_THAT(Gt(gt, IouType::kSegm),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("(image 5)")));
}

TEST(CocoJsonTest, ParsesIouType) {
  EXPECT_THAT(ParseIouType("segm"), IsOk());
  EXPECT_THAT(ParseIouType("keypoints"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bbox or segm")));
}

}  // namespace
}  // namespace mochi::eval::coco
