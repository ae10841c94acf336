// Mask R-CNN's mask moves, on cases worked out by hand from detectron2's definitions:
// CropAndResizeMasks (RoIAlign, aligned, then >= 0.5) and PasteMasks (grid_sample at pixel
// centres, zeros outside the mask, then >= threshold).
#include "eval/detection/mask_ops.h"

#include <vector>

#include "ATen/ATen.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mochi::eval::detection {
namespace {

using ::mochi::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

std::vector<int> Flat(const at::Tensor& t) {
  const at::Tensor flat = t.to(at::kInt).contiguous().reshape(-1);
  return std::vector<int>(flat.data_ptr<int>(), flat.data_ptr<int>() + flat.numel());
}

at::Tensor Boxes(std::vector<double> values) {
  const int64_t n = static_cast<int64_t>(values.size()) / 4;
  return at::tensor(values, at::kDouble).reshape({n, 4}).to(at::kFloat);
}

TEST(PasteMasksTest, AFullMaskCoversThePixelsWhoseCentresLieInTheBox) {
  // Box x 2..6, y 3..8 on a 10x10 image. Pixel column 2 (centre 2.5) samples mask x = 0 (value 1);
  // column 1 (centre 1.5) samples x = -1, all padding (0); column 5 samples x = 3; column 6 samples
  // x = 4 (0). Row 3 (centre 3.5) samples y = -0.1: 0.9 of row 0; row 2 samples y = -0.9: 0.1;
  // row 7 samples y = 3.1: 0.9; row 8 samples y = 3.9: 0.1.
  absl::StatusOr<at::Tensor> pasted = PasteMasks(at::ones({1, 4, 4}), Boxes({2, 3, 6, 8}), 10, 10);
  MOCHI_ASSERT_OK(pasted);
  EXPECT_THAT(pasted->sizes(), ElementsAre(1, 10, 10));
  EXPECT_EQ(pasted->scalar_type(), at::kByte);
  at::Tensor expected = at::zeros({10, 10}, at::kInt);
  expected.slice(0, 3, 8).slice(1, 2, 6).fill_(1);
  EXPECT_THAT(Flat((*pasted)[0]), ElementsAreArray(Flat(expected)));
}

TEST(PasteMasksTest, ResamplesBilinearlyAndThresholds) {
  // A 2x2 mask [[1, 0], [1, 0]] over the whole 4x4 image: columns 0 and 1 sample mask x = -0.25
  // and 0.25, i.e. 0.75 of the left column; columns 2 and 3 get 0.25 and 0. Rows 0 and 3 sample
  // y = -0.25 and 1.25: 0.75 of the rows (padding beyond), rows 1 and 2 the full value.
  const at::Tensor mask = at::tensor({1.f, 0.f, 1.f, 0.f}).view({1, 2, 2});
  absl::StatusOr<at::Tensor> pasted = PasteMasks(mask, Boxes({0, 0, 4, 4}), 4, 4);
  MOCHI_ASSERT_OK(pasted);
  EXPECT_THAT(Flat(*pasted), ElementsAre(1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0));
  // At threshold 0.6 the corners of the left part (0.75 * 0.75 = 0.5625) drop out.
  pasted = PasteMasks(mask, Boxes({0, 0, 4, 4}), 4, 4, 0.6);
  MOCHI_ASSERT_OK(pasted);
  EXPECT_THAT(Flat(*pasted), ElementsAre(0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0));
}

TEST(PasteMasksTest, EmptyBoxesPasteNothingAndBadShapesAreErrors) {
  absl::StatusOr<at::Tensor> pasted =
      PasteMasks(at::ones({2, 4, 4}), Boxes({3, 3, 3, 8, 1, 1, 5, 1}), 10, 10);
  MOCHI_ASSERT_OK(pasted);
  EXPECT_EQ(pasted->sum().item<int64_t>(), 0);
  pasted = PasteMasks(at::ones({0, 4, 4}), at::zeros({0, 4}), 6, 5);
  MOCHI_ASSERT_OK(pasted);
  EXPECT_THAT(pasted->sizes(), ElementsAre(0, 6, 5));
  EXPECT_THAT(PasteMasks(at::ones({1, 4, 3}), Boxes({0, 0, 1, 1}), 5, 5),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(PasteMasks(at::ones({2, 4, 4}), Boxes({0, 0, 1, 1}), 5, 5),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(PasteMasks(at::ones({1, 4, 4}), Boxes({0, 0, 1, 1}), 0, 5),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(CropAndResizeMasksTest, CutsEachRegionsMaskToItsBox) {
  // Mask 0: the left half (x < 4) of an 8x8 image; mask 1: empty.
  at::Tensor masks = at::zeros({2, 8, 8});
  masks[0].slice(1, 0, 4).fill_(1);
  // Region 0 takes mask 0 over the whole image: 2x2 bins, left column inside.
  // Region 1 takes mask 0 over x 2..6: aligned RoIAlign samples x = 2, 3, 4, 5 (a pixel's value
  // sits at its index), so [1, 1, 0, 0] in every row.
  // Region 2 takes the empty mask.
  absl::StatusOr<at::Tensor> cropped = CropAndResizeMasks(
      masks, at::tensor({0, 0, 1}, at::kLong), Boxes({0, 0, 8, 8, 2, 0, 6, 8, 0, 0, 8, 8}), 2);
  MOCHI_ASSERT_OK(cropped);
  EXPECT_THAT(cropped->sizes(), ElementsAre(3, 2, 2));
  EXPECT_THAT(Flat((*cropped)[0]), ElementsAre(1, 0, 1, 0));
  EXPECT_THAT(Flat((*cropped)[2]), ElementsAre(0, 0, 0, 0));
  cropped = CropAndResizeMasks(masks, at::tensor({0}, at::kLong), Boxes({2, 0, 6, 8}), 4);
  MOCHI_ASSERT_OK(cropped);
  EXPECT_THAT(Flat(*cropped), ElementsAre(1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0));
}

TEST(CropAndResizeMasksTest, RejectsBadShapesAndIndices) {
  const at::Tensor masks = at::zeros({2, 8, 8});
  EXPECT_THAT(CropAndResizeMasks(masks, at::tensor({2}, at::kLong), Boxes({0, 0, 8, 8}), 4),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CropAndResizeMasks(masks, at::tensor({0, 1}, at::kLong), Boxes({0, 0, 8, 8}), 4),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(
      CropAndResizeMasks(at::zeros({8, 8}), at::tensor({0}, at::kLong), Boxes({0, 0, 8, 8}), 4),
      StatusIs(absl::StatusCode::kInvalidArgument));
  absl::StatusOr<at::Tensor> none =
      CropAndResizeMasks(masks, at::zeros({0}, at::kLong), at::zeros({0, 4}), 14);
  MOCHI_ASSERT_OK(none);
  EXPECT_THAT(none->sizes(), ElementsAre(0, 14, 14));
}

}  // namespace
}  // namespace mochi::eval::detection
