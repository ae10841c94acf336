// //eval:detect: fine-tunes Faster R-CNN C4 on a VOC-format dataset from a pretrained (or
// random) backbone, then detects on the test split, writes VOC results files and a COCO results
// JSON, and evaluates VOC AP50 / AP / AP75 (detectron2's tools/train_net.py for
// pascal_voc_R_50_C4_24k, on one process).
//
// Run directory <output_dir>:
//   config.pbtxt         the resolved DetectionConfig (after flag overrides)
//   model_final.pt       the fine-tuned detector
//   voc_results/<class>.txt, coco_results.json   test-split detections
//   voc_eval.json        {"metric", "AP", "AP50", "AP75", "per_class_AP50", ...}
//   metrics.json         losses of the last iteration, wall times
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
#include "mochi/proto/detection.pb.h"

namespace mochi::eval::detection {

struct DetectionRunOptions {
  std::string output_dir;
  // Replace config.init: a pretraining run directory (config.pbtxt + checkpoint.pt) or a
  // checkpoint file beside its config.pbtxt; or random initialisation. Empty / false: as config.
  std::string checkpoint;
  bool random_init = false;
  // Non-empty: replaces the voc_root of the train and test datasets.
  std::string voc_root;
  // Evaluate the test detections with //eval/voc (needs a single test image set).
  bool evaluate = true;
};

// Validates the (overridden) config, trains, detects and evaluates. InvalidArgument for a bad
// config, FailedPrecondition for a checkpoint that does not fit the backbone, NotFound for
// missing data, Internal when the loss stops being finite.
absl::Status RunDetection(proto::DetectionConfig config, const DetectionRunOptions& options);

}  // namespace mochi::eval::detection

#endif  // EVAL_DETECTION_DETECTION_TRAIN_H_
