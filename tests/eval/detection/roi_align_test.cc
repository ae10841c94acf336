#include "eval/detection/roi_align.h"

#include <utility>
#include <vector>

#include "ATen/ATen.h"
#include "ATen/Parallel.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mochi::eval::detection {
namespace {

using ::mochi::testing::StatusIs;
using ::testing::DoubleNear;
using ::testing::Pointwise;

std::vector<double> Values(const at::Tensor& t) {
  const at::Tensor flat = t.detach().to(at::kDouble).contiguous().reshape(-1);
  return std::vector<double>(flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel());
}

at::Tensor Rois(std::vector<double> values) {
  const int64_t n = static_cast<int64_t>(values.size()) / 5;
  return at::tensor(values, at::kDouble).reshape({n, 5}).to(at::kFloat);
}

// [1, 1, 4, 4] with f(y, x) = 4 y + x at pixel (y, x): values 0..15. Bilinear interpolation of
// a linear function is exact, so inside [0, 3]^2 every sample reads 4 y + x, and a bin averaging
// symmetric samples reads the value at its centre.
at::Tensor Ramp(at::ScalarType dtype = at::kFloat) {
  return at::arange(16, at::kDouble).reshape({1, 1, 4, 4}).to(dtype);
}

RoiAlignOptions Options(int64_t height, int64_t width, double scale, int64_t sampling,
                        bool aligned) {
  RoiAlignOptions options;
  options.output_height = height;
  options.output_width = width;
  options.spatial_scale = scale;
  options.sampling_ratio = sampling;
  options.aligned = aligned;
  return options;
}

TEST(RoiAlignTest, AlignedBinsReadTheRampAtTheirCentres) {
  // Box [0.5, 2.5]^2, shifted by -0.5: [0, 2]^2, four 1 x 1 bins centred at 0.5 and 1.5:
  // 4 y + x = 2.5, 3.5, 6.5, 7.5.
  for (int64_t sampling : {0, 1, 2, 3}) {
    auto pooled = RoiAlign(Ramp(), Rois({0, 0.5, 0.5, 2.5, 2.5}), Options(2, 2, 1, sampling, true));
    MOCHI_ASSERT_OK(pooled);
    EXPECT_EQ(pooled->sizes(), (at::IntArrayRef{1, 1, 2, 2}));
    EXPECT_THAT(Values(*pooled),
                Pointwise(DoubleNear(1e-5), std::vector<double>{2.5, 3.5, 6.5, 7.5}))
        << "sampling_ratio " << sampling;
  }
}

TEST(RoiAlignTest, UnalignedBinsAreHalfAPixelFurther) {
  // Without the -0.5 shift the same box covers [0.5, 2.5]^2: centres 1 and 2, i.e. each value
  // is 0.5 * (4 + 1) = 2.5 larger.
  auto pooled = RoiAlign(Ramp(), Rois({0, 0.5, 0.5, 2.5, 2.5}), Options(2, 2, 1, 0, false));
  MOCHI_ASSERT_OK(pooled);
  EXPECT_THAT(Values(*pooled), Pointwise(DoubleNear(1e-5), std::vector<double>{5, 6, 9, 10}));
}

TEST(RoiAlignTest, UnalignedRegionsAreAtLeastOnePixel) {
  // Box [1, 1.2]^2, one bin, adaptive sampling. Aligned: [0.5, 0.7]^2, ceil(0.2) = 1 sample at
  // 0.6 -> 4 * 0.6 + 0.6 = 3. Unaligned: grown to [1, 2]^2, one sample at 1.5 -> 7.5.
  const at::Tensor rois = Rois({0, 1, 1, 1.2, 1.2});
  auto aligned = RoiAlign(Ramp(), rois, Options(1, 1, 1, 0, true));
  MOCHI_ASSERT_OK(aligned);
  EXPECT_NEAR(aligned->item<float>(), 3.0, 1e-5);
  auto unaligned = RoiAlign(Ramp(), rois, Options(1, 1, 1, 0, false));
  MOCHI_ASSERT_OK(unaligned);
  EXPECT_NEAR(unaligned->item<float>(), 7.5, 1e-5);
}

TEST(RoiAlignTest, SpatialScaleMapsImageToFeatureCoordinates) {
  // Image box [1, 5]^2 at scale 1/2 is feature box [0.5, 2.5]^2: as the first test.
  auto pooled = RoiAlign(Ramp(), Rois({0, 1, 1, 5, 5}), Options(2, 2, 0.5, 0, true));
  MOCHI_ASSERT_OK(pooled);
  EXPECT_THAT(Values(*pooled),
              Pointwise(DoubleNear(1e-5), std::vector<double>{2.5, 3.5, 6.5, 7.5}));
}

TEST(RoiAlignTest, BoxPartlyOutsideTheMap) {
  // Box x in [-1.5, 7.5], y in [1.5, 2.5]; shifted: x in [-2, 7], y in [1, 2]. Output 1 x 3, so
  // bins [-2, 1], [1, 4], [4, 7] in x and y = 1.5 (f = 6 + x).
  const at::Tensor rois = Rois({0, -1.5, 1.5, 7.5, 2.5});
  // sampling_ratio 1: x = -0.5 (within a pixel of the map: reads the border, x = 0) -> 6;
  // x = 2.5 -> 8.5; x = 5.5 (beyond x = 4) -> 0.
  auto pooled = RoiAlign(Ramp(), rois, Options(1, 3, 1, 1, true));
  MOCHI_ASSERT_OK(pooled);
  EXPECT_THAT(Values(*pooled), Pointwise(DoubleNear(1e-5), std::vector<double>{6, 8.5, 0}));
  // Adaptive: ceil(1 / 1) = 1 sample in y, ceil(9 / 3) = 3 in x, every sample counted:
  //   bin 0: x = -1.5 (0), -0.5 (border: 6), 0.5 (6.5)        -> 12.5 / 3
  //   bin 1: x = 1.5 (7.5), 2.5 (8.5), 3.5 (border x = 3: 9)  -> 25 / 3
  //   bin 2: x = 4.5, 5.5, 6.5, all beyond the map            -> 0
  pooled = RoiAlign(Ramp(), rois, Options(1, 3, 1, 0, true));
  MOCHI_ASSERT_OK(pooled);
  EXPECT_THAT(Values(*pooled),
              Pointwise(DoubleNear(1e-5), std::vector<double>{12.5 / 3, 25.0 / 3, 0}));
}

TEST(RoiAlignTest, PicksTheBatchImageAndKeepsChannelsApart) {
  // Image 1, channel c holds (c + 1) * ramp + 100; image 0 is zeros.
  const at::Tensor image1 = at::cat({Ramp() + 100, 2 * Ramp() + 100}, 1);
  const at::Tensor features = at::cat({at::zeros_like(image1), image1}, 0);  // [2, 2, 4, 4]
  auto pooled = RoiAlign(features, Rois({1, 0.5, 0.5, 2.5, 2.5, 0, 0.5, 0.5, 2.5, 2.5}),
                         Options(2, 2, 1, 0, true));
  MOCHI_ASSERT_OK(pooled);
  EXPECT_EQ(pooled->sizes(), (at::IntArrayRef{2, 2, 2, 2}));
  EXPECT_THAT(Values(*pooled),
              Pointwise(DoubleNear(1e-4), std::vector<double>{102.5, 103.5, 106.5, 107.5,  //
                                                              105, 107, 113, 115,          //
                                                              0, 0, 0, 0,                  //
                                                              0, 0, 0, 0}));
}

TEST(RoiAlignTest, NoRegions) {
  auto pooled = RoiAlign(Ramp(), at::zeros({0, 5}), Options(7, 7, 1, 0, true));
  MOCHI_ASSERT_OK(pooled);
  EXPECT_EQ(pooled->sizes(), (at::IntArrayRef{0, 1, 7, 7}));
}

TEST(RoiAlignTest, HandComputedGradients) {
  // One 1 x 1 bin, one sample at (0.5, 0.5): a quarter of the gradient to each of the pixels
  // (0, 0), (0, 1), (1, 0), (1, 1). A second region samples (3.5, 3.5), beyond the last pixel
  // centre: the border pixel (3, 3) takes all of its gradient (scaled by 2 below).
  at::Tensor features = Ramp(at::kDouble).set_requires_grad(true);
  auto pooled =
      RoiAlign(features, Rois({0, 0.5, 0.5, 1.5, 1.5, 0, 3.5, 3.5, 4.5, 4.5}).to(at::kDouble),
               Options(1, 1, 1, 1, true));
  MOCHI_ASSERT_OK(pooled);
  EXPECT_THAT(Values(*pooled), Pointwise(DoubleNear(1e-12), std::vector<double>{2.5, 15}));
  (pooled->select(0, 0).sum() + 2 * pooled->select(0, 1).sum()).backward();
  EXPECT_THAT(Values(features.grad()),
              Pointwise(DoubleNear(1e-12), std::vector<double>{0.25, 0.25, 0, 0,  //
                                                               0.25, 0.25, 0, 0,  //
                                                               0, 0, 0, 0,        //
                                                               0, 0, 0, 2}));
}

// Finite differences against the autograd backward on double tensors (torch.autograd.gradcheck
// style). RoIAlign is linear in the features, so central differences are exact up to rounding.
TEST(RoiAlignTest, GradientMatchesFiniteDifferences) {
  at::manual_seed(3);
  const at::Tensor base = at::randn({2, 3, 5, 6}, at::kDouble);
  // Image-coordinate boxes at scale 1/2 (map 5 x 6 = image 10 x 12), some partly outside, one
  // degenerate.
  const at::Tensor rois = at::tensor({0.0, 1.0,  2.0,  9.0,  7.0,   //
                                      1.0, -3.0, -2.0, 6.0,  5.0,   //
                                      1.0, 4.0,  3.0,  15.0, 11.0,  //
                                      0.0, 2.5,  2.5,  3.5,  8.0,   //
                                      0.0, 5.0,  5.0,  5.0,  5.0},  //
                                     at::kDouble)
                              .reshape({5, 5});
  for (const RoiAlignOptions& options :
       {Options(3, 3, 0.5, 0, true), Options(2, 4, 0.5, 2, true), Options(3, 2, 0.5, 0, false)}) {
    at::Tensor features = base.clone().set_requires_grad(true);
    auto pooled = RoiAlign(features, rois, options);
    MOCHI_ASSERT_OK(pooled);
    const at::Tensor weights = at::randn(pooled->sizes(), at::kDouble);
    (*pooled * weights).sum().backward();
    const at::Tensor analytic = features.grad();
    at::Tensor numeric = at::zeros_like(base);
    const double eps = 1e-6;
    for (int64_t i = 0; i < base.numel(); ++i) {
      at::Tensor plus = base.clone();
      at::Tensor minus = base.clone();
      plus.view(-1)[i].add_(eps);
      minus.view(-1)[i].sub_(eps);
      const double up = (*RoiAlign(plus, rois, options) * weights).sum().item<double>();
      const double down = (*RoiAlign(minus, rois, options) * weights).sum().item<double>();
      numeric.view(-1)[i].fill_((up - down) / (2 * eps));
    }
    EXPECT_TRUE(at::allclose(analytic, numeric, 1e-6, 1e-7))
        << "max error " << (analytic - numeric).abs().max().item<double>();
    EXPECT_GT(analytic.abs().sum().item<double>(), 0);
  }
}

// Large enough for at::parallel_for to split regions (forward) and channels (backward) across
// threads: the results must be bitwise those of one thread.
TEST(RoiAlignTest, ParallelResultsMatchOneThread) {
  at::manual_seed(5);
  const at::Tensor base = at::randn({2, 64, 16, 16});
  const at::Tensor corner = at::rand({40, 2}) * 200;
  const at::Tensor rois = at::cat(
      {at::randint(0, 2, {40, 1}).to(at::kFloat), corner, corner + 16 + at::rand({40, 2}) * 100},
      1);
  const at::Tensor grad = at::randn({40, 64, 7, 7});
  auto run = [&](int threads) {
    at::set_num_threads(threads);
    at::Tensor features = base.clone().set_requires_grad(true);
    auto pooled = RoiAlign(features, rois, Options(7, 7, 1.0 / 16, 0, true));
    EXPECT_TRUE(pooled.ok()) << pooled.status();
    pooled->backward(grad);
    return std::make_pair(pooled->detach(), features.grad());
  };
  const int default_threads = at::get_num_threads();
  const auto one = run(1);
  const auto two = run(2);
  at::set_num_threads(default_threads);
  EXPECT_TRUE(at::equal(one.first, two.first));
  EXPECT_TRUE(at::equal(one.second, two.second));
  EXPECT_GT(one.second.abs().sum().item<float>(), 0);
}

TEST(RoiAlignTest, RejectsBadInputs) {
  const RoiAlignOptions options = Options(2, 2, 1, 0, true);
  EXPECT_THAT(RoiAlign(Ramp().squeeze(0), Rois({0, 0, 0, 1, 1}), options),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(RoiAlign(Ramp(at::kLong), Rois({0, 0, 0, 1, 1}), options),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(RoiAlign(Ramp(), at::zeros({1, 4}), options),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(RoiAlign(Ramp(), Rois({1, 0, 0, 1, 1}), options),  // batch index 1 of 1 image
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(RoiAlign(Ramp(), Rois({0, 0, 0, 1, 1}), Options(0, 2, 1, 0, true)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(RoiAlign(Ramp(), Rois({0, 0, 0, 1, 1}), Options(2, 2, 1, -1, true)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace mochi::eval::detection
