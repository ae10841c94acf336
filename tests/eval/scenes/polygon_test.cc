#include "eval/scenes/polygon.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/data/rng.h"
#include "tests/eval/scenes/reference_raster.h"

namespace mochi::eval::scenes {
namespace {

using ::mochi::eval::scenes::testing::RasterisePolygons;
using ::testing::ElementsAre;
using ::testing::SizeIs;

int64_t TwicePolygonArea(const std::vector<int>& polygon) {
  int64_t sum = 0;
  const size_t n = polygon.size() / 2;
  for (size_t i = 0; i < n; ++i) {
    const size_t j = (i + 1) % n;
    sum += static_cast<int64_t>(polygon[2 * i]) * polygon[2 * j + 1] -
           static_cast<int64_t>(polygon[2 * j]) * polygon[2 * i + 1];
  }
  return sum;
}

Mask FromRows(const std::vector<std::string>& rows) {
  Mask mask(static_cast<int>(rows.size()), static_cast<int>(rows[0].size()));
  for (int y = 0; y < mask.height; ++y) {
    for (int x = 0; x < mask.width; ++x) mask.set(x, y, rows[y][x] == '1');
  }
  return mask;
}

// The test rasteriser agrees with pycocotools rleFrPoly on its integer-vertex golden cases
// (mask_primitives_expected.json: concave_L area 60, outside_canvas area 100, two_parts' square).
TEST(PolygonTest, ReferenceRasteriserMatchesRleFrPolyGoldens) {
  const Mask concave_l = RasterisePolygons({{1, 1, 10, 1, 10, 4, 4, 4, 4, 15, 1, 15}}, 24, 32);
  EXPECT_EQ(Area(concave_l), 60);
  EXPECT_EQ(TightBox(concave_l), (Box{1, 1, 9, 14}));
  EXPECT_TRUE(concave_l.at(3, 14));
  EXPECT_FALSE(concave_l.at(4, 4));
  const Mask outside = RasterisePolygons({{-5, -5, 10, -5, 10, 10, -5, 10}}, 24, 32);
  EXPECT_EQ(Area(outside), 100);
  EXPECT_EQ(TightBox(outside), (Box{0, 0, 10, 10}));
  EXPECT_EQ(Area(RasterisePolygons({{1, 1, 5, 1, 5, 5, 1, 5}}, 24, 32)), 16);
}

TEST(PolygonTest, HeaderExample) {
  const Mask mask = FromRows({"110", "010"});
  EXPECT_THAT(TraceMaskPolygons(mask),
              ElementsAre(ElementsAre(0, 0, 2, 0, 2, 2, 1, 2, 1, 1, 0, 1)));
}

TEST(PolygonTest, EmptyMaskHasNoPolygon) { EXPECT_THAT(TraceMaskPolygons(Mask(5, 5)), SizeIs(0)); }

TEST(PolygonTest, FullCanvasOutlineUsesCanvasCorners) {
  Mask mask(3, 4);
  for (uint8_t& bit : mask.bits) bit = 1;
  EXPECT_THAT(TraceMaskPolygons(mask), ElementsAre(ElementsAre(0, 0, 4, 0, 4, 3, 0, 3)));
}

TEST(PolygonTest, DiagonalNeighboursAreSeparatePolygons) {
  const Mask mask = FromRows({"100", "010", "001"});
  const std::vector<std::vector<int>> polygons = TraceMaskPolygons(mask);
  ASSERT_THAT(polygons, SizeIs(3));
  EXPECT_THAT(polygons[1], ElementsAre(1, 1, 2, 1, 2, 2, 1, 2));
  EXPECT_EQ(RasterisePolygons(polygons, 3, 3), mask);
}

// A bag-like ring: the hole is spliced in through a zero-width bridge and stays open.
TEST(PolygonTest, HoleStaysOpen) {
  const Mask mask = FromRows({
      "0000000",
      "0111110",
      "0100010",
      "0100010",
      "0111110",
      "0000000",
  });
  const std::vector<std::vector<int>> polygons = TraceMaskPolygons(mask);
  ASSERT_THAT(polygons, SizeIs(1));
  EXPECT_EQ(RasterisePolygons(polygons, mask.height, mask.width), mask);
  // Outer 5x4 minus hole 3x2: the bridge adds no area.
  EXPECT_EQ(TwicePolygonArea(polygons[0]), 2 * Area(mask));
}

// Diagonal touches inside a component (a saddle), nested rings and a pixel inside a hole.
TEST(PolygonTest, SaddlesAndNestedRings) {
  const Mask mask = FromRows({
      "111111111",
      "100000001",
      "101110101",
      "101010011",
      "101110101",
      "100000001",
      "111111111",
  });
  const std::vector<std::vector<int>> polygons = TraceMaskPolygons(mask);
  EXPECT_EQ(RasterisePolygons(polygons, mask.height, mask.width), mask);
  int64_t area = 0;
  for (const std::vector<int>& polygon : polygons) area += TwicePolygonArea(polygon);
  EXPECT_EQ(area, 2 * Area(mask));
}

// Rasterising the traced polygons gives back exactly the mask, and their area is the mask
// area, on random masks with many components, holes and diagonal contacts.
TEST(PolygonTest, RandomMasksRasteriseBackExactly) {
  data::Rng rng(11);
  for (int trial = 0; trial < 300; ++trial) {
    const int h = 1 + static_cast<int>(rng.UniformInt(24));
    const int w = 1 + static_cast<int>(rng.UniformInt(24));
    const double density = rng.Uniform(0.2, 0.8);
    Mask mask(h, w);
    for (uint8_t& bit : mask.bits) bit = rng.Bernoulli(density);
    const std::vector<std::vector<int>> polygons = TraceMaskPolygons(mask);
    ASSERT_EQ(RasterisePolygons(polygons, h, w), mask) << "trial " << trial;
    int64_t area = 0;
    for (const std::vector<int>& polygon : polygons) {
      EXPECT_GE(polygon.size(), 8u);
      EXPECT_EQ(polygon.size() % 2, 0u);
      for (size_t i = 0; i < polygon.size(); i += 2) {
        EXPECT_GE(polygon[i], 0);
        EXPECT_LE(polygon[i], w);
        EXPECT_GE(polygon[i + 1], 0);
        EXPECT_LE(polygon[i + 1], h);
      }
      area += TwicePolygonArea(polygon);
    }
    EXPECT_EQ(area, 2 * Area(mask)) << "trial " << trial;
  }
}

}  // namespace
}  // namespace mochi::eval::scenes
