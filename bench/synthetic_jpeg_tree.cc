#include "bench/synthetic_jpeg_tree.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

#include "ATen/ATen.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "eval/scenes/background.h"
#include "mochi/data/jpeg_codec.h"
#include "mochi/data/rng.h"

namespace mochi::bench {

absl::Status WriteSyntheticJpegTree(const std::string& root,
                                    const SyntheticJpegTreeOptions& options) {
  if (options.classes < 1 || options.images_per_class < 1 || options.height < 1 ||
      options.width < 1) {
    return absl::InvalidArgumentError(
        "synthetic JPEG tree: classes, images and sizes must be >= 1");
  }
  const int canvas = std::max(options.height, options.width);
  for (int c = 0; c < options.classes; ++c) {
    const std::string dir = absl::StrFormat("%s/class_%03d", root, c);
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    if (error)
      return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", error.message()));
    for (int i = 0; i < options.images_per_class; ++i) {
      std::vector<uint8_t> rgb = eval::scenes::RenderBackground(
          canvas, data::MixSeed(options.seed, static_cast<uint64_t>(c) * 1000003 + i));
      const at::Tensor image = at::from_blob(rgb.data(), {canvas, canvas, 3}, at::kByte)
                                   .narrow(0, 0, options.height)
                                   .narrow(1, 0, options.width)
                                   .permute({2, 0, 1});
      absl::StatusOr<std::string> bytes = data::EncodeJpeg(image, options.quality);
      if (!bytes.ok()) return bytes.status();
      const std::string path = absl::StrFormat("%s/%05d.jpg", dir, i);
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
      if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
    }
  }
  return absl::OkStatus();
}

}  // namespace mochi::bench
