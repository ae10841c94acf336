#include "eval/coco/mask.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/port/text_proto.h"
#include "nlohmann/json.hpp"
#include "tests/testing/status_matchers.h"

namespace mochi::eval::coco {
namespace {

using ::mochi::testing::IsOk;
using ::mochi::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using Json = nlohmann::json;

constexpr char kPrimitives[] = "tests/eval/testdata/eval_golden/mask_primitives_expected.json";

Json ReadJson(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  EXPECT_THAT(text, IsOk());
  return text.ok() ? Json::parse(*text) : Json();
}

// Rows of '0'/'1' characters (row-major, as the golden file prints masks).
BinaryMask MaskFromRows(const std::vector<std::string>& rows) {
  BinaryMask mask{static_cast<uint32_t>(rows.size()),
                  static_cast<uint32_t>(rows.empty() ? 0 : rows[0].size()),
                  {}};
  for (const std::string& row : rows) {
    for (char c : row) mask.pixels.push_back(c == '1');
  }
  return mask;
}

std::vector<std::string> RowsFromMask(const BinaryMask& mask) {
  std::vector<std::string> rows;
  for (uint32_t y = 0; y < mask.height; ++y) {
    std::string row;
    for (uint32_t x = 0; x < mask.width; ++x) row.push_back(mask.at(x, y) ? '1' : '0');
    rows.push_back(row);
  }
  return rows;
}

Rle PolygonsOrDie(const Json& polygons, int64_t height, int64_t width) {
  absl::StatusOr<Rle> rle =
      RleFromPolygons(polygons.get<std::vector<std::vector<double>>>(), height, width);
  EXPECT_THAT(rle, IsOk());
  return rle.ok() ? *rle : Rle{};
}

// pycocotools frPyObjects + merge, area, toBbox and decode on six polygons (sub-pixel, concave,
// touching the border, two parts, partly outside the canvas).
TEST(MaskTest, PolygonsMatchPycocotools) {
  const Json golden = ReadJson(kPrimitives);
  const int64_t height = golden["height"], width = golden["width"];
  ASSERT_EQ(golden["polygons"].size(), 6u);
  for (const auto& [name, expected] : golden["polygons"].items()) {
    SCOPED_TRACE(name);
    const Rle rle = PolygonsOrDie(expected["polygon"], height, width);
    EXPECT_THAT(ValidateRle(rle), IsOk());
    EXPECT_EQ(EncodeRleCounts(rle), expected["rle_counts"].get<std::string>());
    EXPECT_EQ(RleArea(rle), expected["area"].get<uint64_t>());
    const std::vector<double> box = expected["bbox"];
    EXPECT_EQ(RleToBox(rle), (Box{box[0], box[1], box[2], box[3]}));
    EXPECT_THAT(RowsFromMask(DecodeRle(rle)),
                ElementsAreArray(expected["mask_rows"].get<std::vector<std::string>>()));
  }
}

TEST(MaskTest, RasterToRleMatchesPycocotools) {
  const Json expected = ReadJson(kPrimitives)["masks"]["box_plus_corner"];
  const BinaryMask mask = MaskFromRows(expected["rows"]);
  const Rle rle = EncodeMask(mask);
  // Column-major runs starting with background.
  EXPECT_THAT(rle.counts,
              ElementsAreArray(expected["uncompressed_counts"].get<std::vector<uint32_t>>()));
  EXPECT_EQ(EncodeRleCounts(rle), expected["rle_counts"].get<std::string>());
  EXPECT_EQ(RleArea(rle), expected["area"].get<uint64_t>());
  const std::vector<double> box = expected["bbox"];
  EXPECT_EQ(RleToBox(rle), (Box{box[0], box[1], box[2], box[3]}));
  absl::StatusOr<Rle> decoded =
      DecodeRleCounts(expected["rle_counts"].get<std::string>(), mask.height, mask.width);
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(*decoded, rle);
  EXPECT_EQ(DecodeRle(rle).pixels, mask.pixels);
}

TEST(MaskTest, SegmIousMatchPycocotools) {
  const Json golden = ReadJson(kPrimitives);
  const int64_t height = golden["height"], width = golden["width"];
  const Json& case_ = golden["iou"]["segm"];
  std::vector<Rle> detections, truths;
  for (const Json& name : case_["dt"]) {
    detections.push_back(
        PolygonsOrDie(golden["polygons"][name.get<std::string>()]["polygon"], height, width));
  }
  for (const Json& name : case_["gt"]) {
    truths.push_back(
        PolygonsOrDie(golden["polygons"][name.get<std::string>()]["polygon"], height, width));
  }
  const std::vector<int> crowd = case_["iscrowd"];
  for (size_t d = 0; d < detections.size(); ++d) {
    for (size_t g = 0; g < truths.size(); ++g) {
      // The golden values are printed with 8 decimals.
      EXPECT_NEAR(RleIou(detections[d], truths[g], crowd[g] != 0),
                  case_["ious"][d][g].get<double>(), 1e-8)
          << "dt " << d << " gt " << g;
    }
  }
}

TEST(MaskTest, BoxIousMatchPycocotools) {
  const Json case_ = ReadJson(kPrimitives)["iou"]["bbox_xywh"];
  const std::vector<std::vector<double>> detections = case_["dt"], truths = case_["gt"];
  const std::vector<int> crowd = case_["iscrowd"];
  for (size_t d = 0; d < detections.size(); ++d) {
    for (size_t g = 0; g < truths.size(); ++g) {
      const auto& a = detections[d];
      const auto& b = truths[g];
      EXPECT_NEAR(BoxIou({a[0], a[1], a[2], a[3]}, {b[0], b[1], b[2], b[3]}, crowd[g] != 0),
                  case_["ious"][d][g].get<double>(), 1e-8)
          << "dt " << d << " gt " << g;
    }
  }
}

TEST(MaskTest, EncodeIsColumnMajorStartingWithBackground) {
  // Rows "01" / "11" / "00": column 0 is (0, 1, 0), column 1 is (1, 1, 0).
  const Rle rle = EncodeMask(MaskFromRows({"01", "11", "00"}));
  EXPECT_EQ(rle.height, 3u);
  EXPECT_EQ(rle.width, 2u);
  EXPECT_THAT(rle.counts, ElementsAre(1, 1, 1, 2, 1));
  // A mask that starts with foreground begins with an empty background run.
  EXPECT_THAT(EncodeMask(MaskFromRows({"10", "00"})).counts, ElementsAre(0, 1, 3));
  EXPECT_THAT(EncodeMask(MaskFromRows({"00", "00"})).counts, ElementsAre(4));
}

TEST(MaskTest, RandomMasksRoundTrip) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    BinaryMask mask{1 + rng() % 40, 1 + rng() % 40, {}};
    const uint32_t density = rng() % 100;
    for (uint32_t i = 0; i < mask.height * mask.width; ++i) {
      mask.pixels.push_back(rng() % 100 < density);
    }
    const Rle rle = EncodeMask(mask);
    ASSERT_THAT(ValidateRle(rle), IsOk());
    EXPECT_EQ(DecodeRle(rle).pixels, mask.pixels);
    absl::StatusOr<Rle> from_string = DecodeRleCounts(EncodeRleCounts(rle), rle.height, rle.width);
    ASSERT_THAT(from_string, IsOk());
    EXPECT_EQ(*from_string, rle);
    uint64_t area = 0;
    for (uint8_t p : mask.pixels) area += p;
    EXPECT_EQ(RleArea(rle), area);
  }
}

TEST(MaskTest, CompressedCountsUseDeltasAfterIndexTwo) {
  // Counts 0..2 are written as they are (20000 needs several 5-bit groups); count 3 is written as
  // 1 - 7 = -6 and count 4 as 0 - 20000, negative deltas.
  const Rle rle{1, 20013, {5, 7, 20000, 1, 0}};
  const std::string counts = EncodeRleCounts(rle);
  absl::StatusOr<Rle> decoded = DecodeRleCounts(counts, 1, 20013);
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(*decoded, rle);
  EXPECT_EQ(EncodeRleCounts(Rle{1, 1, {1}}), "1");
  EXPECT_EQ(EncodeRleCounts(Rle{2, 1, {0, 2}}), "02");
}

TEST(MaskTest, DecodeRejectsMalformedCounts) {
  EXPECT_THAT(DecodeRleCounts("1 ", 1, 2),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("outside")));
  EXPECT_THAT(DecodeRleCounts("P", 1, 1),  // 'P' = 48 + 0x20: more groups promised
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("middle of a count")));
  EXPECT_THAT(DecodeRleCounts("3", 1, 2),  // one run of 3 on a 2-pixel canvas
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("add up to 3")));
  EXPECT_THAT(DecodeRleCounts("", 0, 0), IsOk());
}

// Hand-drawn: the rectangle with corners (1, 1) and (4, 3) on a 5x6 canvas covers pixels x = 1..3,
// y = 1..2. On the 5x grid its top and bottom edges lie at rows 5 and 15, which become the run
// boundaries ceil((5 + .5) / 5 - .5) = 1 and ceil((15 + .5) / 5 - .5) = 3 in each of the columns
// whose centre the edges cross (grid x = 7, 12, 17, i.e. pixel columns 1, 2, 3).
TEST(MaskTest, RasterisesHandDrawnRectangle) {
  const Rle rle = RleFromPolygon({1, 1, 4, 1, 4, 3, 1, 3}, /*height=*/5, /*width=*/6);
  // Run boundaries at column * 5 + row: 6, 8 (column 1), 11, 13, 16, 18, and the end at 30.
  EXPECT_THAT(rle.counts, ElementsAre(6, 2, 3, 2, 3, 2, 12));
  EXPECT_EQ(RleArea(rle), 6u);
  EXPECT_EQ(RleToBox(rle), (Box{1, 1, 3, 2}));
  // The same rectangle as a box, and with a repeated vertex (pycocotools divides 0 by 0 there).
  EXPECT_EQ(RleFromBox({1, 1, 3, 2}, 5, 6), rle);
  EXPECT_EQ(RleFromPolygon({1, 1, 1, 1, 4, 1, 4, 3, 1, 3}, 5, 6), rle);
  // Wound the other way round.
  EXPECT_EQ(RleFromPolygon({1, 3, 4, 3, 4, 1, 1, 1}, 5, 6), rle);
}

TEST(MaskTest, PolygonListReadsFourNumbersAsBoxes) {
  absl::StatusOr<Rle> boxes = RleFromPolygons({{1, 1, 3, 2}}, 5, 6);
  ASSERT_THAT(boxes, IsOk());
  EXPECT_EQ(*boxes, RleFromPolygon({1, 1, 4, 1, 4, 3, 1, 3}, 5, 6));
  EXPECT_THAT(RleFromPolygons({}, 5, 6), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(RleFromPolygons({{1, 1, 4, 1}, {1, 1, 4, 1, 4}}, 5, 6),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("boxes")));
  EXPECT_THAT(RleFromPolygons({{1, 1, 4, 1, 4, 3, 1}}, 5, 6),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("even")));
  EXPECT_THAT(RleFromPolygons({{1, 1, 4}}, 5, 6),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("3 points")));
  EXPECT_THAT(RleFromPolygons({{1, 1, 4, 1, 4, 3}}, 0, 6),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("canvas")));
  EXPECT_THAT(RleFromPolygons({{1, 1, 4, 1, 4, 3e9}}, 5, 6),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("outside")));
  std::vector<double> zigzag;
  for (int i = 0; i < 100; ++i) zigzag.insert(zigzag.end(), {-1e6, 0, 1e6, 1});
  EXPECT_THAT(RleFromPolygons({zigzag}, 5, 6),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("too long")));
}

TEST(MaskTest, MergeUnitesOrIntersects) {
  const Rle left = EncodeMask(MaskFromRows({"110", "110"}));
  const Rle right = EncodeMask(MaskFromRows({"011", "000"}));
  absl::StatusOr<Rle> both = MergeRles({left, right}, /*intersect=*/false);
  ASSERT_THAT(both, IsOk());
  EXPECT_THAT(RowsFromMask(DecodeRle(*both)), ElementsAre("111", "110"));
  absl::StatusOr<Rle> common = MergeRles({left, right}, /*intersect=*/true);
  ASSERT_THAT(common, IsOk());
  EXPECT_THAT(RowsFromMask(DecodeRle(*common)), ElementsAre("010", "000"));
  EXPECT_THAT(MergeRles({left, EncodeMask(MaskFromRows({"1"}))}, false),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("different sizes")));
}

TEST(MaskTest, BoxOfRunAcrossColumnsSpansFullHeight) {
  // Foreground from (x=0, y=2) to (x=1, y=0) in column-major order: the C code cannot tell which
  // rows the run covers and takes them all.
  const Rle rle{3, 2, {2, 2, 2}};
  EXPECT_EQ(RleToBox(rle), (Box{0, 0, 2, 3}));
  EXPECT_EQ(RleToBox(Rle{3, 2, {6}}), (Box{0, 0, 0, 0}));
}

TEST(MaskTest, BoxIouHasNoPlusOneAndCrowdDividesByDetectionArea) {
  // [0,0,10,10] vs [1,1,10,10]: intersection 9 * 9 = 81, union 100 + 100 - 81 = 119.
  EXPECT_DOUBLE_EQ(BoxIou({0, 0, 10, 10}, {1, 1, 10, 10}, false), 81.0 / 119.0);
  // A detection inside a crowd region covers it entirely as far as the detection is concerned.
  EXPECT_DOUBLE_EQ(BoxIou({5, 5, 10, 10}, {0, 0, 100, 100}, true), 1.0);
  EXPECT_DOUBLE_EQ(BoxIou({0, 0, 10, 10}, {10, 0, 10, 10}, false), 0.0);  // touching
}

TEST(MaskTest, MaskIouOfDifferentSizesIsMinusOneOnlyWhenBoxesOverlap) {
  const Rle a = EncodeMask(MaskFromRows({"11", "11"}));
  const Rle b = EncodeMask(MaskFromRows({"110", "110", "000"}));
  EXPECT_EQ(RleIou(a, b, false), -1);
  const Rle far = EncodeMask(MaskFromRows({"000", "000", "001"}));
  EXPECT_EQ(RleIou(a, far, false), 0);
  // Crowd: intersection over the detection's area.
  const Rle half = EncodeMask(MaskFromRows({"10", "10"}));
  EXPECT_DOUBLE_EQ(RleIou(a, half, true), 2.0 / 4.0);
  EXPECT_DOUBLE_EQ(RleIou(half, a, true), 1.0);
  EXPECT_DOUBLE_EQ(RleIou(half, a, false), 0.5);
}

}  // namespace
}  // namespace mochi::eval::coco
