#include "eval/coco/coco_eval.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/port/text_proto.h"
#include "nlohmann/json.hpp"
#include "tests/testing/status_matchers.h"

namespace mochi::eval::coco {
namespace {

using ::mochi::testing::IsOk;
using Json = nlohmann::json;

constexpr char kGolden[] = "tests/eval/testdata/eval_golden/";

// Index of each summary number in CocoStats::values. (Precision is tp / (tp + fp + eps), so a
// perfect AP is 1 - 2.2e-16: compare with a tolerance.)
enum Stat { kAp, kAp50, kAp75, kApS, kApM, kApL, kAr1, kAr10, kAr100, kArS, kArM, kArL };

Json Image(int64_t id, int size = 100) { return {{"id", id}, {"width", size}, {"height", size}}; }

Json Annotation(int64_t id, int64_t image_id, int64_t category_id, std::vector<double> box,
                double area, bool crowd = false) {
  return {{"id", id},    {"image_id", image_id}, {"category_id", category_id},
          {"bbox", box}, {"area", area},         {"iscrowd", crowd ? 1 : 0}};
}

Json Detection(int64_t image_id, int64_t category_id, std::vector<double> box, double score) {
  return {{"image_id", image_id}, {"category_id", category_id}, {"bbox", box}, {"score", score}};
}

Json Categories(std::vector<int64_t> ids) {
  Json categories = Json::array();
  for (int64_t id : ids) categories.push_back({{"id", id}, {"name", "c" + std::to_string(id)}});
  return categories;
}

CocoStats Evaluate(const Json& gt_json, const Json& dt_json, IouType iou_type = IouType::kBbox) {
  absl::StatusOr<CocoGroundTruth> gt = ParseCocoGroundTruth(gt_json.dump(), "gt.json", iou_type);
  EXPECT_THAT(gt, IsOk());
  if (!gt.ok()) return {};
  absl::StatusOr<std::vector<CocoInstance>> dt =
      ParseCocoResults(dt_json.dump(), "dt.json", *gt, iou_type);
  EXPECT_THAT(dt, IsOk());
  if (!dt.ok()) return {};
  absl::StatusOr<CocoStats> stats = EvaluateCoco(*gt, *dt, iou_type);
  EXPECT_THAT(stats, IsOk());
  return stats.ok() ? *stats : CocoStats{};
}

void ExpectStats(const CocoStats& stats, const std::vector<double>& expected, double tolerance) {
  ASSERT_EQ(expected.size(), stats.values.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(stats.values[i], expected[i], tolerance) << kCocoStatNames[i];
  }
}

class CocoGoldenTest : public ::testing::TestWithParam<std::string> {};

// Fixtures evaluated by pycocotools (cocoapi master 8c9bcc3); expected values have 6 decimals.
TEST_P(CocoGoldenTest, MatchesPycocotools) {
  const std::string prefix = std::string(kGolden) + GetParam();
  absl::StatusOr<CocoStats> stats =
      EvaluateCocoFiles(prefix + "_gt.json", prefix + "_dt.json", IouType::kBbox);
  ASSERT_THAT(stats, IsOk());
  absl::StatusOr<std::string> expected_text = ReadFileToString(prefix + "_expected.json");
  ASSERT_THAT(expected_text, IsOk());
  const Json expected = Json::parse(*expected_text)["bbox"];
  std::vector<double> values;
  for (const char* name : kCocoStatNames) values.push_back(expected[name].get<double>());
  ExpectStats(*stats, values, 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CocoGoldenTest,
                         ::testing::Values("f1_boxes_ties", "f3_maxdets"));

// 10 ground truths, 7 perfect detections: precision 1 up to recall 0.7, and the recall thresholds
// are np.linspace(0, 1, 101), whose element 70 is 0.7000000000000001 > 0.7, so 70 of the 101
// thresholds are reached: AP = 70/101 (71/101 with i/100 thresholds).
TEST(CocoEvalTest, RecallOfSevenOutOfTenGivesSeventyOver101) {
  Json annotations = Json::array(), detections = Json::array();
  for (int i = 0; i < 10; ++i) {
    annotations.push_back(Annotation(i + 1, 1, 1, {20.0 * i, 0, 10, 10}, 100));
    if (i < 7) detections.push_back(Detection(1, 1, {20.0 * i, 0, 10, 10}, 0.9 - 0.01 * i));
  }
  const Json gt = {{"images", Json::array({Image(1, 300)})},
                   {"categories", Categories({1})},
                   {"annotations", annotations}};
  const CocoStats stats = Evaluate(gt, detections);
  EXPECT_NEAR(stats.values[kAp], 70.0 / 101, 1e-12);
  EXPECT_NEAR(stats.values[kAp50], 70.0 / 101, 1e-12);
  EXPECT_NEAR(stats.values[kApS], 70.0 / 101, 1e-12);
  EXPECT_EQ(stats.values[kApM], -1);
  EXPECT_NEAR(stats.values[kAr100], 0.7, 1e-12);
  EXPECT_NEAR(stats.values[kAr1], 0.1, 1e-12);
}

// Detections inside a crowd region match it (IoU = intersection / detection area, and a crowd can
// be matched any number of times) and are then ignored, not counted as false positives.
TEST(CocoEvalTest, CrowdRegionsAbsorbDetections) {
  const Json gt = {
      {"images", Json::array({Image(1, 200)})},
      {"categories", Categories({1})},
      {"annotations", Json::array({Annotation(1, 1, 1, {0, 0, 10, 10}, 100),
                                   Annotation(2, 1, 1, {50, 50, 40, 40}, 1600, /*crowd=*/true)})}};
  const Json dt =
      Json::array({Detection(1, 1, {55, 55, 10, 10}, .9), Detection(1, 1, {70, 70, 10, 10}, .8),
                   Detection(1, 1, {60, 60, 5, 5}, .7), Detection(1, 1, {0, 0, 10, 10}, .6)});
  // AR1 is 0: the single top-scoring detection is a crowd match, which is ignored.
  ExpectStats(Evaluate(gt, dt), {1, 1, 1, 1, -1, -1, 0, 1, 1, 1, -1, -1}, 1e-12);
}

// Per area range: ground truths outside it are ignored, detections matched to them are ignored,
// and unmatched detections outside it are ignored rather than counted as false positives.
TEST(CocoEvalTest, AreaRangesIgnoreOutOfRangeInstances) {
  const Json gt = {
      {"images", Json::array({Image(1, 400)})},
      {"categories", Categories({1})},
      {"annotations", Json::array({Annotation(1, 1, 1, {0, 0, 10, 10}, 100),
                                   Annotation(2, 1, 1, {100, 100, 100, 100}, 10000)})}};
  const Json dt =
      Json::array({Detection(1, 1, {300, 300, 10, 10}, .95),  // small false positive
                   Detection(1, 1, {0, 0, 10, 10}, .9), Detection(1, 1, {100, 100, 100, 100}, .8)});
  // all: FP, TP, TP -> envelope precision 2/3 everywhere. small: FP, TP (the large match is
  // ignored) -> 1/2. large: the small FP and the small match are ignored -> 1. medium: no ground
  // truth -> -1.
  ExpectStats(Evaluate(gt, dt), {2. / 3, 2. / 3, 2. / 3, .5, -1, 1, 0, 1, 1, 1, -1, 1}, 1e-12);
}

// The range is decided by the annotation's `area` (the mask area in COCO), not by the box.
TEST(CocoEvalTest, AreaRangeUsesAnnotationAreaNotBoxArea) {
  const Json gt = {{"images", Json::array({Image(1)})},
                   {"categories", Categories({1})},
                   {"annotations", Json::array({Annotation(1, 1, 1, {10, 10, 50, 50}, 500)})}};
  const CocoStats stats = Evaluate(gt, Json::array({Detection(1, 1, {10, 10, 50, 50}, .9)}));
  EXPECT_NEAR(stats.values[kApS], 1, 1e-12);
  EXPECT_EQ(stats.values[kApM], -1);
}

// The 100-detection cap applies per image AND category: category 1's 101st detection (its only
// true positive) is dropped, category 2's lone low-scoring detection is kept.
TEST(CocoEvalTest, MaxDetectionsCapIsPerImageAndCategory) {
  Json dt = Json::array();
  for (int i = 0; i < 100; ++i) dt.push_back(Detection(1, 1, {500, 500, 10, 10}, 0.5 + 0.004 * i));
  dt.push_back(Detection(1, 1, {0, 0, 10, 10}, 0.4));
  dt.push_back(Detection(1, 2, {0, 0, 10, 10}, 0.01));
  const Json gt = {{"images", Json::array({Image(1, 1000)})},
                   {"categories", Categories({1, 2})},
                   {"annotations", Json::array({Annotation(1, 1, 1, {0, 0, 10, 10}, 100),
                                                Annotation(2, 1, 2, {0, 0, 10, 10}, 100)})}};
  ExpectStats(Evaluate(gt, dt), {.5, .5, .5, .5, -1, -1, .5, .5, .5, .5, -1, -1}, 1e-12);
}

// Class-agnostic scoring (MergeCategories, pycocotools' useCats = 0). Two images with one
// category-1 object each; in score order: a detection of image 1's object with the wrong category
// (.9), a category-1 detection beside image 2's object (.8), then one on it (.7).
//   per category: category 1 sees FP, TP: precision 1/2 up to recall 1/2, so the 51 recall
//     thresholds 0 .. 0.5 read 1/2: AP = 25.5 / 101 (category 2 has no ground truth: excluded);
//   merged: TP, FP, TP: precision 1 up to recall 1/2 (51 thresholds), then 2/3 for the other 50:
//     AP = (51 + 100 / 3) / 101.
TEST(CocoEvalTest, MergedCategoriesScoreLocalisationAlone) {
  const Json gt_json = {{"images", Json::array({Image(1), Image(2)})},
                        {"categories", Categories({1, 2})},
                        {"annotations", Json::array({Annotation(1, 1, 1, {0, 0, 10, 10}, 100),
                                                     Annotation(2, 2, 1, {20, 20, 10, 10}, 100)})}};
  const Json dt_json =
      Json::array({Detection(1, 2, {0, 0, 10, 10}, .9), Detection(2, 1, {60, 60, 10, 10}, .8),
                   Detection(2, 1, {20, 20, 10, 10}, .7)});
  EXPECT_NEAR(Evaluate(gt_json, dt_json).values[kAp], 25.5 / 101, 1e-12);

  absl::StatusOr<CocoGroundTruth> gt = ParseCocoGroundTruth(gt_json.dump(), "gt", IouType::kBbox);
  ASSERT_THAT(gt, IsOk());
  absl::StatusOr<std::vector<CocoInstance>> dt =
      ParseCocoResults(dt_json.dump(), "dt", *gt, IouType::kBbox);
  ASSERT_THAT(dt, IsOk());
  MergeCategories(&*gt, &*dt);
  ASSERT_EQ(gt->categories.size(), 1u);
  absl::StatusOr<CocoStats> merged = EvaluateCoco(*gt, *dt, IouType::kBbox);
  ASSERT_THAT(merged, IsOk());
  EXPECT_NEAR(merged->values[kAp], (51 + 100. / 3) / 101, 1e-12);
  EXPECT_NEAR(merged->values[kAr100], 1, 1e-12);
}

// Category ids 3, 7, 11 (non-contiguous); 20 has nothing and 42 only a detection: both have no
// ground truth and are left out of the mean instead of counting as 0.
TEST(CocoEvalTest, NonContiguousCategoriesAndCategoriesWithoutGroundTruth) {
  const Json gt = {{"images", Json::array({Image(1), Image(2), Image(3)})},
                   {"categories", Categories({3, 7, 11, 20, 42})},
                   {"annotations", Json::array({Annotation(1, 1, 3, {0, 0, 10, 10}, 100),
                                                Annotation(2, 2, 7, {0, 0, 10, 10}, 100),
                                                Annotation(3, 3, 11, {0, 0, 10, 10}, 100)})}};
  const Json dt =
      Json::array({Detection(1, 3, {0, 0, 10, 10}, .9), Detection(2, 7, {50, 50, 10, 10}, .9),
                   Detection(3, 11, {0, 0, 10, 10}, .9), Detection(1, 42, {0, 0, 10, 10}, .9)});
  const CocoStats stats = Evaluate(gt, dt);
  EXPECT_NEAR(stats.values[kAp], 2. / 3, 1e-12);
  EXPECT_NEAR(stats.values[kAr100], 2. / 3, 1e-12);
}

// Image 1 has a ground truth but no detection, image 2 a detection but no ground truth, image 3
// nothing: TP then FP at recall 1/2, so the first 51 recall thresholds (0 .. 0.5) have precision 1.
TEST(CocoEvalTest, ImagesWithoutDetectionsOrWithoutGroundTruth) {
  const Json gt = {{"images", Json::array({Image(1), Image(2), Image(3), Image(4)})},
                   {"categories", Categories({1})},
                   {"annotations", Json::array({Annotation(1, 1, 1, {0, 0, 10, 10}, 100),
                                                Annotation(2, 4, 1, {0, 0, 10, 10}, 100)})}};
  const Json dt =
      Json::array({Detection(4, 1, {0, 0, 10, 10}, .9), Detection(2, 1, {0, 0, 10, 10}, .8)});
  const CocoStats stats = Evaluate(gt, dt);
  EXPECT_NEAR(stats.values[kAp], 51. / 101, 1e-12);
  EXPECT_NEAR(stats.values[kAr100], .5, 1e-12);
  // No detections at all: AP 0 where there is ground truth.
  const CocoStats empty = Evaluate(gt, Json::array());
  EXPECT_EQ(empty.values[kAp], 0);
  EXPECT_EQ(empty.values[kApM], -1);
}

// A detection with IoU 0.72 against a regular ground truth and 1.0 against a crowd region keeps the
// regular match for thresholds up to 0.70 (COCOeval never trades a regular match for an ignored
// one) and falls back to the crowd, i.e. is ignored, from 0.75 on.
TEST(CocoEvalTest, RegularMatchIsNotTradedForIgnoredGroundTruth) {
  const Json gt = {
      {"images", Json::array({Image(1)})},
      {"categories", Categories({1})},
      {"annotations", Json::array({Annotation(1, 1, 1, {0, 0, 10, 10}, 100),
                                   Annotation(2, 1, 1, {0, 0, 10, 10}, 100, /*crowd=*/true)})}};
  const CocoStats stats = Evaluate(gt, Json::array({Detection(1, 1, {0, 0, 10, 7.2}, .9)}));
  EXPECT_NEAR(stats.values[kAp50], 1, 1e-12);
  EXPECT_NEAR(stats.values[kAp75], 0, 1e-12);
  EXPECT_NEAR(stats.values[kAp], .5, 1e-12);
}

// Tied scores: merged across images in image-id order (not file order), then file order within an
// image, both by a stable sort. FP first gives AP 1/2, TP first AP 1.
TEST(CocoEvalTest, TiedScoresKeepImageIdThenFileOrder) {
  const Json gt = {{"images", Json::array({Image(9), Image(2)})},
                   {"categories", Categories({1})},
                   {"annotations", Json::array({Annotation(1, 9, 1, {0, 0, 10, 10}, 100)})}};
  EXPECT_NEAR(Evaluate(gt, Json::array({Detection(9, 1, {0, 0, 10, 10}, .5),
                                        Detection(2, 1, {0, 0, 10, 10}, .5)}))
                  .values[kAp],
              .5, 1e-12);
  const Json one_image = {{"images", Json::array({Image(1)})},
                          {"categories", Categories({1})},
                          {"annotations", Json::array({Annotation(1, 1, 1, {0, 0, 10, 10}, 100)})}};
  EXPECT_NEAR(Evaluate(one_image, Json::array({Detection(1, 1, {50, 50, 10, 10}, .5),
                                               Detection(1, 1, {0, 0, 10, 10}, .5)}))
                  .values[kAp],
              .5, 1e-12);
  EXPECT_NEAR(Evaluate(one_image, Json::array({Detection(1, 1, {0, 0, 10, 10}, .5),
                                               Detection(1, 1, {50, 50, 10, 10}, .5)}))
                  .values[kAp],
              1, 1e-12);
}

// An L-shaped object: its box is matched perfectly by the detection's box, but the mask IoU of the
// full box against the L is well under 0.5.
TEST(CocoEvalTest, SegmComparesMasksWhereBboxComparesBoxes) {
  const Json l_shape = Json::array({Json::array({0, 0, 10, 0, 10, 2, 2, 2, 2, 10, 0, 10})});
  Json annotation = Annotation(1, 1, 1, {0, 0, 10, 10}, 36);
  annotation["segmentation"] = l_shape;
  const Json gt = {{"images", Json::array({Image(1, 20)})},
                   {"categories", Categories({1})},
                   {"annotations", Json::array({annotation})}};
  Json box_result = Detection(1, 1, {0, 0, 10, 10}, .9);
  box_result["segmentation"] = Json::array({Json::array({0, 0, 10, 0, 10, 10, 0, 10})});
  EXPECT_NEAR(Evaluate(gt, Json::array({box_result}), IouType::kBbox).values[kAp], 1, 1e-12);
  EXPECT_NEAR(Evaluate(gt, Json::array({box_result}), IouType::kSegm).values[kAp], 0, 1e-12);

  // The same L as a compressed-RLE result (no bbox: area and box come from the mask).
  absl::StatusOr<Rle> l_mask = RleFromPolygons({{0, 0, 10, 0, 10, 2, 2, 2, 2, 10, 0, 10}}, 20, 20);
  ASSERT_THAT(l_mask, IsOk());
  const Json mask_result = {
      {"image_id", 1},
      {"category_id", 1},
      {"score", .9},
      {"segmentation", {{"size", Json::array({20, 20})}, {"counts", EncodeRleCounts(*l_mask)}}}};
  ExpectStats(Evaluate(gt, Json::array({mask_result}), IouType::kSegm),
              {1, 1, 1, 1, -1, -1, 1, 1, 1, 1, -1, -1}, 1e-12);
}

// Mask evaluation with a crowd region given as an uncompressed RLE (columns 10..19 of a 20x20
// image): the detection inside it is ignored, the one on the regular object is a true positive.
TEST(CocoEvalTest, SegmCrowdRegionsAbsorbDetections) {
  Json square = Annotation(1, 1, 1, {0, 0, 5, 5}, 25);
  square["segmentation"] = Json::array({Json::array({0, 0, 5, 0, 5, 5, 0, 5})});
  Json crowd = Annotation(2, 1, 1, {10, 0, 10, 20}, 200, /*crowd=*/true);
  crowd["segmentation"] = {{"size", Json::array({20, 20})}, {"counts", Json::array({200, 200})}};
  const Json gt = {{"images", Json::array({Image(1, 20)})},
                   {"categories", Categories({1})},
                   {"annotations", Json::array({square, crowd})}};
  auto mask_result = [](std::vector<double> polygon, double score) {
    absl::StatusOr<Rle> rle = RleFromPolygons({polygon}, 20, 20);
    EXPECT_THAT(rle, IsOk());
    return Json{
        {"image_id", 1},
        {"category_id", 1},
        {"score", score},
        {"segmentation", {{"size", Json::array({20, 20})}, {"counts", EncodeRleCounts(*rle)}}}};
  };
  const Json dt = Json::array(
      {mask_result({12, 2, 16, 2, 16, 6, 12, 6}, .9), mask_result({0, 0, 5, 0, 5, 5, 0, 5}, .8)});
  ExpectStats(Evaluate(gt, dt, IouType::kSegm), {1, 1, 1, 1, -1, -1, 0, 1, 1, 1, -1, -1}, 1e-12);
}

TEST(CocoEvalTest, NoCategoriesGivesMinusOneEverywhere) {
  const Json gt = {{"images", Json::array({Image(1)})},
                   {"categories", Json::array()},
                   {"annotations", Json::array()}};
  ExpectStats(Evaluate(gt, Json::array()), std::vector<double>(12, -1), 0);
}

TEST(CocoEvalTest, StatsProtoHasTheTwelveNumbersInOrder) {
  CocoStats stats;
  for (size_t i = 0; i < stats.values.size(); ++i) stats.values[i] = i / 10.0;
  const proto::CocoMetrics metrics = CocoStatsToProto(stats);
  const std::vector<double> got = {
      metrics.ap(),       metrics.ap50(),      metrics.ap75(),  metrics.ap_small(),
      metrics.ap_medium(), metrics.ap_large(), metrics.ar1(),   metrics.ar10(),
      metrics.ar100(),    metrics.ar_small(),  metrics.ar_medium(), metrics.ar_large()};
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], i / 10.0) << kCocoStatNames[i];
  EXPECT_TRUE(metrics.has_ap());  // 0 is a value, not an absent metric
}

}  // namespace
}  // namespace mochi::eval::coco
