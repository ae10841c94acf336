// A synthetic ImageNet-style tree for loader benchmarks: root/<class>/<index>.jpg, photo-sized
// JPEGs (500 x 375 by default, ImageNet's most common size) cut from the Fashion-MNIST scenes'
// procedural backgrounds (eval/scenes/background.h). Deterministic in `seed`.
#ifndef BENCH_SYNTHETIC_JPEG_TREE_H_
#define BENCH_SYNTHETIC_JPEG_TREE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace mochi::bench {

struct SyntheticJpegTreeOptions {
  int classes = 10;
  int images_per_class = 200;
  int height = 375;
  int width = 500;
  int quality = 90;  // ImageNet's JPEGs are mostly quality 90-96
  uint64_t seed = 0;
};

// Writes the tree under `root` (created if missing; existing files are overwritten).
absl::Status WriteSyntheticJpegTree(const std::string& root,
                                    const SyntheticJpegTreeOptions& options);

}  // namespace mochi::bench

#endif  // BENCH_SYNTHETIC_JPEG_TREE_H_
