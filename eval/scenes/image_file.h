// JPEG encoding and file writing for the scene datasets.
#ifndef EVAL_SCENES_IMAGE_FILE_H_
#define EVAL_SCENES_IMAGE_FILE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mochi::eval::scenes {

// EncodeJpeg encodes height x width x 3 RGB bytes as a baseline JPEG with stb_image_write
// (deterministic: the same pixels and libstb give the same bytes). InvalidArgument on a size
// mismatch or a quality outside 1..100, Internal if stb fails.
//
// Example:
//   MOCHI_ASSIGN_OR_RETURN(std::string jpeg, EncodeJpeg(scene.rgb, 192, 192, /*quality=*/90));
absl::StatusOr<std::string> EncodeJpeg(const std::vector<uint8_t>& rgb, int width, int height,
                                       int quality);

// WriteFileBytes replaces the file at `path` with `bytes`. Internal (with the path and the
// system error) on failure.
absl::Status WriteFileBytes(const std::string& path, absl::string_view bytes);

// MakeDirectories creates `path` and its parents if missing (Internal on failure).
absl::Status MakeDirectories(const std::string& path);

}  // namespace mochi::eval::scenes

#endif  // EVAL_SCENES_IMAGE_FILE_H_
