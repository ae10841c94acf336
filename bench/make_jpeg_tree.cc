// Writes the synthetic ImageNet-style JPEG tree (bench/synthetic_jpeg_tree.h).
//   bazel run //bench:make_jpeg_tree -- --output_dir=/tmp/jpeg_tree [--classes=10]
//     [--images_per_class=200]
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "bench/synthetic_jpeg_tree.h"
#include "mochi/port/paths.h"

ABSL_FLAG(std::string, output_dir, "", "Root of the tree (required).");
ABSL_FLAG(int, classes, 10, "Class directories.");
ABSL_FLAG(int, images_per_class, 200, "JPEGs per class.");
ABSL_FLAG(uint64_t, seed, 0, "Content seed.");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_output_dir).empty()) {
    std::fprintf(stderr, "--output_dir is required\n");
    return 2;
  }
  mochi::bench::SyntheticJpegTreeOptions options;
  options.classes = absl::GetFlag(FLAGS_classes);
  options.images_per_class = absl::GetFlag(FLAGS_images_per_class);
  options.seed = absl::GetFlag(FLAGS_seed);
  const std::string root = mochi::ResolvePath(absl::GetFlag(FLAGS_output_dir));
  if (const absl::Status status = mochi::bench::WriteSyntheticJpegTree(root, options);
      !status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("wrote %d x %d JPEGs under %s\n", options.classes, options.images_per_class,
              root.c_str());
  return 0;
}
