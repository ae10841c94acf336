#include "mochi/data/scenes/rle.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/data/rng.h"
#include "tests/testing/status_matchers.h"

namespace mochi::data::scenes {
namespace {

using ::mochi::testing::IsOk;
using ::mochi::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

// Sets pixels [begin, end) in column-major order.
void SetColumnMajor(Mask* mask, int begin, int end) {
  for (int k = begin; k < end; ++k) mask->set(k / mask->height, k % mask->height);
}

Mask FromRows(const std::vector<std::string>& rows) {
  Mask mask(static_cast<int>(rows.size()), static_cast<int>(rows[0].size()));
  for (int y = 0; y < mask.height; ++y) {
    for (int x = 0; x < mask.width; ++x) mask.set(x, y, rows[y][x] == '1');
  }
  return mask;
}

TEST(RleTest, EncodesColumnMajorStartingWithBackground) {
  Mask mask(2, 2);
  mask.set(1, 0);  // column-major order: (0,0) (0,1) (1,0) (1,1)
  EXPECT_THAT(EncodeRle(mask), ElementsAre(2, 1, 1));
  mask.set(0, 0);
  EXPECT_THAT(EncodeRle(mask), ElementsAre(0, 1, 1, 1, 1));
  EXPECT_THAT(EncodeRle(Mask(3, 4)), ElementsAre(12));
}

// A 10 x 15 mask whose runs are 5, 40, 2, 3, 100: the fourth count is coded as 3 - 40 = -37
// and the fifth as 100 - 2 = 98. By hand (char = 48 + 5-bit group, + 0x20 if more follow):
//   5   -> group 5                                  -> '5'
//   40  -> groups 8 (more), 1                       -> 'X' (48+8+32), '1'
//   2   -> group 2                                  -> '2'
//   -37 -> groups 27 (more: 0x10 set, rest -2), 30  -> 'k' (48+27+32), 'N' (48+30: 0x10 = sign)
//   98  -> groups 2 (more), 3                       -> 'R' (48+2+32), '3'
TEST(RleTest, CompressedStringMatchesHandComputedCoding) {
  Mask mask(10, 15);
  SetColumnMajor(&mask, 5, 45);
  SetColumnMajor(&mask, 47, 50);
  const std::vector<uint32_t> counts = EncodeRle(mask);
  EXPECT_THAT(counts, ElementsAre(5, 40, 2, 3, 100));
  EXPECT_EQ(RleCountsToString(counts), "5X12kNR3");
  absl::StatusOr<std::vector<uint32_t>> parsed = RleCountsFromString("5X12kNR3");
  ASSERT_THAT(parsed, IsOk());
  EXPECT_THAT(*parsed, ElementsAre(5, 40, 2, 3, 100));
}

// Golden strings from pycocotools (maskApi.c at cocoapi 8c9bcc3), data-and-eval.md §4.3.
TEST(RleTest, MatchesPycocotoolsGoldenStrings) {
  // mask_primitives_expected.json "box_plus_corner" (24 x 32).
  Mask box_plus_corner(24, 32);
  box_plus_corner.set(31, 0);
  for (int y = 5; y <= 8; ++y) {
    for (int x = 3; x <= 6; ++x) box_plus_corner.set(x, y);
  }
  EXPECT_THAT(EncodeRle(box_plus_corner), ElementsAre(77, 4, 20, 4, 20, 4, 20, 4, 591, 1, 23));
  EXPECT_EQ(RleCountsToString(EncodeRle(box_plus_corner)), "]24d000000ka0MX^O");

  // "concave_L": polygon [1,1, 10,1, 10,4, 4,4, 4,15, 1,15] rasterised by rleFrPoly.
  Mask concave_l(24, 32);
  for (int y = 1; y <= 14; ++y) {
    for (int x = 1; x <= (y <= 3 ? 9 : 3); ++x) concave_l.set(x, y);
  }
  EXPECT_EQ(RleCountsToString(EncodeRle(concave_l)), "i0>:0000E;000000000_`0");

  // "triangle": polygon [2,2, 20,3, 8,18] (sub-pixel edges), rows from the golden file.
  const Mask triangle = FromRows({
      "00000000000000000000000000000000", "00000000000000000000000000000000",
      "00111111111000000000000000000000", "00011111111111111111000000000000",
      "00011111111111111110000000000000", "00011111111111111100000000000000",
      "00001111111111111000000000000000", "00001111111111110000000000000000",
      "00001111111111110000000000000000", "00000111111111100000000000000000",
      "00000111111111000000000000000000", "00000011111110000000000000000000",
      "00000011111100000000000000000000", "00000011111100000000000000000000",
      "00000001111000000000000000000000", "00000001110000000000000000000000",
      "00000001100000000000000000000000", "00000000000000000000000000000000",
      "00000000000000000000000000000000", "00000000000000000000000000000000",
      "00000000000000000000000000000000", "00000000000000000000000000000000",
      "00000000000000000000000000000000", "00000000000000000000000000000000",
  });
  EXPECT_EQ(RleCountsToString(EncodeRle(triangle)), "b11g03M3M2N3M3M00O1O2N1N2O1O1O1N2O1O1On8");
}

TEST(RleTest, RandomMasksRoundTrip) {
  Rng rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    const int h = 1 + static_cast<int>(rng.UniformInt(40));
    const int w = 1 + static_cast<int>(rng.UniformInt(40));
    Mask mask(h, w);
    // Long runs and single pixels, so deltas of both signs and multi-group values occur.
    const int density = static_cast<int>(rng.UniformInt(4));
    for (uint8_t& bit : mask.bits) {
      bit = density == 0 ? rng.Bernoulli(0.5) : (rng.UniformInt(40) == 0 ? 1 - bit : bit);
    }
    for (int x = 0; x < w; ++x) {
      for (int y = 1; y < h && density > 0; ++y) {
        if (rng.UniformInt(8) != 0) mask.set(x, y, mask.at(x, y - 1));
      }
    }
    const std::vector<uint32_t> counts = EncodeRle(mask);
    absl::StatusOr<Mask> decoded = DecodeRle(h, w, counts);
    ASSERT_THAT(decoded, IsOk());
    EXPECT_EQ(*decoded, mask) << "trial " << trial;
    absl::StatusOr<std::vector<uint32_t>> parsed = RleCountsFromString(RleCountsToString(counts));
    ASSERT_THAT(parsed, IsOk());
    EXPECT_THAT(*parsed, ElementsAreArray(counts)) << "trial " << trial;
  }
}

TEST(RleTest, LargeCountsRoundTrip) {
  const std::vector<uint32_t> counts = {0, 1u << 20, 7, 123456789, 1, 0, 3000000000u};
  absl::StatusOr<std::vector<uint32_t>> parsed = RleCountsFromString(RleCountsToString(counts));
  ASSERT_THAT(parsed, IsOk());
  EXPECT_THAT(*parsed, ElementsAreArray(counts));
}

TEST(RleTest, RejectsMalformedInput) {
  EXPECT_THAT(DecodeRle(2, 2, {1, 2}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sum to 3, expected 4")));
  EXPECT_THAT(RleCountsFromString("5X"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ends inside a count")));
  EXPECT_THAT(RleCountsFromString("5 1"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("outside '0'..'o'")));
  // 'K' is the delta -5: the fourth count would be 1 - 5 < 0.
  EXPECT_THAT(RleCountsFromString("111K"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("decodes to")));
}

}  // namespace
}  // namespace mochi::data::scenes
