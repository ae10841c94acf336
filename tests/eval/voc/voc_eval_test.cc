#include "eval/voc/voc_eval.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/port/text_proto.h"
#include "nlohmann/json.hpp"
#include "tests/testing/status_matchers.h"

namespace mochi::eval::voc {
namespace {

using ::mochi::testing::IsOk;
using ::mochi::testing::StatusIs;
using ::testing::HasSubstr;
using Json = nlohmann::json;

constexpr char kGolden[] = "tests/eval/testdata/eval_golden/";

VocDetection Det(const std::string& image, double score, double xmin, double ymin, double xmax,
                 double ymax) {
  return VocDetection{image, score, xmin, ymin, xmax, ymax};
}

double ClassAp(const VocClassGroundTruth& gt, const std::vector<VocDetection>& detections,
               double threshold = 0.5, VocMetric metric = VocMetric::kVoc07ElevenPoint,
               VocScoreOrder order = VocScoreOrder::kNumpy) {
  absl::StatusOr<double> ap = VocClassAp(gt, detections, threshold, metric, order);
  EXPECT_THAT(ap, IsOk());
  return ap.ok() ? *ap : -1;
}

struct GoldenCase {
  std::string fixture;
  VocMetric metric;
  VocScoreOrder order;
};

class VocGoldenTest : public ::testing::TestWithParam<GoldenCase> {};

// detectron2's voc_eval() on the fixtures (and a stable-sort variant); the expected values are
// rounded to 4 decimals, so they are compared to within half a unit of the last place.
TEST_P(VocGoldenTest, MatchesDetectron2) {
  const GoldenCase& c = GetParam();
  VocEvalOptions options;
  options.voc_root = std::string(kGolden) + "voc_" + c.fixture;
  options.results_dir = options.voc_root + "/results";
  options.metric = c.metric;
  options.score_order = c.order;
  absl::StatusOr<VocEvalResult> result = EvaluateVoc(options);
  ASSERT_THAT(result, IsOk());

  absl::StatusOr<std::string> text =
      ReadFileToString(std::string(kGolden) + c.fixture + "_voc_expected.json");
  ASSERT_THAT(text, IsOk());
  const Json expected =
      Json::parse(*text)[c.order == VocScoreOrder::kNumpy ? "detectron2_voc_eval"
                                                          : "stable_sort_reimplementation"]
                        [c.metric == VocMetric::kArea ? "voc_area" : "voc07_11pt"];
  constexpr double kTolerance = 5e-5;
  EXPECT_NEAR(result->ap, expected["AP_nanmean"].get<double>(), kTolerance);
  EXPECT_NEAR(result->ap50, expected["AP50_nanmean"].get<double>(), kTolerance);
  if (expected.contains("AP75_nanmean")) {
    EXPECT_NEAR(result->ap75, expected["AP75_nanmean"].get<double>(), kTolerance);
  } else {
    EXPECT_NEAR(result->ap75, expected["AP75"].get<double>(), kTolerance);
  }
  const std::vector<double> per_class = expected["per_class_AP50"];
  ASSERT_EQ(result->classes.size(), per_class.size());
  for (size_t i = 0; i < per_class.size(); ++i) {
    EXPECT_NEAR(result->classes[i].ap[0], per_class[i], kTolerance) << result->classes[i].name;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, VocGoldenTest,
    ::testing::Values(
        GoldenCase{"f1_boxes_ties", VocMetric::kVoc07ElevenPoint, VocScoreOrder::kNumpy},
        GoldenCase{"f1_boxes_ties", VocMetric::kArea, VocScoreOrder::kNumpy},
        GoldenCase{"f1_boxes_ties", VocMetric::kVoc07ElevenPoint, VocScoreOrder::kStable},
        GoldenCase{"f1_boxes_ties", VocMetric::kArea, VocScoreOrder::kStable},
        GoldenCase{"f3_maxdets", VocMetric::kVoc07ElevenPoint, VocScoreOrder::kNumpy},
        GoldenCase{"f3_maxdets", VocMetric::kArea, VocScoreOrder::kNumpy},
        GoldenCase{"f3_maxdets", VocMetric::kVoc07ElevenPoint, VocScoreOrder::kStable},
        GoldenCase{"f3_maxdets", VocMetric::kArea, VocScoreOrder::kStable}));

// A detection on a difficult box is neither TP nor FP, and difficult boxes are not positives.
TEST(VocEvalTest, DifficultBoxesAreIgnored) {
  const VocClassGroundTruth gt = {
      {"a", {{1, 1, 10, 10, false}, {21, 1, 30, 10, /*difficult=*/true}}}};
  const std::vector<VocDetection> detections = {Det("a", .9, 21, 1, 30, 10),
                                                Det("a", .8, 1, 1, 10, 10)};
  EXPECT_NEAR(ClassAp(gt, detections), 1.0, 1e-12);
  EXPECT_NEAR(ClassAp(gt, detections, .5, VocMetric::kArea), 1.0, 1e-12);
}

// The second detection's best ground truth (IoU .82) is already taken: it is a false positive,
// although it overlaps the other, free ground truth with IoU .67 (COCO would match that one).
TEST(VocEvalTest, TakenBestMatchIsFalsePositiveWithoutFallback) {
  const VocClassGroundTruth gt = {{"a", {{1, 1, 10, 10, false}, {4, 1, 13, 10, false}}}};
  const std::vector<VocDetection> detections = {Det("a", .9, 1, 1, 10, 10),
                                                Det("a", .8, 2, 1, 11, 10)};
  // Recall 1/2 at precision 1, then a FP: 6 of the 11 recall points (0 .. 0.5) have precision 1.
  EXPECT_NEAR(ClassAp(gt, detections), 6.0 / 11, 1e-12);
  EXPECT_NEAR(ClassAp(gt, detections, .5, VocMetric::kArea), .5, 1e-12);
}

// Inclusive pixel boxes: [1,1,10,10] against [1,1,10,20] is 100 / 200 = 0.5, which does not pass
// "IoU > 0.5"; [1,1,4,4] against [2,1,5,4] is 12 / 20 = 0.6 with +1 widths (0.5 without).
TEST(VocEvalTest, IouUsesPlusOneAndMustExceedTheThreshold) {
  EXPECT_EQ(ClassAp({{"a", {{1, 1, 10, 20, false}}}}, {Det("a", .9, 1, 1, 10, 10)}), 0.0);
  EXPECT_NEAR(ClassAp({{"a", {{1, 1, 10, 20, false}}}}, {Det("a", .9, 1, 1, 10, 10)}, .45), 1.0,
              1e-12);
  EXPECT_NEAR(ClassAp({{"a", {{2, 1, 5, 4, false}}}}, {Det("a", .9, 1, 1, 4, 4)}), 1.0, 1e-12);
}

// 10 ground truths, 7 perfect detections. The 11 points are i * 0.1, and 7 * 0.1 =
// 0.7000000000000001 is not reached by recall 0.7: 7/11 (8/11 with i / 10.0); area metric: 0.7.
TEST(VocEvalTest, ElevenPointThresholdsAreMultiplesOfPointOne) {
  VocClassGroundTruth gt;
  std::vector<VocDetection> detections;
  for (int i = 0; i < 10; ++i) {
    const std::string image = "img" + std::to_string(i);
    gt[image] = {{1, 1, 10, 10, false}};
    if (i < 7) detections.push_back(Det(image, 0.9 - 0.01 * i, 1, 1, 10, 10));
  }
  EXPECT_NEAR(ClassAp(gt, detections), 7.0 / 11, 1e-12);
  EXPECT_NEAR(ClassAp(gt, detections, .5, VocMetric::kArea), .7, 1e-12);
}

// Equal scores: np.argsort(-score) puts detection 16 third among the six 0.9s (numpy's quicksort
// partitions 20 values), a stable sort puts it sixth. It is the only true positive.
TEST(VocEvalTest, TiedScoresFollowNumpyOrderByDefault) {
  const std::vector<double> scores = {.5, .9, .5, .7, .9, .5, .7, .9, .5, .5,
                                      .7, .9, .5, .9, .7, .5, .9, .5, .7, .5};
  std::vector<VocDetection> detections;
  for (size_t i = 0; i < scores.size(); ++i) {
    detections.push_back(i == 16 ? Det("a", scores[i], 1, 1, 10, 10)
                                 : Det("a", scores[i], 50, 50, 60, 60));
  }
  const VocClassGroundTruth gt = {{"a", {{1, 1, 10, 10, false}}}};
  EXPECT_NEAR(ClassAp(gt, detections, .5, VocMetric::kVoc07ElevenPoint, VocScoreOrder::kNumpy),
              1.0 / 3, 1e-12);
  EXPECT_NEAR(ClassAp(gt, detections, .5, VocMetric::kVoc07ElevenPoint, VocScoreOrder::kStable),
              1.0 / 6, 1e-12);
}

TEST(VocEvalTest, ClassesWithoutGroundTruthOrDetections) {
  const VocClassGroundTruth no_boxes = {{"a", {}}};
  // Nothing at all: 0 under both metrics (detectron2 then averages this 0 in).
  EXPECT_EQ(ClassAp(no_boxes, {}), 0.0);
  EXPECT_EQ(ClassAp(no_boxes, {}, .5, VocMetric::kArea), 0.0);
  // Detections without ground truth: recall is 0/0; 0 under 11-point, NaN under area (as numpy).
  EXPECT_EQ(ClassAp(no_boxes, {Det("a", .9, 1, 1, 2, 2)}), 0.0);
  EXPECT_TRUE(std::isnan(ClassAp(no_boxes, {Det("a", .9, 1, 1, 2, 2)}, .5, VocMetric::kArea)));
  // Ground truth without detections.
  EXPECT_EQ(ClassAp({{"a", {{1, 1, 2, 2, false}}}}, {}), 0.0);
}

TEST(VocEvalTest, DetectionOnImageOutsideTheSetIsAnError) {
  EXPECT_THAT(VocClassAp({{"a", {}}}, {Det("b", .9, 1, 1, 2, 2)}, .5, VocMetric::kVoc07ElevenPoint,
                         VocScoreOrder::kNumpy),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("image 'b'")));
}

TEST(VocEvalTest, ParsesResultsLines) {
  absl::StatusOr<std::vector<VocDetection>> detections =
      ParseVocResults("000001 0.900 11.0 11.0 30.0 30.0\n\n000002\t0.5  1 2 3 4\r\n", "c1.txt");
  ASSERT_THAT(detections, IsOk());
  ASSERT_EQ(detections->size(), 2u);
  EXPECT_EQ((*detections)[1].image_id, "000002");
  EXPECT_EQ((*detections)[1].ymax, 4);
  EXPECT_THAT(ParseVocResults("000001 0.9 1 2 3\n", "c1.txt"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("c1.txt:1: expected 6")));
  EXPECT_THAT(ParseVocResults("x 0.9 1 2 3 4\nx 0.9 1 2 3 four\n", "c1.txt"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("c1.txt:2: field 6 'four' is not a finite number")));
  EXPECT_THAT(ParseVocResults("x nan 1 2 3 4", "c1.txt"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("finite")));
}

// A small VOC layout in a temporary directory.
class VocDatasetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::path(::testing::TempDir()) /
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_ / "Annotations");
    std::filesystem::create_directories(root_ / "ImageSets" / "Main");
    std::filesystem::create_directories(root_ / "results");
    Write("ImageSets/Main/test.txt", "img1\nimg2\n");
    Write("Annotations/img1.xml",
          "<annotation><object><name>cat</name><difficult>0</difficult>"
          "<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>10</xmax><ymax>10</ymax></bndbox>"
          "</object></annotation>");
    Write("Annotations/img2.xml", "<annotation></annotation>");
    Write("results/cat.txt", "img1 0.900 1.0 1.0 10.0 10.0");
    options_.voc_root = root_.string();
    options_.results_dir = (root_ / "results").string();
  }

  void Write(const std::string& relative, const std::string& contents) {
    std::ofstream(root_ / relative) << contents;
  }

  std::filesystem::path root_;
  VocEvalOptions options_;
};

// detectron2 averages over every dataset class: one with neither ground truth nor detections
// counts as AP 0.
TEST_F(VocDatasetTest, ClassWithoutAnythingCountsAsZero) {
  absl::StatusOr<VocEvalResult> alone = EvaluateVoc(options_);
  ASSERT_THAT(alone, IsOk());
  ASSERT_EQ(alone->classes.size(), 1u);  // discovered from the annotations
  EXPECT_NEAR(alone->ap50, 100, 1e-9);
  EXPECT_NEAR(alone->ap, 100, 1e-9);

  Write("results/dog.txt", "");  // discovered from the results directory
  absl::StatusOr<VocEvalResult> with_dog = EvaluateVoc(options_);
  ASSERT_THAT(with_dog, IsOk());
  ASSERT_EQ(with_dog->classes.size(), 2u);
  EXPECT_EQ(with_dog->classes[1].name, "dog");
  EXPECT_NEAR(with_dog->ap50, 50, 1e-9);

  const proto::VocMetrics metrics = VocEvalResultToProto(*with_dog);
  EXPECT_EQ(metrics.metric(), "voc07_11pt");
  EXPECT_NEAR(metrics.ap50(), 50, 1e-9);
  ASSERT_EQ(metrics.per_class_size(), 2);
  EXPECT_EQ(metrics.per_class(0).name(), "cat");
  EXPECT_NEAR(metrics.per_class(0).ap50(), 100, 1e-9);
  EXPECT_EQ(metrics.per_class(1).name(), "dog");
  EXPECT_EQ(metrics.per_class(1).ap50(), 0);
}

TEST_F(VocDatasetTest, MissingFilesAreNamed) {
  options_.class_names = {"cat", "horse"};
  EXPECT_THAT(EvaluateVoc(options_), StatusIs(absl::StatusCode::kNotFound, HasSubstr("horse.txt")));
  options_.class_names = {};
  Write("ImageSets/Main/test.txt", "img1\nimg3\n");
  EXPECT_THAT(EvaluateVoc(options_), StatusIs(absl::StatusCode::kNotFound, HasSubstr("img3.xml")));
  options_.split = "val";
  EXPECT_THAT(EvaluateVoc(options_), StatusIs(absl::StatusCode::kNotFound, HasSubstr("val.txt")));
}

TEST_F(VocDatasetTest, BadResultsAndImageSetsAreNamed) {
  Write("results/cat.txt", "img1 0.900 1.0 1.0 10.0 10.0\nimg9 0.5 1 1 2 2\n");
  EXPECT_THAT(EvaluateVoc(options_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("cat.txt: detection on image 'img9', which is not in the image "
                                 "set")));
  Write("results/cat.txt", "img1 0.900 1.0 1.0 10.0\n");
  EXPECT_THAT(EvaluateVoc(options_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cat.txt:1: expected 6")));
  Write("ImageSets/Main/test.txt", "img1\nimg1\n");
  EXPECT_THAT(EvaluateVoc(options_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("test.txt:2: image id")));
  Write("ImageSets/Main/test.txt", "img1\n");
  Write("Annotations/img1.xml", "<annotation><object>");
  EXPECT_THAT(EvaluateVoc(options_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("img1.xml:1:")));
}

TEST(VocEvalTest, ParsesFlagsValues) {
  EXPECT_THAT(ParseVocMetric("area"), IsOk());
  EXPECT_THAT(ParseVocMetric("voc12"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseVocScoreOrder("stable"), IsOk());
  EXPECT_THAT(ParseVocScoreOrder("random"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace mochi::eval::voc
