// The scene generator writes instance masks as polygons traced from the mask; the COCO evaluator
// rasterises polygons as pycocotools' rleFrPoly. The two must give back the very same pixels, or
// every segm AP on the scenes would be measured against a slightly different mask.
#include <cstdint>
#include <random>
#include <vector>

#include "eval/coco/mask.h"
#include "eval/scenes/mask.h"
#include "eval/scenes/polygon.h"
#include "gtest/gtest.h"

namespace mochi::eval::coco {
namespace {

// A random blob: a union of random rectangles with random pixels removed (holes, thin parts).
eval::scenes::Mask RandomBlob(std::mt19937_64& rng, int height, int width) {
  eval::scenes::Mask mask(height, width);
  const int rectangles = 1 + static_cast<int>(rng() % 4);
  for (int r = 0; r < rectangles; ++r) {
    const int x0 = static_cast<int>(rng() % width), y0 = static_cast<int>(rng() % height);
    const int x1 = x0 + static_cast<int>(rng() % (width - x0)) + 1;
    const int y1 = y0 + static_cast<int>(rng() % (height - y0)) + 1;
    for (int y = y0; y < y1; ++y) {
      for (int x = x0; x < x1; ++x) mask.set(x, y);
    }
  }
  const int holes = static_cast<int>(rng() % 6);
  for (int h = 0; h < holes; ++h) {
    mask.set(static_cast<int>(rng() % width), static_cast<int>(rng() % height), false);
  }
  return mask;
}

TEST(ScenePolygonsTest, TracedPolygonsRasteriseBackToTheMaskAsPycocotoolsDoes) {
  std::mt19937_64 rng(2020);
  int checked = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const int height = 4 + static_cast<int>(rng() % 20), width = 4 + static_cast<int>(rng() % 20);
    const eval::scenes::Mask mask = RandomBlob(rng, height, width);
    const std::vector<std::vector<int>> traced = eval::scenes::TraceMaskPolygons(mask);
    if (traced.empty()) continue;
    std::vector<std::vector<double>> polygons;
    for (const std::vector<int>& polygon : traced)
      polygons.emplace_back(polygon.begin(), polygon.end());
    absl::StatusOr<Rle> rle = RleFromPolygons(polygons, height, width);
    ASSERT_TRUE(rle.ok()) << rle.status();
    const BinaryMask decoded = DecodeRle(*rle);
    ASSERT_EQ(decoded.height, static_cast<uint32_t>(height));
    ASSERT_EQ(decoded.width, static_cast<uint32_t>(width));
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        ASSERT_EQ(decoded.at(x, y), mask.at(x, y))
            << "trial " << trial << ": pixel (" << x << ", " << y << ") of a " << width << "x"
            << height << " mask";
      }
    }
    EXPECT_EQ(RleArea(*rle), static_cast<uint64_t>(eval::scenes::Area(mask)));
    ++checked;
  }
  EXPECT_GT(checked, 250);
}

}  // namespace
}  // namespace mochi::eval::coco
