// Mutation fuzzing of the COCO JSON readers (tests/testing:mutation_fuzz): mutated ground truths
// (boxes, polygons, uncompressed and compressed RLE) and mutated results. Every input must parse
// or fail with a clear error; whatever parses is evaluated (bbox and segm), which must also
// return an error or twelve numbers in [0, 1] or -1.
#include <memory>
#include <string>

#include "eval/coco/coco_eval.h"
#include "eval/coco/coco_json.h"
#include "gtest/gtest.h"
#include "mochi/port/text_proto.h"
#include "tests/testing/mutation_fuzz.h"

namespace mochi::eval::coco {
namespace {

constexpr char kGolden[] = "tests/eval/testdata/eval_golden/";

// The file's text; empty (and the test failed) when it cannot be read.
std::string Read(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : "";
}

// A ground truth with every segmentation form: polygons, uncompressed RLE (a crowd), compressed.
constexpr char kMasksGt[] = R"({"images": [{"id": 1, "height": 6, "width": 5}],
 "categories": [{"id": 1, "name": "a"}],
 "annotations": [
  {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 3, 3], "area": 9, "iscrowd": 0,
   "segmentation": [[0.5, 0.5, 3.0, 0.5, 3.0, 3.0, 0.5, 3.0], [4, 4, 5, 4, 5, 6]]},
  {"id": 2, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2], "area": 4, "iscrowd": 1,
   "segmentation": {"size": [6, 5], "counts": [7, 2, 4, 2, 15]}},
  {"id": 3, "image_id": 1, "category_id": 1, "bbox": [2, 2, 2, 2], "area": 4, "iscrowd": 0,
   "segmentation": {"size": [6, 5], "counts": ">2404"}}]})";
constexpr char kMasksDt[] = R"([{"image_id": 1, "category_id": 1, "score": 0.5,
  "segmentation": {"size": [6, 5], "counts": "142000;"}},
 {"image_id": 1, "category_id": 1, "score": 0.7, "bbox": [0, 0, 2, 2]}])";

const std::vector<std::string> kDictionary = {
    "null",       "true",        "[]",         "{}",           "\"\"",
    "-1",         "0",           "1e999",      "-1e999",       "99999999999999999999",
    "4294967296", "1.5",         "\"counts\"", "\"size\"",     "\"segmentation\"",
    "\"bbox\"",   "\"iscrowd\"", "\"area\"",   "\"image_id\"", "\"category_id\"",
    "\"id\"",     "\"height\"",  "\"width\"",  "\"score\"",    "[[",
    "]]",         ",",           ":",          "\"~~~~\"",     "\"0\""};

// Half the inputs byte-level mutations (the readers' syntax errors), half structure-aware ones
// (their checks of types, ranges and references, and the evaluation behind them).
testing::MutateFn HalfBytesHalfJson() {
  auto bytes = std::make_shared<testing::Mutator>(1, kDictionary);
  auto json = std::make_shared<testing::JsonMutator>(2);
  auto calls = std::make_shared<int64_t>(0);
  return [=](const std::string& seed) {
    return ++*calls % 2 == 0 ? bytes->Mutate(seed) : json->Mutate(seed);
  };
}

void CheckStats(const absl::StatusOr<CocoStats>& stats) {
  if (!stats.ok()) {
    EXPECT_FALSE(stats.status().message().empty());
    return;
  }
  for (double v : stats->values) {
    EXPECT_TRUE(v == -1 || (v >= 0 && v <= 1)) << "a summary number outside [0, 1]: " << v;
  }
}

// Parses `gt_text` for boxes and for masks; what parses is evaluated with the seed results.
// OK when either parse accepts it (the box-only seeds have no masks to parse).
absl::Status FuzzGroundTruth(const std::string& gt_text, const std::vector<std::string>& results) {
  absl::Status error = absl::OkStatus();
  bool accepted = false;
  for (IouType type : {IouType::kBbox, IouType::kSegm}) {
    absl::StatusOr<CocoGroundTruth> gt = ParseCocoGroundTruth(gt_text, "fuzz_gt.json", type);
    if (!gt.ok()) {
      error = gt.status();
      continue;
    }
    accepted = true;
    for (const std::string& dt_text : results) {
      absl::StatusOr<std::vector<CocoInstance>> dt =
          ParseCocoResults(dt_text, "dt.json", *gt, type);
      if (dt.ok()) CheckStats(EvaluateCoco(*gt, *dt, type));
    }
  }
  return accepted ? absl::OkStatus() : error;
}

TEST(CocoJsonFuzzTest, MutatedGroundTruth) {
  const std::vector<std::string> seeds = {Read(std::string(kGolden) + "f1_boxes_ties_gt.json"),
                                          Read(std::string(kGolden) + "f3_maxdets_gt.json"),
                                          kMasksGt};
  const std::vector<std::string> results = {Read(std::string(kGolden) + "f1_boxes_ties_dt.json"),
                                            kMasksDt};
  const testing::FuzzReport report =
      testing::FuzzParser(seeds, 10000, HalfBytesHalfJson(),
                          [&](const std::string& gt) { return FuzzGroundTruth(gt, results); });
  EXPECT_EQ(report.failures, 0) << report.first_failure;
  EXPECT_GT(report.rejected, 1000);
  EXPECT_GT(report.accepted, 500);  // at least 5% reach the evaluation
}

TEST(CocoJsonFuzzTest, MutatedResults) {
  // (ground truth, results, IoU types the ground truth has)
  struct Case {
    std::string gt_text, dt_text;
    std::vector<IouType> types;
    std::vector<CocoGroundTruth> gts;  // parsed for each type
  };
  std::vector<Case> cases = {{Read(std::string(kGolden) + "f1_boxes_ties_gt.json"),
                              Read(std::string(kGolden) + "f1_boxes_ties_dt.json"),
                              {IouType::kBbox},
                              {}},
                             {kMasksGt, kMasksDt, {IouType::kBbox, IouType::kSegm}, {}}};
  for (Case& c : cases) {
    for (IouType type : c.types) {
      absl::StatusOr<CocoGroundTruth> gt = ParseCocoGroundTruth(c.gt_text, "gt.json", type);
      ASSERT_TRUE(gt.ok()) << gt.status();
      c.gts.push_back(*gt);
    }
  }
  int index = 0;
  const testing::FuzzReport report =
      testing::FuzzParser({cases[0].dt_text, cases[1].dt_text}, 10000, HalfBytesHalfJson(),
                          [&](const std::string& dt_text) {
                            const Case& c = cases[index++ % 2];
                            absl::Status first_error = absl::OkStatus();
                            for (size_t t = 0; t < c.types.size(); ++t) {
                              const IouType type = c.types[t];
                              const CocoGroundTruth& gt = c.gts[t];
                              absl::StatusOr<std::vector<CocoInstance>> dt =
                                  ParseCocoResults(dt_text, "fuzz_dt.json", gt, type);
                              if (!dt.ok()) {
                                if (first_error.ok()) first_error = dt.status();
                                continue;
                              }
                              CheckStats(EvaluateCoco(gt, *dt, type));
                            }
                            return first_error;
                          });
  EXPECT_EQ(report.failures, 0) << report.first_failure;
  EXPECT_GT(report.rejected, 1000);
  EXPECT_GT(report.accepted, 500);  // at least 5% reach the evaluation
}

}  // namespace
}  // namespace mochi::eval::coco
