#include "mochi/data/jpeg_codec.h"

#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

// jpeglib.h needs size_t and FILE declared first.
#include "ATen/ATen.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "jpeglib.h"
// The message codes (JWRN_JPEG_EOF).
#include "jerror.h"

namespace mochi::data {
namespace {

// libjpeg reports errors through error_exit, which must not return: it jumps back to the setjmp
// of the call in progress. Only the functions below that call setjmp touch libjpeg, and they
// hold no C++ objects, so the jump skips no destructor.
struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool truncated;
};

void ErrorExit(j_common_ptr info) {
  ErrorManager* err = reinterpret_cast<ErrorManager*>(info->err);
  (*info->err->format_message)(info, err->message);
  std::longjmp(err->jump, 1);
}

// Warnings (level -1) are kept quiet; a premature end of data is remembered, as libjpeg then
// pads the image with grey instead of failing.
void EmitMessage(j_common_ptr info, int level) {
  ErrorManager* err = reinterpret_cast<ErrorManager*>(info->err);
  if (level == -1 && info->err->msg_code == JWRN_JPEG_EOF) err->truncated = true;
}

void InstallErrorManager(ErrorManager& err) {
  jpeg_std_error(&err.pub);
  err.pub.error_exit = ErrorExit;
  err.pub.emit_message = EmitMessage;
  err.message[0] = '\0';
  err.truncated = false;
}

struct Decoder {
  jpeg_decompress_struct info;
  ErrorManager err;
  bool created = false;
  ~Decoder() {
    if (created) jpeg_destroy_decompress(&info);
  }
};

// Header and output size at 1/scale_denominator (0 = choose from min_side). False on error.
bool ReadHeader(Decoder& d, const unsigned char* data, size_t size, int min_side) {
  InstallErrorManager(d.err);
  d.info.err = &d.err.pub;
  if (setjmp(d.err.jump)) return false;
  jpeg_create_decompress(&d.info);
  d.created = true;
  jpeg_mem_src(&d.info, data, static_cast<unsigned long>(size));  // NOLINT(runtime/int)
  jpeg_read_header(&d.info, TRUE);
  if (d.info.jpeg_color_space == JCS_CMYK || d.info.jpeg_color_space == JCS_YCCK) {
    std::snprintf(d.err.message, sizeof(d.err.message), "CMYK JPEG (no RGB conversion)");
    return false;
  }
  d.info.out_color_space = JCS_RGB;
  d.info.dct_method = JDCT_ISLOW;
  d.info.scale_num = 1;
  d.info.scale_denom = static_cast<unsigned int>(JpegScaleDenominator(
      {static_cast<int>(d.info.image_height), static_cast<int>(d.info.image_width)}, min_side));
  jpeg_calc_output_dimensions(&d.info);
  return true;
}

// Decodes into `out` (output_height x output_width x 3). False on error.
bool ReadPixels(Decoder& d, unsigned char* out) {
  if (setjmp(d.err.jump)) return false;
  jpeg_start_decompress(&d.info);
  const size_t stride = static_cast<size_t>(d.info.output_width) * 3;
  while (d.info.output_scanline < d.info.output_height) {
    JSAMPROW row = out + d.info.output_scanline * stride;
    jpeg_read_scanlines(&d.info, &row, 1);
  }
  jpeg_finish_decompress(&d.info);
  return true;
}

struct Encoder {
  jpeg_compress_struct info;
  ErrorManager err;
  unsigned char* buffer = nullptr;
  unsigned long buffer_size = 0;  // NOLINT(runtime/int): libjpeg's type
  bool created = false;
  ~Encoder() {
    if (created) jpeg_destroy_compress(&info);
    std::free(buffer);
  }
};

// Encodes `rgb` (height x width x 3, contiguous). False on error.
bool Encode(Encoder& e, const unsigned char* rgb, int height, int width, int quality) {
  InstallErrorManager(e.err);
  e.info.err = &e.err.pub;
  if (setjmp(e.err.jump)) return false;
  jpeg_create_compress(&e.info);
  e.created = true;
  jpeg_mem_dest(&e.info, &e.buffer, &e.buffer_size);
  e.info.image_width = static_cast<JDIMENSION>(width);
  e.info.image_height = static_cast<JDIMENSION>(height);
  e.info.input_components = 3;
  e.info.in_color_space = JCS_RGB;
  jpeg_set_defaults(&e.info);  // YCbCr 4:2:0
  jpeg_set_quality(&e.info, quality, TRUE);
  jpeg_start_compress(&e.info, TRUE);
  const size_t stride = static_cast<size_t>(width) * 3;
  while (e.info.next_scanline < e.info.image_height) {
    JSAMPROW row = const_cast<unsigned char*>(rgb) + e.info.next_scanline * stride;
    jpeg_write_scanlines(&e.info, &row, 1);
  }
  jpeg_finish_compress(&e.info);
  return true;
}

absl::Status DecodeError(const char* message) {
  return absl::DataLossError(absl::StrCat("not a decodable JPEG (libjpeg-turbo: ", message, ")"));
}

}  // namespace

bool LooksLikeJpeg(absl::string_view bytes) {
  return bytes.size() >= 3 && static_cast<unsigned char>(bytes[0]) == 0xFF &&
         static_cast<unsigned char>(bytes[1]) == 0xD8 &&
         static_cast<unsigned char>(bytes[2]) == 0xFF;
}

int JpegScaleDenominator(const JpegSize& size, int min_side) {
  if (min_side <= 0) return 1;
  const int shorter = std::min(size.height, size.width);
  int f = 1;
  while (f < 8 && (shorter + 2 * f - 1) / (2 * f) >= min_side) f *= 2;
  return f;
}

absl::StatusOr<JpegSize> ReadJpegSize(absl::string_view bytes) {
  Decoder d;
  if (!ReadHeader(d, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), 0)) {
    return DecodeError(d.err.message);
  }
  return JpegSize{static_cast<int>(d.info.image_height), static_cast<int>(d.info.image_width)};
}

absl::StatusOr<at::Tensor> DecodeJpeg(absl::string_view bytes, int min_side) {
  Decoder d;
  if (!ReadHeader(d, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                  min_side)) {
    return DecodeError(d.err.message);
  }
  at::Tensor hwc = at::empty(
      {static_cast<int64_t>(d.info.output_height), static_cast<int64_t>(d.info.output_width), 3},
      at::kByte);
  if (!ReadPixels(d, hwc.data_ptr<uint8_t>())) return DecodeError(d.err.message);
  if (d.err.truncated) return DecodeError("premature end of data: the file is truncated");
  return hwc.permute({2, 0, 1}).contiguous();
}

absl::StatusOr<std::string> EncodeJpeg(const at::Tensor& rgb, int quality) {
  if (rgb.dim() != 3 || rgb.size(0) != 3 || rgb.scalar_type() != at::kByte || rgb.size(1) < 1 ||
      rgb.size(2) < 1) {
    return absl::InvalidArgumentError("EncodeJpeg: uint8 [3, H, W] expected");
  }
  if (quality < 1 || quality > 100) {
    return absl::InvalidArgumentError(
        absl::StrCat("EncodeJpeg: quality ", quality, " must be in [1, 100]"));
  }
  const at::Tensor hwc = rgb.permute({1, 2, 0}).contiguous().cpu();
  Encoder e;
  if (!Encode(e, hwc.data_ptr<uint8_t>(), static_cast<int>(rgb.size(1)),
              static_cast<int>(rgb.size(2)), quality)) {
    return absl::InternalError(absl::StrCat("EncodeJpeg: libjpeg-turbo: ", e.err.message));
  }
  return std::string(reinterpret_cast<const char*>(e.buffer), e.buffer_size);
}

}  // namespace mochi::data
