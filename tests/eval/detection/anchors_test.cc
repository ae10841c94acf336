#include "eval/detection/anchors.h"

#include <cmath>
#include <vector>

#include "ATen/ATen.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mochi::eval::detection {
namespace {

using ::mochi::testing::StatusIs;
using ::testing::DoubleNear;
using ::testing::Pointwise;

std::vector<double> Values(const at::Tensor& t) {
  const at::Tensor flat = t.to(at::kDouble).contiguous().reshape(-1);
  return std::vector<double>(flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel());
}

TEST(AnchorGeneratorTest, C4CellAnchorsAreSizeMajor) {
  auto generator = AnchorGenerator::Create({});  // sizes 32..512, ratios 0.5, 1, 2, stride 16
  MOCHI_ASSERT_OK(generator);
  EXPECT_EQ(generator->num_cell_anchors(), 15);
  const at::Tensor cell = generator->cell_anchors();
  EXPECT_EQ(cell.scalar_type(), at::kFloat);
  // Size 32: area 1024. Ratio 0.5 (height / width): w = sqrt(2048) = 45.2548, h = 22.6274.
  const double r = std::sqrt(2048.0) / 2;  // 22.627417
  EXPECT_THAT(Values(cell.slice(0, 0, 3)),
              Pointwise(DoubleNear(1e-4), std::vector<double>{-r, -r / 2, r, r / 2,  //
                                                              -16, -16, 16, 16,      //
                                                              -r / 2, -r, r / 2, r}));
  // Row 3 is size 64, ratio 0.5; the last is size 512, ratio 2.
  EXPECT_THAT(Values(cell[3]),
              Pointwise(DoubleNear(1e-4), std::vector<double>{-2 * r, -r, 2 * r, r}));
  EXPECT_THAT(Values(cell[14]),
              Pointwise(DoubleNear(1e-3), std::vector<double>{-8 * r, -16 * r, 8 * r, 16 * r}));
  // Every cell anchor has the area of its size.
  const at::Tensor area =
      (cell.select(1, 2) - cell.select(1, 0)) * (cell.select(1, 3) - cell.select(1, 1));
  EXPECT_THAT(Values(area),
              Pointwise(DoubleNear(1e-1),
                        std::vector<double>{1024, 1024, 1024, 4096, 4096, 4096, 16384, 16384, 16384,
                                            65536, 65536, 65536, 262144, 262144, 262144}));
}

TEST(AnchorGeneratorTest, TwoByTwoMapIsCellMajorRowMajor) {
  AnchorGeneratorOptions options;
  options.sizes = {32};
  options.aspect_ratios = {1};
  auto generator = AnchorGenerator::Create(options);
  MOCHI_ASSERT_OK(generator);
  auto anchors = generator->GridAnchors(2, 2);
  MOCHI_ASSERT_OK(anchors);
  // Offset 0: cell centres (x, y) = (0, 0), (16, 0), (0, 16), (16, 16).
  EXPECT_THAT(Values(*anchors),
              Pointwise(DoubleNear(1e-6), std::vector<double>{-16, -16, 16, 16,  //
                                                              0, -16, 32, 16,    //
                                                              -16, 0, 16, 32,    //
                                                              0, 0, 32, 32}));
}

TEST(AnchorGeneratorTest, C4AnchorsOnATwoByThreeMap) {
  auto generator = AnchorGenerator::Create({});
  MOCHI_ASSERT_OK(generator);
  auto anchors = generator->GridAnchors(2, 3);
  MOCHI_ASSERT_OK(anchors);
  EXPECT_EQ(anchors->sizes(), (at::IntArrayRef{2 * 3 * 15, 4}));
  EXPECT_EQ(anchors->scalar_type(), at::kFloat);
  // Row (i * W + j) * A + a: cell (1, 2) (centre x = 32, y = 16), anchor 1 (size 32, ratio 1).
  EXPECT_THAT(Values((*anchors)[(1 * 3 + 2) * 15 + 1]),
              Pointwise(DoubleNear(1e-6), std::vector<double>{16, 0, 48, 32}));
  // Each cell's block is the cell anchors shifted by its centre.
  const at::Tensor cell = generator->cell_anchors();
  const at::Tensor block = anchors->slice(0, 4 * 15, 5 * 15);  // cell (1, 1): centre (16, 16)
  EXPECT_TRUE(at::allclose(block, cell + 16));
}

TEST(AnchorGeneratorTest, OffsetMovesTheFirstCentre) {
  AnchorGeneratorOptions options;
  options.sizes = {8};
  options.aspect_ratios = {1};
  options.stride = 4;
  options.offset = 0.5;
  auto generator = AnchorGenerator::Create(options);
  MOCHI_ASSERT_OK(generator);
  auto anchors = generator->GridAnchors(1, 2);
  MOCHI_ASSERT_OK(anchors);
  // Centres (2, 2) and (6, 2).
  EXPECT_THAT(Values(*anchors),
              Pointwise(DoubleNear(1e-6), std::vector<double>{-2, -2, 6, 6, 2, -2, 10, 6}));
}

TEST(AnchorGeneratorTest, EmptyGrid) {
  auto generator = AnchorGenerator::Create({});
  MOCHI_ASSERT_OK(generator);
  auto anchors = generator->GridAnchors(0, 5);
  MOCHI_ASSERT_OK(anchors);
  EXPECT_EQ(anchors->sizes(), (at::IntArrayRef{0, 4}));
  EXPECT_THAT(generator->GridAnchors(-1, 5), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(AnchorGeneratorTest, RejectsInvalidOptions) {
  AnchorGeneratorOptions options;
  options.offset = 1;
  EXPECT_THAT(AnchorGenerator::Create(options), StatusIs(absl::StatusCode::kInvalidArgument));
  options = AnchorGeneratorOptions();
  options.sizes = {};
  EXPECT_THAT(AnchorGenerator::Create(options), StatusIs(absl::StatusCode::kInvalidArgument));
  options = AnchorGeneratorOptions();
  options.aspect_ratios = {1, 0};
  EXPECT_THAT(AnchorGenerator::Create(options), StatusIs(absl::StatusCode::kInvalidArgument));
  options = AnchorGeneratorOptions();
  options.stride = 0;
  EXPECT_THAT(AnchorGenerator::Create(options), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace mochi::eval::detection
