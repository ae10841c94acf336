#include "mochi/port/paths.h"

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_replace.h"

namespace mochi {

std::string ResolvePath(const std::string& path) {
  std::string resolved = path;
  if (const char* imagenet = std::getenv("MOCHI_IMAGENET")) {
    resolved = absl::StrReplaceAll(resolved, {{"$MOCHI_IMAGENET", imagenet}});
  }
  if (resolved.empty() || std::filesystem::path(resolved).is_absolute()) return resolved;
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  return workspace ? (std::filesystem::path(workspace) / resolved).string() : resolved;
}

}  // namespace mochi
