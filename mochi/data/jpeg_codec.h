// JPEG decoding and encoding with libjpeg-turbo (Debian's libjpeg62-turbo: SIMD IDCT and colour
// conversion, and decoding at 1/2, 1/4 or 1/8 scale in the DCT domain, which skips most of the
// IDCT work when the image is much larger than what it is cropped and resized to).
#ifndef MOCHI_DATA_JPEG_CODEC_H_
#define MOCHI_DATA_JPEG_CODEC_H_

#include <string>

#include "ATen/core/Tensor.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mochi::data {

// True if `bytes` start with a JPEG SOI marker (FF D8 FF).
bool LooksLikeJpeg(absl::string_view bytes);

struct JpegSize {
  int height = 0;
  int width = 0;
};

// The image size from the header alone. DataLoss if it is not a readable JPEG.
absl::StatusOr<JpegSize> ReadJpegSize(absl::string_view bytes);

// The DCT-domain downscale 1/f (f in 1, 2, 4, 8) DecodeJpeg uses: the largest f whose decoded
// shorter side, ceil(min(height, width) / f), is still >= min_side. min_side <= 0: 1.
int JpegScaleDenominator(const JpegSize& size, int min_side);

// Decodes to uint8 [3, H', W'] RGB (grayscale replicated), at 1/f scale with
// f = JpegScaleDenominator(size, min_side) (H' = ceil(H / f)); min_side <= 0 = full size.
// Accurate integer IDCT and libjpeg's smooth chroma upsampling. DataLoss for data that is not a
// JPEG, is truncated (libjpeg would pad it with grey) or is CMYK (no RGB conversion).
absl::StatusOr<at::Tensor> DecodeJpeg(absl::string_view bytes, int min_side = 0);

// Encodes uint8 [3, H, W] RGB at `quality` (1..100), 4:2:0 chroma subsampling as most photos.
absl::StatusOr<std::string> EncodeJpeg(const at::Tensor& rgb, int quality);

}  // namespace mochi::data

#endif  // MOCHI_DATA_JPEG_CODEC_H_
