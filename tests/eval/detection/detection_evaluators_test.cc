#include "eval/detection/detection_evaluators.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "eval/coco/mask.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/port/text_proto.h"
#include "nlohmann/json.hpp"
#include "tests/testing/status_matchers.h"

namespace mochi::eval::detection {
namespace {

using ::mochi::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kGolden[] = "tests/eval/testdata/eval_golden/";

std::string TempDir(const std::string& name) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

nlohmann::json ReadJson(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  EXPECT_TRUE(text.ok()) << path;
  return nlohmann::json::parse(text.ok() ? *text : "null");
}

// The golden COCO results file as a detector's output: category id c is class c - 1, and image
// id i is named by `image_name(i)`.
std::vector<ImageDetections> GoldenDetections(const std::string& image_format) {
  std::vector<ImageDetections> images;
  for (const nlohmann::json& result : ReadJson(std::string(kGolden) + "f1_boxes_ties_dt.json")) {
    const std::string id = absl::StrFormat(image_format.c_str(), result["image_id"].get<int>());
    auto image = std::find_if(images.begin(), images.end(),
                              [&](const ImageDetections& d) { return d.image_id == id; });
    if (image == images.end())
      image = images.insert(images.end(), ImageDetections{id, {}, 100, 100});
    const std::vector<float> xywh = result["bbox"].get<std::vector<float>>();
    DetectedBox box;
    box.class_index = result["category_id"].get<int>() - 1;
    box.score = result["score"].get<float>();
    box.x1 = xywh[0];
    box.y1 = xywh[1];
    box.x2 = xywh[0] + xywh[2];
    box.y2 = xywh[1] + xywh[3];
    image->boxes.push_back(box);
  }
  return images;
}

// The golden fixture's detections, written and scored by the evaluator, give pycocotools' twelve
// numbers (cocoapi 8c9bcc3, 6 decimals).
TEST(CocoDetectionEvaluatorTest, MatchesPycocotoolsOnTheGoldenFixture) {
  const std::string dir = TempDir("coco_evaluator");
  CocoDetectionEvaluator evaluator(std::string(kGolden) + "f1_boxes_ties_gt.json",
                                   dir + "/coco_results.json", {1, 2}, /*with_masks=*/false);
  const std::vector<ImageDetections> detections = GoldenDetections("%d");
  ModelOutputs outputs;
  outputs.detections = &detections;
  absl::StatusOr<proto::EvaluationResult> result = evaluator.Evaluate(outputs);
  MOCHI_ASSERT_OK(result);
  ASSERT_TRUE(result->has_coco());
  EXPECT_FALSE(result->coco().has_segm());
  const proto::CocoMetrics& got = result->coco().bbox();
  const nlohmann::json want =
      ReadJson(std::string(kGolden) + "f1_boxes_ties_expected.json")["bbox"];
  const std::vector<std::pair<const char*, double>> pairs = {
      {"AP", got.ap()},        {"AP50", got.ap50()},     {"AP75", got.ap75()},
      {"APs", got.ap_small()}, {"APm", got.ap_medium()}, {"APl", got.ap_large()},
      {"AR1", got.ar1()},      {"AR10", got.ar10()},     {"AR100", got.ar100()},
      {"ARs", got.ar_small()}, {"ARm", got.ar_medium()}, {"ARl", got.ar_large()}};
  for (const auto& [name, value] : pairs) {
    EXPECT_NEAR(value, want[name].get<double>(), 5e-7) << name;
  }
  EXPECT_TRUE(std::filesystem::exists(dir + "/coco_results.json"));
}

// A compressed RLE of the square [x, x + side) x [y, y + side) in a 100 x 100 image.
std::string SquareMaskCounts(uint32_t x, uint32_t y, uint32_t side) {
  coco::BinaryMask mask{100, 100, std::vector<uint8_t>(100 * 100, 0)};
  for (uint32_t r = y; r < y + side; ++r) {
    for (uint32_t c = x; c < x + side; ++c) mask.pixels[r * 100 + c] = 1;
  }
  return coco::EncodeRleCounts(coco::EncodeMask(mask));
}

// Masks are scored as detectron2 scores them: without their boxes, so the area ranges read mask
// areas. One small ground truth (a 20 x 20 square); a false positive (score 0.9: a 10 x 10 mask,
// but a 60 x 60 box, a medium area) and then the exact mask (0.8). By mask area the false
// positive counts in the small range: precision 1/2 at every recall, APs = 0.5. By box area
// (pycocotools with the boxes left in) it would be ignored there and APs would be 1.
TEST(CocoDetectionEvaluatorTest, ScoresMasksByMaskAreaAsDetectron2) {
  const std::string dir = TempDir("coco_evaluator_masks");
  const std::string gt_path = dir + "/gt.json";
  const nlohmann::json gt = {
      {"images", {{{"id", 1}, {"height", 100}, {"width", 100}}}},
      {"categories", {{{"id", 1}, {"name", "square"}}}},
      {"annotations",
       {{{"id", 1}, {"image_id", 1}, {"category_id", 1}, {"iscrowd", 0}, {"area", 400},
         {"bbox", {10, 10, 20, 20}},
         {"segmentation", {{"size", {100, 100}}, {"counts", SquareMaskCounts(10, 10, 20)}}}}}}};
  MOCHI_ASSERT_OK(WriteFileAtomically(gt_path, gt.dump()));
  DetectedBox false_positive{0, 0.9f, 40, 40, 100, 100, SquareMaskCounts(60, 60, 10)};
  DetectedBox exact{0, 0.8f, 10, 10, 30, 30, SquareMaskCounts(10, 10, 20)};
  const std::vector<ImageDetections> detections = {{"1", {false_positive, exact}, 100, 100}};
  ModelOutputs outputs;
  outputs.detections = &detections;
  CocoDetectionEvaluator evaluator(gt_path, dir + "/coco_results.json", {1}, /*with_masks=*/true);
  absl::StatusOr<proto::EvaluationResult> result = evaluator.Evaluate(outputs);
  MOCHI_ASSERT_OK(result);
  EXPECT_DOUBLE_EQ(result->coco().segm().ap(), 0.5);
  EXPECT_DOUBLE_EQ(result->coco().segm().ap_small(), 0.5);
  EXPECT_DOUBLE_EQ(result->coco().segm().ap_medium(), -1);
  // Boxes: the false positive's box (3600 px) is outside the small range and ignored there.
  EXPECT_DOUBLE_EQ(result->coco().bbox().ap_small(), 1.0);

  // Both files are kept: detectron2's (boxes and masks) and the masks-only one scored for segm.
  const nlohmann::json saved = ReadJson(dir + "/coco_results.json");
  ASSERT_EQ(saved.size(), 2u);
  EXPECT_TRUE(saved[0].contains("bbox"));
  EXPECT_TRUE(saved[0].contains("segmentation"));
  const nlohmann::json masks_only = ReadJson(SegmResultsPath(dir + "/coco_results.json"));
  ASSERT_EQ(masks_only.size(), 2u);
  EXPECT_FALSE(masks_only[0].contains("bbox"));
  EXPECT_EQ(SegmResultsPath(dir + "/coco_results.json"), dir + "/coco_results_segm.json");

  // A detection without a mask cannot be scored for segm.
  const std::vector<ImageDetections> box_only = {
      {"1", {DetectedBox{0, 0.5f, 0, 0, 5, 5, ""}}, 100, 100}};
  outputs.detections = &box_only;
  EXPECT_THAT(evaluator.Evaluate(outputs),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("without a mask")));
}

// The same detections on the fixture's VOC layout give detectron2's voc_eval numbers.
TEST(VocDetectionEvaluatorTest, MatchesDetectron2OnTheGoldenFixture) {
  voc::VocEvalOptions options;
  options.voc_root = std::string(kGolden) + "voc_f1_boxes_ties";
  options.split = "test";
  options.results_dir = TempDir("voc_evaluator");
  options.class_names = {"c1", "c2"};
  VocDetectionEvaluator evaluator(options);
  const std::vector<ImageDetections> detections = GoldenDetections("%06d");
  ModelOutputs outputs;
  outputs.detections = &detections;
  absl::StatusOr<proto::EvaluationResult> result = evaluator.Evaluate(outputs);
  MOCHI_ASSERT_OK(result);
  ASSERT_TRUE(result->has_voc());
  const nlohmann::json want =
      ReadJson(std::string(kGolden) +
               "f1_boxes_ties_voc_expected.json")["detectron2_voc_eval"]["voc07_11pt"];
  EXPECT_NEAR(result->voc().ap(), want["AP_nanmean"].get<double>(), 5e-5);
  EXPECT_NEAR(result->voc().ap50(), want["AP50_nanmean"].get<double>(), 5e-5);
  EXPECT_NEAR(result->voc().ap75(), want["AP75_nanmean"].get<double>(), 5e-5);
  ASSERT_EQ(result->voc().per_class_size(), 2);
  for (int c = 0; c < 2; ++c) {
    EXPECT_EQ(result->voc().per_class(c).name(), options.class_names[c]);
    EXPECT_NEAR(result->voc().per_class(c).ap50(), want["per_class_AP50"][c].get<double>(), 5e-5);
  }
  EXPECT_TRUE(std::filesystem::exists(options.results_dir + "/c1.txt"));
}

TEST(DetectionEvaluatorsTest, NeedDetections) {
  CocoDetectionEvaluator coco("gt.json", TempDir("no_detections") + "/r.json", {1}, false);
  EXPECT_THAT(coco.Evaluate({}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("COCO evaluator needs the test split's detections")));
  VocDetectionEvaluator voc({});
  EXPECT_THAT(voc.Evaluate({}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("VOC evaluator")));
}

}  // namespace
}  // namespace mochi::eval::detection
