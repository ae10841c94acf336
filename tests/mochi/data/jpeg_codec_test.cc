#include "mochi/data/jpeg_codec.h"

#include <memory>
#include <string>

#include "ATen/ATen.h"
#include "gtest/gtest.h"
#include "stb/stb_image.h"
#include "tests/testing/status_matchers.h"

namespace mochi::data {
namespace {

using ::mochi::testing::StatusIs;
using ::testing::HasSubstr;

// A photo-like test image: smooth colour gradients, a soft disc and mild texture (JPEG's error
// on it is small and the same for any decoder up to its IDCT and upsampling).
at::Tensor PhotoLike(int64_t height, int64_t width) {
  const at::Tensor y = at::linspace(0, 1, height).view({height, 1});
  const at::Tensor x = at::linspace(0, 1, width).view({1, width});
  const at::Tensor disc = ((x - 0.6).pow(2) + (y - 0.4).pow(2) < 0.05).to(at::kFloat);
  const at::Tensor texture = 0.5 + 0.5 * at::sin(x * 40) * at::cos(y * 25);
  const at::Tensor r = 40 + 150 * x + 50 * disc + 10 * texture;
  const at::Tensor g = 60 + 120 * y + 10 * texture - 30 * disc;
  const at::Tensor b = 180 - 100 * x * y + 40 * disc;
  return at::stack(
             {r.expand({height, width}), g.expand({height, width}), b.expand({height, width})})
      .round()
      .clamp(0, 255)
      .to(at::kByte);
}

// stb_image's decode of the same bytes, uint8 [3, H, W].
at::Tensor StbDecode(const std::string& bytes) {
  int width = 0, height = 0, channels = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
      stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()),
                            static_cast<int>(bytes.size()), &width, &height, &channels, 3),
      stbi_image_free);
  EXPECT_NE(pixels, nullptr);
  return at::from_blob(pixels.get(), {height, width, 3}, at::kByte).permute({2, 0, 1}).clone();
}

double MeanAbsDiff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().mean().item<double>();
}
double MaxAbsDiff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

// libjpeg-turbo against stb_image (the reference decoder the loader used before) and against the
// pixels that were encoded. Odd sizes exercise partial MCUs.
TEST(JpegCodecTest, DecodesLikeTheReferenceDecoder) {
  for (const auto& [height, width] : {std::pair{375, 500}, std::pair{37, 53}}) {
    SCOPED_TRACE(::testing::Message() << height << "x" << width);
    const at::Tensor original = PhotoLike(height, width);
    absl::StatusOr<std::string> bytes = EncodeJpeg(original, 95);
    MOCHI_ASSERT_OK(bytes);
    ASSERT_TRUE(LooksLikeJpeg(*bytes));
    absl::StatusOr<JpegSize> size = ReadJpegSize(*bytes);
    MOCHI_ASSERT_OK(size);
    EXPECT_EQ(size->height, height);
    EXPECT_EQ(size->width, width);
    absl::StatusOr<at::Tensor> decoded = DecodeJpeg(*bytes);
    MOCHI_ASSERT_OK(decoded);
    ASSERT_EQ(decoded->sizes(), (at::IntArrayRef{3, height, width}));
    const at::Tensor reference = StbDecode(*bytes);
    // Both decoders use the accurate integer IDCT and a triangle filter for the 4:2:0 chroma;
    // they differ in rounding only (measured: mean 0.02-0.08 levels, max 2).
    EXPECT_LT(MeanAbsDiff(*decoded, reference), 0.25);
    EXPECT_LE(MaxAbsDiff(*decoded, reference), 4);
    EXPECT_LT(MeanAbsDiff(*decoded, original), 3.0);  // quality 95: measured 0.6 and 2.4
  }
}

TEST(JpegCodecTest, ScaleDenominatorKeepsTheShorterSide) {
  EXPECT_EQ(JpegScaleDenominator({375, 500}, 224), 1);    // 188 < 224 at 1/2
  EXPECT_EQ(JpegScaleDenominator({1000, 800}, 224), 2);   // 400 at 1/2, 200 at 1/4
  EXPECT_EQ(JpegScaleDenominator({3000, 2000}, 224), 8);  // 250 at 1/8
  EXPECT_EQ(JpegScaleDenominator({893, 1000}, 224), 4);   // ceil(893 / 4) = 224
  EXPECT_EQ(JpegScaleDenominator({892, 1000}, 224), 2);   // ceil(892 / 4) = 223
  EXPECT_EQ(JpegScaleDenominator({3000, 2000}, 0), 1);
}

// DCT-domain downscaling: ceil(H / f) x ceil(W / f), close to the full decode box-filtered.
TEST(JpegCodecTest, DownscaledDecodeIsTheBoxFilteredImage) {
  const at::Tensor original = PhotoLike(480, 640);
  absl::StatusOr<std::string> bytes = EncodeJpeg(original, 95);
  MOCHI_ASSERT_OK(bytes);
  absl::StatusOr<at::Tensor> full = DecodeJpeg(*bytes);
  MOCHI_ASSERT_OK(full);
  for (const int f : {2, 4}) {
    SCOPED_TRACE(f);
    absl::StatusOr<at::Tensor> scaled = DecodeJpeg(*bytes, /*min_side=*/480 / f);
    MOCHI_ASSERT_OK(scaled);
    ASSERT_EQ(scaled->sizes(), (at::IntArrayRef{3, 480 / f, 640 / f}));
    const at::Tensor box = at::avg_pool2d(full->to(at::kFloat).unsqueeze(0), f).squeeze(0);
    EXPECT_LT(MeanAbsDiff(*scaled, box), 1.0);  // measured 0.17 (f = 2) and 0.34 (f = 4)
  }
}

TEST(JpegCodecTest, CorruptDataIsDataLossNotACrash) {
  absl::StatusOr<std::string> bytes = EncodeJpeg(PhotoLike(64, 64), 90);
  MOCHI_ASSERT_OK(bytes);
  EXPECT_THAT(DecodeJpeg(bytes->substr(0, bytes->size() / 2)).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("truncated")));
  EXPECT_THAT(DecodeJpeg("this is not a JPEG").status(), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodeJpeg("").status(), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(ReadJpegSize(bytes->substr(0, 10)).status(), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_FALSE(LooksLikeJpeg("\x89PNG"));
}

TEST(JpegCodecTest, EncodeRejectsBadInput) {
  EXPECT_THAT(EncodeJpeg(at::zeros({3, 4, 4}, at::kFloat), 90).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(EncodeJpeg(at::zeros({1, 4, 4}, at::kByte), 90).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(EncodeJpeg(at::zeros({3, 4, 4}, at::kByte), 0).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace mochi::data
