// //eval:detect and //eval:segment (detectron2's tools/train_net.py on one process):
//   RunDetection fine-tunes Faster R-CNN C4 from a pretrained (or random) backbone on a VOC- or
//   COCO-format dataset (pascal_voc_R_50_C4_24k), detects on the test split and scores it: VOC
//   AP50 / AP / AP75 for VOC, COCO box AP for COCO.
//   RunSegmentation does the same with Mask R-CNN C4 on a COCO-format dataset
//   (coco_R_50_C4_1x) and scores boxes and masks with //eval/coco.
//
// Run directory <output_dir>:
//   config.pbtxt         the resolved DetectionConfig / SegmentationConfig (after overrides)
//   checkpoint.pt        training checkpoint (model, optimizer, RNG, iteration) for --resume
//   model_final.pt       the fine-tuned model
//   coco_results.json    test-split detections (with "segmentation" RLEs for Mask R-CNN)
//   voc_results/<class>.txt, voc_eval.json   VOC test sets: {"AP", "AP50", "AP75", ...} (percent)
//   coco_eval.json       COCO test sets: {"bbox": {"AP", ...}, "segm": {...}} (fractions)
//   metrics.json         losses of the last iteration, wall times, the scores above
//
// Example:
//   DetectionRunOptions run;
//   run.output_dir = "/tmp/det";
//   run.checkpoint = "runs/mocov2_fmnist";
//   MOCHI_RETURN_IF_ERROR(RunDetection(config, run));
#ifndef EVAL_DETECTION_DETECTION_TRAIN_H_
#define EVAL_DETECTION_DETECTION_TRAIN_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mochi/proto/detection.pb.h"
#include "mochi/proto/segmentation.pb.h"

namespace mochi::eval::detection {

struct DetectionRunOptions {
  std::string output_dir;
  // Replace config.init: a pretraining run directory (config.pbtxt + checkpoint.pt) or a
  // checkpoint file beside its config.pbtxt; or random initialisation. Empty / false: as config.
  std::string checkpoint;
  bool random_init = false;
  // Non-empty: replaces the voc_root of the train and test datasets.
  std::string voc_root;
  // Non-empty: COCO datasets read <coco_root>/annotations/<their annotations file name> and
  // <coco_root>/<their image directory name> (make_scenes' coco/ and COCO 2017 both fit).
  std::string coco_root;
  // Evaluate the test detections (VOC: needs a single test image set).
  bool evaluate = true;
  // Continue from <output_dir>/checkpoint.pt (written every config.checkpoint_every_iters, at the
  // end, and on SIGINT/SIGTERM). Without it an existing checkpoint is an error.
  bool resume = false;
  // > 0: stop with a checkpoint after this many iterations of the run (tests, time slices).
  int64_t max_iters = 0;
};

// The binaries' flags as run options, paths resolved as a `bazel run` user means them
// (ResolvePath). InvalidArgument when both a checkpoint and random_init are given, or no
// output_dir.
absl::StatusOr<DetectionRunOptions> MakeDetectionRunOptions(
    const std::string& checkpoint, bool random_init, const std::string& voc_root,
    const std::string& coco_root, const std::string& output_dir, bool evaluate, bool resume,
    int64_t max_iters);

// Validates the (overridden) config, trains, detects and evaluates. InvalidArgument for a bad
// config, FailedPrecondition for a checkpoint that does not fit the backbone (or a training
// checkpoint of another config, or one that exists without `resume`), NotFound for missing
// data, Internal when the loss stops being finite, Cancelled after SIGINT/SIGTERM (the
// checkpoint is written; resume continues bit for bit on CPU). Stopped by max_iters: OK, with
// nothing evaluated.
absl::Status RunDetection(proto::DetectionConfig config, const DetectionRunOptions& options);

// As RunDetection, with the mask head; the datasets must be COCO-format (masks). InvalidArgument
// also for a mask_resolution the C4 head cannot produce (it predicts 14 x 14).
absl::Status RunSegmentation(proto::SegmentationConfig config, const DetectionRunOptions& options);

}  // namespace mochi::eval::detection

#endif  // EVAL_DETECTION_DETECTION_TRAIN_H_
