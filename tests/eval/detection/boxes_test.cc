#include "eval/detection/boxes.h"

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
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pointwise;

at::Tensor Boxes(std::vector<double> values, at::ScalarType dtype = at::kFloat) {
  const int64_t n = static_cast<int64_t>(values.size()) / 4;
  return at::tensor(values, at::kDouble).reshape({n, 4}).to(dtype);
}

std::vector<double> Values(const at::Tensor& t) {
  const at::Tensor flat = t.to(at::kDouble).contiguous().reshape(-1);
  return std::vector<double>(flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel());
}

std::vector<int64_t> Indices(const at::Tensor& t) {
  const at::Tensor flat = t.to(at::kLong).contiguous();
  return std::vector<int64_t>(flat.data_ptr<int64_t>(), flat.data_ptr<int64_t>() + flat.numel());
}

TEST(BoxesTest, AreaIsWidthTimesHeightWithoutThePlusOnePixel) {
  auto area = BoxArea(Boxes({0, 0, 2, 3, 1, 1, 1, 5, 1.5, 2, 4, 2.5}));
  MOCHI_ASSERT_OK(area);
  EXPECT_THAT(Values(*area), Pointwise(DoubleNear(1e-6), std::vector<double>{6, 0, 1.25}));
}

TEST(BoxesTest, PairwiseIouOfHandMadeBoxes) {
  const at::Tensor a = Boxes({0, 0, 2, 2,        // area 4
                              10, 10, 12, 14});  // area 8
  const at::Tensor b = Boxes({1, 1, 3, 3,        // overlaps a0 in [1,2]^2: 1 / (4 + 4 - 1)
                              2, 0, 4, 2,        // touches a0 along x = 2: no area
                              0, 0, 1, 1,        // inside a0: 1 / 4
                              11, 10, 12, 12});  // inside a1: 2 / 8
  auto iou = PairwiseIou(a, b);
  MOCHI_ASSERT_OK(iou);
  EXPECT_EQ(iou->sizes(), (at::IntArrayRef{2, 4}));
  EXPECT_THAT(Values(*iou), Pointwise(DoubleNear(1e-6), std::vector<double>{1.0 / 7, 0, 0.25, 0,  //
                                                                            0, 0, 0, 0.25}));
}

TEST(BoxesTest, PairwiseIouOfIdenticalAndEmptyBoxes) {
  const at::Tensor boxes = Boxes({3, 4, 7, 9, 5, 5, 5, 5});  // the second is empty
  auto iou = PairwiseIou(boxes, boxes);
  MOCHI_ASSERT_OK(iou);
  // An empty box against itself is 0 / 0: defined as 0, not NaN.
  EXPECT_THAT(Values(*iou), Pointwise(DoubleNear(1e-6), std::vector<double>{1, 0, 0, 0}));
}

TEST(BoxesTest, PairwiseIouWithNoBoxes) {
  auto iou = PairwiseIou(at::zeros({0, 4}), Boxes({0, 0, 1, 1, 0, 0, 2, 2}));
  MOCHI_ASSERT_OK(iou);
  EXPECT_EQ(iou->sizes(), (at::IntArrayRef{0, 2}));
}

TEST(BoxesTest, RejectsBoxesThatAreNotNx4) {
  EXPECT_THAT(PairwiseIou(at::zeros({3, 5}), at::zeros({2, 4})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("[3, 5]")));
  EXPECT_THAT(BoxArea(at::zeros({4})), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(BoxArea(at::zeros({2, 4}, at::kLong)), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(BoxesTest, ClipClampsXToWidthAndYToHeight) {
  // Image 40 high, 20 wide.
  auto clipped = ClipBoxes(Boxes({-5, 2, 30, 50, 3, -1, 8, 39}), /*image_height=*/40,
                           /*image_width=*/20);
  MOCHI_ASSERT_OK(clipped);
  EXPECT_THAT(Values(*clipped),
              Pointwise(DoubleNear(1e-6), std::vector<double>{0, 2, 20, 40, 3, 0, 8, 39}));
}

TEST(BoxesTest, ClipRejectsNonFiniteBoxes) {
  EXPECT_THAT(ClipBoxes(Boxes({0, 0, NAN, 1}), 10, 10),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ClipBoxes(Boxes({0, 0, 1, 1}), -1, 10), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(BoxesTest, RemoveSmallBoxesKeepsSidesStrictlyLargerThanTheMinimum) {
  const at::Tensor boxes = Boxes({0, 0, 2,   2,    // 2 x 2
                                  0, 0, 1,   5,    // width exactly 1
                                  0, 0, 3,   1.5,  // 3 x 1.5
                                  4, 4, 5.5, 5.5,  // 1.5 x 1.5
                                  0, 0, 0,   0});  // empty
  auto kept = RemoveSmallBoxes(boxes, /*min_size=*/1);
  MOCHI_ASSERT_OK(kept);
  EXPECT_EQ(kept->scalar_type(), at::kLong);
  EXPECT_THAT(Indices(*kept), ElementsAre(0, 2, 3));
  kept = RemoveSmallBoxes(boxes, /*min_size=*/0);
  MOCHI_ASSERT_OK(kept);
  EXPECT_THAT(Indices(*kept), ElementsAre(0, 1, 2, 3));
}

TEST(Box2BoxTransformTest, DefaultScaleClampIsLogOf1000Over16) {
  EXPECT_DOUBLE_EQ(kDefaultScaleClamp, std::log(1000.0 / 16.0));
}

TEST(Box2BoxTransformTest, HandComputedDeltasWithBoxHeadWeights) {
  auto transform = Box2BoxTransform::Create({10, 10, 5, 5});
  MOCHI_ASSERT_OK(transform);
  // Source: centre (5, 10), size 10 x 20. Target: centre (7, 9), size 10 x 10.
  //   dx = 10 * (7 - 5) / 10 = 2         dy = 10 * (9 - 10) / 20 = -0.5
  //   dw = 5 * log(10 / 10) = 0          dh = 5 * log(10 / 20) = -5 log 2
  auto deltas = transform->GetDeltas(Boxes({0, 0, 10, 20}), Boxes({2, 4, 12, 14}));
  MOCHI_ASSERT_OK(deltas);
  EXPECT_EQ(deltas->sizes(), (at::IntArrayRef{1, 4}));
  EXPECT_THAT(Values(*deltas),
              Pointwise(DoubleNear(1e-5), std::vector<double>{2, -0.5, 0, -5 * std::log(2.0)}));
  // And back.
  auto decoded = transform->ApplyDeltas(*deltas, Boxes({0, 0, 10, 20}));
  MOCHI_ASSERT_OK(decoded);
  EXPECT_THAT(Values(*decoded), Pointwise(DoubleNear(1e-5), std::vector<double>{2, 4, 12, 14}));
}

TEST(Box2BoxTransformTest, EncodeDecodeRoundTrip) {
  at::manual_seed(0);
  const at::Tensor corner = at::rand({50, 2}, at::kDouble) * 100;
  const at::Tensor sources = at::cat({corner, corner + 1 + at::rand({50, 2}, at::kDouble) * 50}, 1);
  const at::Tensor corner2 = corner + at::randn({50, 2}, at::kDouble) * 10;
  const at::Tensor targets =
      at::cat({corner2, corner2 + 1 + at::rand({50, 2}, at::kDouble) * 50}, 1);
  for (const BoxTransformWeights& weights :
       {BoxTransformWeights{1, 1, 1, 1}, BoxTransformWeights{10, 10, 5, 5}}) {
    auto transform = Box2BoxTransform::Create(weights);
    MOCHI_ASSERT_OK(transform);
    auto deltas = transform->GetDeltas(sources, targets);
    MOCHI_ASSERT_OK(deltas);
    auto decoded = transform->ApplyDeltas(*deltas, sources);
    MOCHI_ASSERT_OK(decoded);
    EXPECT_EQ(decoded->scalar_type(), at::kDouble);
    EXPECT_TRUE(at::allclose(*decoded, targets, 1e-9, 1e-9));
  }
}

TEST(Box2BoxTransformTest, AppliesClassSpecificDeltasToTheSameBox) {
  auto transform = Box2BoxTransform::Create({1, 1, 1, 1});
  MOCHI_ASSERT_OK(transform);
  // Box centre (6, 4), size 4 x 2. Class 0: identity. Class 1: shift by half a width right,
  // double the width. Class 2: halve the height.
  const at::Tensor deltas = at::tensor({0.0, 0.0, 0.0, 0.0,            //
                                        0.5, 0.0, std::log(2.0), 0.0,  //
                                        0.0, 0.0, 0.0, -std::log(2.0)},
                                       at::kFloat)
                                .reshape({1, 12});
  auto decoded = transform->ApplyDeltas(deltas, Boxes({4, 3, 8, 5}));
  MOCHI_ASSERT_OK(decoded);
  EXPECT_EQ(decoded->sizes(), (at::IntArrayRef{1, 12}));
  EXPECT_THAT(Values(*decoded),
              Pointwise(DoubleNear(1e-5), std::vector<double>{4, 3, 8, 5,         //
                                                              4, 3, 12, 5,        // centre 8, w 8
                                                              4, 3.5, 8, 4.5}));  // h 1
}

TEST(Box2BoxTransformTest, ClampsTheScaleDeltas) {
  auto transform = Box2BoxTransform::Create({1, 1, 2, 2});
  MOCHI_ASSERT_OK(transform);
  // dw / ww = 50 is clamped to log(1000 / 16): a 16 x 16 box grows to at most 1000 x 1000.
  const at::Tensor deltas = at::tensor({0.0f, 0.0f, 100.0f, 100.0f}).reshape({1, 4});
  auto decoded = transform->ApplyDeltas(deltas, Boxes({-8, -8, 8, 8}));
  MOCHI_ASSERT_OK(decoded);
  EXPECT_THAT(Values(*decoded),
              Pointwise(DoubleNear(1e-2), std::vector<double>{-500, -500, 500, 500}));
}

TEST(Box2BoxTransformTest, RejectsInvalidInputs) {
  EXPECT_THAT(Box2BoxTransform::Create({1, 0, 1, 1}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Box2BoxTransform::Create({1, 1, 1, 1}, 0),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto transform = Box2BoxTransform::Create({1, 1, 1, 1});
  MOCHI_ASSERT_OK(transform);
  // A source box of zero width would make an infinite target.
  EXPECT_THAT(transform->GetDeltas(Boxes({1, 1, 1, 4}), Boxes({0, 0, 2, 2})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("width and height")));
  EXPECT_THAT(transform->GetDeltas(Boxes({0, 0, 1, 1}), Boxes({0, 0, 2, 2, 0, 0, 1, 1})),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(transform->ApplyDeltas(at::zeros({1, 6}), Boxes({0, 0, 1, 1})),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace mochi::eval::detection
