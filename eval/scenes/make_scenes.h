// Generates the Fashion-MNIST scene datasets on disk (the library behind //eval:make_scenes).
//
// Tasks (docs/evaluation.md describes the datasets):
//   voc   <output_dir>/VOCdevkit/FMS2007 with train, val, trainval and test lists
//         (voc_writer.h); detectron2/MoCo train on trainval and test on test.
//   coco  <output_dir>/coco/annotations/instances_{train,val}.json and images in
//         <output_dir>/coco/{train,val}/ (coco_writer.h); evaluated on val, like val2017.
// Train scenes paste Fashion-MNIST train items. Val and test scenes paste test items: val the
// first half of the test split and test the second half, so VOC's trainval never shares an
// item with test.
#ifndef EVAL_SCENES_MAKE_SCENES_H_
#define EVAL_SCENES_MAKE_SCENES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eval/scenes/coco_writer.h"

namespace mochi::eval::scenes {

// Upper bound on scenes per split (unique COCO image ids, see CocoImageId).
inline constexpr int64_t kMaxScenesPerSplit = 900000;

struct MakeScenesOptions {
  std::string output_dir;
  bool voc = true;
  bool coco = true;
  int64_t num_train = 1000;
  int64_t num_val = 250;
  int64_t num_test = 250;  // VOC only: COCO-style evaluation uses val
  int canvas = 192;
  uint64_t seed = 0;
  std::string fashion_mnist_root = "/usr/share/datasets/fashion-mnist";
  // Use only the first `item_limit` items of each Fashion-MNIST split (0 = all; for tests).
  int64_t item_limit = 0;
  CocoMaskFormat coco_mask_format = CocoMaskFormat::kPolygon;
  int jpeg_quality = 90;
  // Threads generating and encoding scenes. The output does not depend on it: every scene is a
  // pure function of (seed, split, index) and files are written in index order.
  int num_threads = 2;
};

// Counts over one split. Area buckets use COCO's thresholds on the mask area of iscrowd=0
// instances: small < 32^2 <= medium < 96^2 <= large.
struct SplitSummary {
  std::string split;
  int64_t images = 0;
  int64_t instances = 0;  // iscrowd=0
  int64_t crowd_regions = 0;
  int64_t small = 0;
  int64_t medium = 0;
  int64_t large = 0;
  int64_t difficult = 0;
  int64_t truncated = 0;
  int64_t dropped = 0;  // pasted objects removed as under 25% visible
};

struct TaskSummary {
  std::string task;  // "voc" or "coco"
  std::string path;  // dataset root written
  std::vector<SplitSummary> splits;
  double seconds = 0;  // wall time generating and writing this task (not loading items)
};

// InvalidArgument, naming the flag, for: an empty output_dir, no task, a negative or too large
// count, a canvas outside [kMinCanvas, kMaxCanvas], a JPEG quality outside 1..100, a negative
// item_limit, num_threads outside 1..64.
absl::Status ValidateMakeScenesOptions(const MakeScenesOptions& options);

// MakeScenes validates `options`, loads Fashion-MNIST and writes the selected tasks. Errors
// from loading (e.g. NotFound when dataset-fashion-mnist is not installed) and writing pass
// through.
//
// Example:
//   MakeScenesOptions options;
//   options.output_dir = "/tmp/scenes";
//   MOCHI_ASSIGN_OR_RETURN(std::vector<TaskSummary> summaries, MakeScenes(options));
absl::StatusOr<std::vector<TaskSummary>> MakeScenes(const MakeScenesOptions& options);

// One line, e.g. "coco -> /tmp/scenes/coco: train 1000 images, 4210 instances, 97 crowd
// regions, small/medium/large 2207/1711/292 (dropped 812, difficult 601, truncated 930); val ...
// [1.9 s]".
std::string FormatTaskSummary(const TaskSummary& summary);

}  // namespace mochi::eval::scenes

#endif  // EVAL_SCENES_MAKE_SCENES_H_
