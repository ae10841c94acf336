// Generates the Fashion-MNIST scene datasets (VOC- and COCO-style detection / instance
// segmentation; eval/scenes/make_scenes.h).
//
// bazel run //eval:make_scenes -- --output_dir=/tmp/fms --task=both --num_train=1000
//     --num_val=250 --num_test=250 --canvas=192 --seed=0
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "eval/scenes/make_scenes.h"
#include "mochi/port/paths.h"

ABSL_FLAG(std::string, output_dir, "", "Directory receiving VOCdevkit/ and/or coco/.");
ABSL_FLAG(std::string, task, "both", "voc, coco or both.");
ABSL_FLAG(int64_t, num_train, 1000, "Train scenes per task (Fashion-MNIST train items).");
ABSL_FLAG(int64_t, num_val, 250, "Val scenes per task (first half of the test items).");
ABSL_FLAG(int64_t, num_test, 250, "VOC test scenes (second half of the test items).");
ABSL_FLAG(int, canvas, 192, "Square canvas side in px (64..2048).");
ABSL_FLAG(uint64_t, seed, 0,
          "Dataset seed; each scene is a pure function of (seed, split, index).");
ABSL_FLAG(std::string, fashion_mnist_root, "/usr/share/datasets/fashion-mnist",
          "Fashion-MNIST IDX files (apt: dataset-fashion-mnist).");
ABSL_FLAG(std::string, coco_masks, "polygon",
          "COCO iscrowd=0 segmentations: polygon (traced from the mask) or rle (compressed).");
ABSL_FLAG(int, jpeg_quality, 90, "JPEG quality, 1..100.");
ABSL_FLAG(int, threads, 2, "Worker threads (the output does not depend on it).");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  namespace scenes = mochi::eval::scenes;
  scenes::MakeScenesOptions options;
  const std::string output_dir = absl::GetFlag(FLAGS_output_dir);
  options.output_dir = output_dir.empty() ? "" : mochi::ResolvePath(output_dir);
  const std::string task = absl::GetFlag(FLAGS_task);
  if (task != "voc" && task != "coco" && task != "both") {
    std::fprintf(stderr, "make_scenes: --task=%s: use voc, coco or both\n", task.c_str());
    return EXIT_FAILURE;
  }
  options.voc = task != "coco";
  options.coco = task != "voc";
  const std::string coco_masks = absl::GetFlag(FLAGS_coco_masks);
  if (coco_masks == "polygon") {
    options.coco_mask_format = scenes::CocoMaskFormat::kPolygon;
  } else if (coco_masks == "rle") {
    options.coco_mask_format = scenes::CocoMaskFormat::kCompressedRle;
  } else {
    std::fprintf(stderr, "make_scenes: --coco_masks=%s: use polygon or rle\n", coco_masks.c_str());
    return EXIT_FAILURE;
  }
  options.num_train = absl::GetFlag(FLAGS_num_train);
  options.num_val = absl::GetFlag(FLAGS_num_val);
  options.num_test = absl::GetFlag(FLAGS_num_test);
  options.canvas = absl::GetFlag(FLAGS_canvas);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.fashion_mnist_root = absl::GetFlag(FLAGS_fashion_mnist_root);
  options.jpeg_quality = absl::GetFlag(FLAGS_jpeg_quality);
  options.num_threads = absl::GetFlag(FLAGS_threads);

  const absl::StatusOr<std::vector<scenes::TaskSummary>> summaries = scenes::MakeScenes(options);
  if (!summaries.ok()) {
    std::fprintf(stderr, "make_scenes: %s\n", summaries.status().ToString().c_str());
    return EXIT_FAILURE;
  }
  for (const scenes::TaskSummary& summary : *summaries) {
    std::printf("%s (seed %llu, canvas %d)\n", scenes::FormatTaskSummary(summary).c_str(),
                static_cast<unsigned long long>(options.seed), options.canvas);
  }
  return EXIT_SUCCESS;
}
