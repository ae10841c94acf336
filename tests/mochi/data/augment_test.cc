#include "mochi/data/augment.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <vector>

#include "ATen/ATen.h"
#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/data/rng.h"
#include "tests/testing/status_matchers.h"

namespace mochi::data {
namespace {

using ::mochi::testing::StatusIs;
using ::testing::HasSubstr;

constexpr int kSeeds = 2000;

// Tolerance for a count of Binomial(n, p) successes: 4 standard deviations.
double FourSigma(int n, double p) { return 4.0 * std::sqrt(n * p * (1.0 - p)); }

// Every random op off, crop = whole image, identity normalisation.
AugmentOptions PlainOptions(int crop_size, int out_channels) {
  AugmentOptions o;
  o.crop_size = crop_size;
  o.scale_min = 1.0;
  o.scale_max = 1.0;
  o.ratio_min = 1.0;
  o.ratio_max = 1.0;
  o.color_jitter_prob = 0.0;
  o.grayscale_prob = 0.0;
  o.blur_prob = 0.0;
  o.flip_prob = 0.0;
  o.mean.assign(out_channels, 0.0f);
  o.std.assign(out_channels, 1.0f);
  return o;
}

AugmentOptions MoCoV2Options(int crop_size, int out_channels) {
  AugmentOptions o;
  o.crop_size = crop_size;
  if (out_channels == 3) {
    o.mean = {0.485f, 0.456f, 0.406f};
    o.std = {0.229f, 0.224f, 0.225f};
  } else {
    o.mean = {0.286f};
    o.std = {0.353f};
  }
  return o;
}

Augmenter MakeAugmenter(const AugmentOptions& options, int input_channels) {
  absl::StatusOr<Augmenter> augmenter = Augmenter::Create(options, input_channels);
  EXPECT_TRUE(augmenter.ok()) << augmenter.status();
  return *std::move(augmenter);
}

// uint8 [C, H, W] with pseudo-random content (deterministic).
at::Tensor RandomImage(int64_t c, int64_t h, int64_t w, uint64_t seed) {
  at::Tensor img = at::empty({c, h, w}, at::kByte);
  Rng rng(seed);
  uint8_t* data = img.data_ptr<uint8_t>();
  for (int64_t i = 0; i < img.numel(); ++i) data[i] = static_cast<uint8_t>(rng.UniformInt(256));
  return img;
}

// Left half bright, right half dark, with a colour: red on the left, blue on the right.
at::Tensor HalvesImage(int64_t c, int64_t size) {
  at::Tensor img = at::zeros({c, size, size}, at::kByte);
  img.select(0, 0).slice(1, 0, size / 2).fill_(230);
  if (c == 3) img.select(0, 2).slice(1, size / 2, size).fill_(90);
  return img;
}

// value = 9 * column: increases left to right.
at::Tensor RampImage(int64_t c, int64_t size) {
  at::Tensor ramp = at::arange(size, at::kLong).mul_(9).to(at::kByte);
  return ramp.view({1, 1, size}).expand({c, size, size}).contiguous();
}

at::Tensor Checkerboard(int64_t c, int64_t size) {
  at::Tensor idx = at::arange(size, at::kLong);
  at::Tensor board = (idx.view({size, 1}) + idx.view({1, size})).remainder_(2).mul_(255);
  return board.to(at::kByte).unsqueeze(0).expand({c, size, size}).contiguous();
}

at::Tensor ToUnit(const at::Tensor& image_uint8) { return image_uint8.to(at::kFloat).div(255.0); }

TEST(AugmentTest, OutputShapeAndDtypePerGrayscalePolicy) {
  struct Case {
    int in_channels;
    GrayscaleInput policy;
    int out_channels;
  };
  const Case cases[] = {
      {3, GrayscaleInput::kKeepGray, 3},     {3, GrayscaleInput::kRandomTint, 3},
      {1, GrayscaleInput::kKeepGray, 1},     {1, GrayscaleInput::kReplicateRgb, 3},
      {1, GrayscaleInput::kRandomTint, 3},
  };
  for (const Case& c : cases) {
    AugmentOptions o = MoCoV2Options(24, c.out_channels);
    o.grayscale_input = c.policy;
    ASSERT_EQ(OutputChannels(o, c.in_channels), c.out_channels);
    Augmenter augmenter = MakeAugmenter(o, c.in_channels);
    EXPECT_EQ(augmenter.output_channels(), c.out_channels);
    for (uint64_t seed = 0; seed < 20; ++seed) {
      at::Tensor out = augmenter.Apply(RandomImage(c.in_channels, 30, 41, seed), seed);
      ASSERT_EQ(out.sizes(), at::IntArrayRef({c.out_channels, 24, 24}));
      ASSERT_EQ(out.scalar_type(), at::kFloat);
      ASSERT_TRUE(at::isfinite(out).all().item<bool>());
    }
  }
}

TEST(AugmentTest, WrongInputChannelsThrows) {
  Augmenter augmenter = MakeAugmenter(MoCoV2Options(24, 3), 3);
  EXPECT_THROW(augmenter.Apply(RandomImage(1, 28, 28, 0), 0), c10::Error);
  EXPECT_THROW(augmenter.Apply(RandomImage(3, 28, 28, 0).to(at::kFloat), 0), c10::Error);
}

TEST(AugmentTest, SameSeedIsBitwiseIdenticalDifferentSeedDiffers) {
  for (int channels : {1, 3}) {
    Augmenter augmenter = MakeAugmenter(MoCoV2Options(32, channels), channels);
    at::Tensor img = RandomImage(channels, 40, 36, 99);
    int differing = 0;
    for (uint64_t seed = 0; seed < 50; ++seed) {
      at::Tensor a = augmenter.Apply(img, seed);
      at::Tensor b = augmenter.Apply(img.clone(), seed);
      ASSERT_TRUE(at::equal(a, b)) << "seed " << seed;
      differing += !at::equal(a, augmenter.Apply(img, seed + 1000));
    }
    EXPECT_EQ(differing, 50) << "channels " << channels;
  }
}

TEST(AugmentTest, InputIsNotModified) {
  Augmenter augmenter = MakeAugmenter(MoCoV2Options(28, 3), 3);
  at::Tensor img = RandomImage(3, 28, 28, 1);
  at::Tensor copy = img.clone();
  for (uint64_t seed = 0; seed < 20; ++seed) augmenter.Apply(img, seed);
  EXPECT_TRUE(at::equal(img, copy));
}

TEST(AugmentTest, AllProbabilitiesZeroGivesNormalisedResizedInput) {
  // Same size: exactly the normalised input.
  AugmentOptions o = PlainOptions(28, 3);
  o.mean = {0.5f, 0.4f, 0.3f};
  o.std = {0.2f, 0.25f, 0.5f};
  at::Tensor mean = at::tensor({0.5f, 0.4f, 0.3f}).view({3, 1, 1});
  at::Tensor std = at::tensor({0.2f, 0.25f, 0.5f}).view({3, 1, 1});
  at::Tensor img = RandomImage(3, 28, 28, 5);
  Augmenter same = MakeAugmenter(o, 3);
  at::Tensor expected = (ToUnit(img) - mean) / std;
  for (uint64_t seed = 0; seed < 10; ++seed) {
    EXPECT_TRUE(at::equal(same.Apply(img, seed), expected)) << "seed " << seed;
  }
  // Upscaling 20 -> 28: bilinear, align_corners=false.
  at::Tensor small = RandomImage(3, 20, 20, 6);
  Augmenter upscale = MakeAugmenter(o, 3);
  at::Tensor resized =
      at::upsample_bilinear2d(ToUnit(small).unsqueeze(0), {28, 28}, false).squeeze(0);
  EXPECT_TRUE(at::allclose(upscale.Apply(small, 3), (resized - mean) / std, 1e-5, 1e-6));
  // Resize of a constant image is constant.
  at::Tensor flat = at::full({3, 20, 20}, 77, at::kByte);
  at::Tensor out = upscale.Apply(flat, 4);
  EXPECT_TRUE(at::allclose(out, (at::full({3, 28, 28}, 77 / 255.0f) - mean) / std, 1e-5, 1e-6));
}

TEST(AugmentTest, HorizontalFlipRate) {
  AugmentOptions o = PlainOptions(28, 1);
  o.flip_prob = 0.5;
  Augmenter augmenter = MakeAugmenter(o, 1);
  at::Tensor ramp = RampImage(1, 28);
  at::Tensor unflipped = ToUnit(ramp);
  at::Tensor flipped = at::flip(unflipped, {2});
  int flips = 0;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    at::Tensor out = augmenter.Apply(ramp, seed);
    const bool is_flipped = out[0][0][0].item<float>() > out[0][0][27].item<float>();
    ASSERT_TRUE(at::equal(out, is_flipped ? flipped : unflipped)) << "seed " << seed;
    flips += is_flipped;
  }
  EXPECT_NEAR(flips, 0.5 * kSeeds, FourSigma(kSeeds, 0.5));
}

TEST(AugmentTest, RandomGrayscaleRate) {
  AugmentOptions o = PlainOptions(28, 3);
  o.grayscale_prob = 0.2;
  Augmenter augmenter = MakeAugmenter(o, 3);
  at::Tensor img = HalvesImage(3, 28);
  at::Tensor colour = ToUnit(img);
  at::Tensor gray = (colour[0] * 0.299f + colour[1] * 0.587f + colour[2] * 0.114f).unsqueeze(0);
  int grays = 0;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    at::Tensor out = augmenter.Apply(img, seed);
    const bool is_gray = at::equal(out[0], out[1]) && at::equal(out[1], out[2]);
    if (is_gray) {
      ASSERT_TRUE(at::allclose(out, gray.expand({3, 28, 28}), 1e-5, 1e-6)) << "seed " << seed;
    } else {
      ASSERT_TRUE(at::equal(out, colour)) << "seed " << seed;
    }
    grays += is_gray;
  }
  EXPECT_NEAR(grays, 0.2 * kSeeds, FourSigma(kSeeds, 0.2));
}

TEST(AugmentTest, ColorJitterRate) {
  AugmentOptions o = PlainOptions(28, 3);
  o.color_jitter_prob = 0.8;
  Augmenter augmenter = MakeAugmenter(o, 3);
  at::Tensor img = RandomImage(3, 28, 28, 8);
  at::Tensor identity = ToUnit(img);
  int jittered = 0;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    at::Tensor out = augmenter.Apply(img, seed);
    ASSERT_GE(out.min().item<float>(), 0.0f);
    ASSERT_LE(out.max().item<float>(), 1.0f);
    jittered += !at::equal(out, identity);
  }
  EXPECT_NEAR(jittered, 0.8 * kSeeds, FourSigma(kSeeds, 0.8));
}

TEST(AugmentTest, BlurRateOnCheckerboard) {
  AugmentOptions o = PlainOptions(28, 1);
  o.blur_prob = 0.5;
  o.blur_sigma_min = 1.0;  // strong enough that every applied blur is visible
  Augmenter augmenter = MakeAugmenter(o, 1);
  at::Tensor board = Checkerboard(1, 28);
  const double variance = ToUnit(board).var().item<double>();
  int blurred = 0;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    at::Tensor out = augmenter.Apply(board, seed);
    const double v = out.var().item<double>();
    if (v < 0.5 * variance) {
      ++blurred;
    } else {
      ASSERT_TRUE(at::equal(out, ToUnit(board))) << "seed " << seed;
    }
  }
  EXPECT_NEAR(blurred, 0.5 * kSeeds, FourSigma(kSeeds, 0.5));
}

TEST(AugmentTest, GaussianBlurReducesCheckerboardVarianceAndKeepsConstants) {
  at::Tensor board = ToUnit(Checkerboard(3, 32));
  const double variance = board.var().item<double>();
  const double v_small = GaussianBlur(board, 3, 0.5).var().item<double>();
  const double v_large = GaussianBlur(board, 3, 2.0).var().item<double>();
  EXPECT_LT(v_small, variance);
  EXPECT_LT(v_large, v_small);
  EXPECT_LT(GaussianBlur(board, 7, 2.0).var().item<double>(), 0.01 * variance);
  at::Tensor flat = at::full({3, 16, 16}, 0.3f);
  EXPECT_TRUE(at::allclose(GaussianBlur(flat, 5, 1.5), flat, 1e-5, 1e-6));
  // Symmetric kernel + reflect padding: blurring commutes with a flip.
  at::Tensor img = ToUnit(RandomImage(3, 20, 17, 3));
  EXPECT_TRUE(at::allclose(at::flip(GaussianBlur(img, 5, 1.0), {2}),
                           GaussianBlur(at::flip(img, {2}), 5, 1.0), 1e-5, 1e-6));
}

// GaussianBlur equals torchvision's definition: a depthwise 2-D convolution with the
// outer-product Gaussian kernel after reflect padding (odd and non-square sizes, kernels up to
// nearly the image size).
TEST(AugmentTest, GaussianBlurEqualsReflectPaddedConvolution) {
  at::manual_seed(5);
  struct Case {
    int64_t h, w, k;
    double sigma;
  };
  for (const Case c : {Case{17, 23, 5, 1.0}, Case{224, 224, 23, 1.7}, Case{9, 30, 17, 2.0},
                       Case{31, 8, 7, 0.3}}) {
    SCOPED_TRACE(::testing::Message() << c.h << "x" << c.w << " k " << c.k);
    const at::Tensor img = at::rand({3, c.h, c.w});
    const at::Tensor x = at::linspace(-(c.k - 1) / 2.0, (c.k - 1) / 2.0, c.k, at::kDouble);
    at::Tensor k1 = at::exp(-0.5 * (x / c.sigma).pow(2));
    k1 = (k1 / k1.sum()).to(at::kFloat);
    const at::Tensor k2 = at::outer(k1, k1).expand({3, 1, c.k, c.k}).contiguous();
    const int64_t pad = c.k / 2;
    const at::Tensor reference =
        at::conv2d(at::reflection_pad2d(img.unsqueeze(0), {pad, pad, pad, pad}), k2,
                   /*bias=*/at::Tensor(), /*stride=*/at::IntArrayRef{1, 1},
                   /*padding=*/at::IntArrayRef{0, 0}, /*dilation=*/at::IntArrayRef{1, 1},
                   /*groups=*/3)
            .squeeze(0);
    EXPECT_TRUE(at::allclose(GaussianBlur(img, static_cast<int>(c.k), c.sigma), reference, 1e-5,
                             1e-5));
  }
}

TEST(AugmentTest, BlurKernelSize) {
  EXPECT_EQ(BlurKernelSize(0.1, 224), 23);  // 22.4
  EXPECT_EQ(BlurKernelSize(0.1, 28), 3);    // 2.8
  EXPECT_EQ(BlurKernelSize(0.1, 10), 3);    // 1.0 -> at least 3
  EXPECT_EQ(BlurKernelSize(0.1, 64), 7);    // 6.4
  EXPECT_EQ(BlurKernelSize(0.1, 96), 9);    // 9.6
}

TEST(AugmentTest, CropAreaFractionWithinScaleRange) {
  AugmentOptions o = MoCoV2Options(224, 3);
  double min_fraction = 1.0;
  double max_fraction = 0.0;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    Rng rng(seed);
    const CropBox box = SampleResizedCropBox(224, 224, o, rng);
    ASSERT_GE(box.top, 0);
    ASSERT_GE(box.left, 0);
    ASSERT_GT(box.height, 0);
    ASSERT_GT(box.width, 0);
    ASSERT_LE(box.top + box.height, 224);
    ASSERT_LE(box.left + box.width, 224);
    const double fraction = box.height * box.width / (224.0 * 224.0);
    // Rounding w and h to pixels moves the area by < 1.5%.
    ASSERT_GE(fraction, 0.2 * 0.985) << "seed " << seed;
    ASSERT_LE(fraction, 1.0);
    const double ratio = static_cast<double>(box.width) / box.height;
    ASSERT_GE(ratio, 0.75 * 0.985);
    ASSERT_LE(ratio, 4.0 / 3 * 1.015);
    min_fraction = std::min(min_fraction, fraction);
    max_fraction = std::max(max_fraction, fraction);
  }
  EXPECT_LT(min_fraction, 0.21);
  EXPECT_GT(max_fraction, 0.95);

  // A narrower range is respected too (never falls back on a square image here).
  o.scale_min = 0.3;
  o.scale_max = 0.5;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    Rng rng(seed);
    const CropBox box = SampleResizedCropBox(224, 224, o, rng);
    const double fraction = box.height * box.width / (224.0 * 224.0);
    ASSERT_GE(fraction, 0.3 * 0.985) << "seed " << seed;
    ASSERT_LE(fraction, 0.5 * 1.015) << "seed " << seed;
  }
}

TEST(AugmentTest, CropFallsBackToCentreCropClampedToRatio) {
  AugmentOptions o = MoCoV2Options(224, 3);
  o.scale_min = 1.0;
  o.scale_max = 1.0;
  Rng rng(0);
  // Aspect 3 > 4/3: no attempt fits, so h = 100, w = round(100 * 4/3) = 133, centred.
  const CropBox box = SampleResizedCropBox(100, 300, o, rng);
  EXPECT_EQ(box.height, 100);
  EXPECT_EQ(box.width, 133);
  EXPECT_EQ(box.top, 0);
  EXPECT_EQ(box.left, 83);
  const CropBox tall = SampleResizedCropBox(300, 100, o, rng);
  EXPECT_EQ(tall.width, 100);
  EXPECT_EQ(tall.height, 133);
  EXPECT_EQ(tall.top, 83);
}

TEST(AugmentTest, RandomTintColoursGrayInput) {
  AugmentOptions o = PlainOptions(16, 3);
  o.grayscale_input = GrayscaleInput::kRandomTint;
  Augmenter augmenter = MakeAugmenter(o, 1);
  at::Tensor gray = at::full({1, 16, 16}, 204, at::kByte);  // 0.8
  double min_factor = 1.0;
  double max_factor = 0.0;
  int coloured = 0;
  for (uint64_t seed = 0; seed < 500; ++seed) {
    at::Tensor out = augmenter.Apply(gray, seed);
    ASSERT_EQ(out.size(0), 3);
    for (int c = 0; c < 3; ++c) {
      const float value = out[c][0][0].item<float>();
      ASSERT_TRUE(at::equal(out[c], at::full({16, 16}, value))) << "channel not constant";
      const double factor = value / 0.8;
      ASSERT_GE(factor, 0.5 - 1e-6);
      ASSERT_LE(factor, 1.0 + 1e-6);
      min_factor = std::min(min_factor, factor);
      max_factor = std::max(max_factor, factor);
    }
    coloured += !at::equal(out[0], out[1]) || !at::equal(out[1], out[2]);
  }
  EXPECT_EQ(coloured, 500);
  EXPECT_LT(min_factor, 0.52);
  EXPECT_GT(max_factor, 0.98);

  // Random grayscale undoes the tint.
  o.grayscale_prob = 1.0;
  Augmenter grayscale = MakeAugmenter(o, 1);
  at::Tensor out = grayscale.Apply(gray, 1);
  EXPECT_TRUE(at::equal(out[0], out[1]) && at::equal(out[1], out[2]));
}

TEST(AugmentTest, ReplicatedGrayStaysGrayUnderFullJitter) {
  AugmentOptions o = MoCoV2Options(28, 3);
  o.color_jitter_prob = 1.0;
  o.mean = {0, 0, 0};
  o.std = {1, 1, 1};
  o.grayscale_input = GrayscaleInput::kReplicateRgb;
  Augmenter augmenter = MakeAugmenter(o, 1);
  at::Tensor img = RandomImage(1, 28, 28, 12);
  for (uint64_t seed = 0; seed < 50; ++seed) {
    at::Tensor out = augmenter.Apply(img, seed);
    // Saturation and hue are no-ops on gray (up to float rounding of the luma weights).
    ASSERT_TRUE(at::allclose(out[0], out[1], 0, 1e-5)) << "seed " << seed;
    ASSERT_TRUE(at::allclose(out[1], out[2], 0, 1e-5)) << "seed " << seed;
  }
}

TEST(AugmentTest, KeepGrayJitterAppliesBrightnessAndContrast) {
  AugmentOptions o = PlainOptions(28, 1);
  o.color_jitter_prob = 1.0;
  Augmenter augmenter = MakeAugmenter(o, 1);
  at::Tensor img = RandomImage(1, 28, 28, 13);
  int changed = 0;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    at::Tensor out = augmenter.Apply(img, seed);
    ASSERT_EQ(out.size(0), 1);
    changed += !at::equal(out, ToUnit(img));
  }
  EXPECT_EQ(changed, 50);
}

TEST(ColorOpsTest, BrightnessContrastSaturationSemantics) {
  at::Tensor img = ToUnit(RandomImage(3, 8, 8, 4));
  EXPECT_TRUE(at::allclose(AdjustBrightness(img, 0.5), img * 0.5));
  EXPECT_TRUE(at::allclose(AdjustBrightness(img, 3.0), (img * 3.0).clamp(0, 1)));
  // Contrast blends with the mean luma; factor 0 gives that mean everywhere.
  const float mean_luma = RgbToGrayscale(img).mean().item<float>();
  EXPECT_TRUE(at::allclose(AdjustContrast(img, 0.0), at::full_like(img, mean_luma)));
  EXPECT_TRUE(at::allclose(AdjustContrast(img, 1.0), img));
  // Saturation 0 gives grayscale, 1 the image.
  EXPECT_TRUE(
      at::allclose(AdjustSaturation(img, 0.0), RgbToGrayscale(img).expand({3, 8, 8}), 1e-5));
  EXPECT_TRUE(at::allclose(AdjustSaturation(img, 1.0), img));
  // ITU-R 601-2 luma.
  at::Tensor red = at::zeros({3, 1, 1});
  red[0].fill_(1.0);
  EXPECT_NEAR(RgbToGrayscale(red).item<float>(), 0.299f, 1e-6);
}

TEST(ColorOpsTest, HsvRoundTripAndKnownColours) {
  at::Tensor img = ToUnit(RandomImage(3, 16, 16, 21));
  EXPECT_TRUE(at::allclose(HsvToRgb(RgbToHsv(img)), img, 0, 1e-5));
  EXPECT_TRUE(at::allclose(AdjustHue(img, 0.0), img, 0, 1e-5));
  // Full-range hue shifts: +0.5 then -0.5 comes back.
  EXPECT_TRUE(at::allclose(AdjustHue(AdjustHue(img, 0.5), -0.5), img, 0, 1e-4));
  EXPECT_FALSE(at::allclose(AdjustHue(img, 0.25), img, 0, 1e-2));

  // Pixels: red, green, blue, gray 0.5, yellow.
  at::Tensor rgb = at::tensor({1.f, 0.f, 0.f, 0.5f, 1.f,  //
                               0.f, 1.f, 0.f, 0.5f, 1.f,  //
                               0.f, 0.f, 1.f, 0.5f, 0.f})
                       .view({3, 1, 5});
  at::Tensor hsv = RgbToHsv(rgb);
  at::Tensor expected = at::tensor({0.f, 1.f / 3, 2.f / 3, 0.f, 1.f / 6,  //
                                    1.f, 1.f, 1.f, 0.f, 1.f,             //
                                    1.f, 1.f, 1.f, 0.5f, 1.f})
                            .view({3, 1, 5});
  EXPECT_TRUE(at::allclose(hsv, expected, 0, 1e-6)) << hsv;
  // Rotating hue by a third maps red -> green -> blue -> red; gray is unchanged.
  at::Tensor rotated = AdjustHue(rgb, 1.0 / 3);
  at::Tensor expected_rgb = at::tensor({0.f, 0.f, 1.f, 0.5f, 0.f,  //
                                        1.f, 0.f, 0.f, 0.5f, 1.f,  //
                                        0.f, 1.f, 0.f, 0.5f, 1.f})
                                .view({3, 1, 5});
  EXPECT_TRUE(at::allclose(rotated, expected_rgb, 0, 1e-5)) << rotated;
}

TEST(AugmentCreateTest, InvalidOptionsNameTheOption) {
  struct Case {
    const char* name;
    void (*mutate)(AugmentOptions&);
  };
  const Case cases[] = {
      {"crop_size", [](AugmentOptions& o) { o.crop_size = 0; }},
      {"scale_min", [](AugmentOptions& o) { o.scale_min = 0.0; }},
      {"scale_max", [](AugmentOptions& o) { o.scale_max = 1.5; }},
      {"scale_max", [](AugmentOptions& o) { o.scale_max = 0.1; }},
      {"ratio_min", [](AugmentOptions& o) { o.ratio_min = -1.0; }},
      {"ratio_max", [](AugmentOptions& o) { o.ratio_max = 0.5; }},
      {"color_jitter_prob", [](AugmentOptions& o) { o.color_jitter_prob = 1.2; }},
      {"brightness", [](AugmentOptions& o) { o.brightness = -0.1; }},
      {"contrast", [](AugmentOptions& o) { o.contrast = -0.1; }},
      {"saturation", [](AugmentOptions& o) { o.saturation = -0.1; }},
      {"hue", [](AugmentOptions& o) { o.hue = 0.6; }},
      {"grayscale_prob", [](AugmentOptions& o) { o.grayscale_prob = -0.2; }},
      {"blur_prob", [](AugmentOptions& o) { o.blur_prob = 2.0; }},
      {"blur_sigma_min", [](AugmentOptions& o) { o.blur_sigma_min = 0.0; }},
      {"blur_sigma_max", [](AugmentOptions& o) { o.blur_sigma_max = 0.05; }},
      {"blur_kernel_fraction", [](AugmentOptions& o) { o.blur_kernel_fraction = -1.0; }},
      {"flip_prob", [](AugmentOptions& o) { o.flip_prob = std::nan(""); }},
      {"mean", [](AugmentOptions& o) { o.mean = {0.5f}; }},
      {"std", [](AugmentOptions& o) { o.std = {0.5f, 0.5f}; }},
      {"std[1]", [](AugmentOptions& o) { o.std = {0.5f, 0.0f, 0.5f}; }},
  };
  ASSERT_TRUE(Augmenter::Create(MoCoV2Options(28, 3), 3).ok());
  for (const Case& c : cases) {
    AugmentOptions o = MoCoV2Options(28, 3);
    c.mutate(o);
    EXPECT_THAT(Augmenter::Create(o, 3),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.name)))
        << c.name;
  }
  EXPECT_THAT(Augmenter::Create(MoCoV2Options(28, 3), 2),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("input_channels")));
  // Gray kept as 1 channel needs 1-entry mean/std.
  EXPECT_THAT(Augmenter::Create(MoCoV2Options(28, 3), 1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("mean")));
  // A blur kernel wider than the crop cannot be reflect-padded.
  AugmentOptions tiny = MoCoV2Options(1, 3);
  EXPECT_THAT(Augmenter::Create(tiny, 3),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("crop_size")));
  tiny.blur_prob = 0.0;
  EXPECT_TRUE(Augmenter::Create(tiny, 3).ok());
}

TEST(CenterCropNormalizeTest, IdentityGeometryFor28x28) {
  at::Tensor img = RandomImage(1, 28, 28, 30);
  at::Tensor out = CenterCropNormalize(img, 28, 28, 1, {0.25f}, {0.5f});
  EXPECT_TRUE(at::equal(out, (ToUnit(img) - 0.25f) / 0.5f));
  at::Tensor rgb = CenterCropNormalize(img, 28, 28, 3, {0, 0, 0}, {1, 1, 1});
  ASSERT_EQ(rgb.sizes(), at::IntArrayRef({3, 28, 28}));
  EXPECT_TRUE(at::equal(rgb[0], ToUnit(img)[0]) && at::equal(rgb[2], ToUnit(img)[0]));
}

TEST(CenterCropNormalizeTest, ResizeShortSideThenCentreCrop) {
  at::Tensor img = RandomImage(3, 40, 60, 31);
  at::Tensor out = CenterCropNormalize(img, 32, 24, 3, {0, 0, 0}, {1, 1, 1});
  ASSERT_EQ(out.sizes(), at::IntArrayRef({3, 24, 24}));
  // Resize(32): 40x60 -> 32x48; CenterCrop(24): top = round(4) = 4, left = round(12) = 12.
  at::Tensor resized = at::upsample_bilinear2d(ToUnit(img).unsqueeze(0), {32, 48}, false)[0];
  EXPECT_TRUE(at::allclose(out, resized.slice(1, 4, 28).slice(2, 12, 36), 0, 1e-6));
  EXPECT_THROW(CenterCropNormalize(img, 32, 40, 3, {0, 0, 0}, {1, 1, 1}), c10::Error);
  EXPECT_THROW(CenterCropNormalize(img, 32, 24, 3, {0}, {1}), c10::Error);
  EXPECT_THROW(CenterCropNormalize(img, 32, 24, 1, {0}, {1}), c10::Error);
}

// Not a benchmark gate: prints the per-view cost so regressions are visible in the log.
TEST(AugmentTest, ReportsThroughput) {
  struct Case {
    int channels;
    int size;
    int count;
  };
  for (const Case& c : {Case{1, 28, 500}, Case{3, 224, 10}}) {
    AugmentOptions o = MoCoV2Options(c.size, c.channels);
    Augmenter augmenter = MakeAugmenter(o, c.channels);
    at::Tensor img = RandomImage(c.channels, c.size == 224 ? 256 : 28, c.size == 224 ? 300 : 28,
                                 40);
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < c.count; ++i) augmenter.Apply(img, i);
    const double us = std::chrono::duration<double, std::micro>(
                          std::chrono::steady_clock::now() - start)
                          .count() /
                      c.count;
    std::cout << "Apply " << c.channels << "x" << c.size << ": " << us << " us/view\n";
  }
}

}  // namespace
}  // namespace mochi::data
