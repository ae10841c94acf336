// Paths given in configs and flags, resolved the way a `bazel run` user means them.
#ifndef MOCHI_PORT_PATHS_H_
#define MOCHI_PORT_PATHS_H_

#include <string>

namespace mochi {

// "$MOCHI_IMAGENET" is expanded from the environment; relative paths are taken from
// BUILD_WORKSPACE_DIRECTORY (set by `bazel run`) or else the current directory.
std::string ResolvePath(const std::string& path);

}  // namespace mochi

#endif  // MOCHI_PORT_PATHS_H_
