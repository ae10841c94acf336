#include "eval/detection/detection_evaluators.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
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
