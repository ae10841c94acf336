#include "eval/scenes/image_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "stb/stb_image_write.h"

namespace mochi::eval::scenes {
namespace {

void AppendToString(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), size);
}

}  // namespace

absl::StatusOr<std::string> EncodeJpeg(const std::vector<uint8_t>& rgb, int width, int height,
                                       int quality) {
  if (width <= 0 || height <= 0 || rgb.size() != static_cast<size_t>(width) * height * 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("jpeg: ", rgb.size(), " bytes for ", width, "x", height, " RGB"));
  }
  if (quality < 1 || quality > 100) {
    return absl::InvalidArgumentError(absl::StrCat("jpeg quality ", quality, " is not in 1..100"));
  }
  std::string jpeg;
  if (stbi_write_jpg_to_func(&AppendToString, &jpeg, width, height, 3, rgb.data(), quality) == 0) {
    return absl::InternalError(
        absl::StrCat("stb_image_write failed on a ", width, "x", height, " image"));
  }
  return jpeg;
}

absl::Status WriteFileBytes(const std::string& path, absl::string_view bytes) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (file) file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (file) file.close();
  if (!file) {
    return absl::InternalError(absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status MakeDirectories(const std::string& path) {
  std::error_code error;
  std::filesystem::create_directories(path, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot create directory ", path, ": ", error.message()));
  }
  return absl::OkStatus();
}

}  // namespace mochi::eval::scenes
