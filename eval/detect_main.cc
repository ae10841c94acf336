// Faster R-CNN C4 transfer of a pretrained backbone (paper section 3.4, detectron2's
// pascal_voc_R_50_C4_24k): fine-tune, detect on the test split, print VOC AP50 / AP / AP75 (or
// COCO box AP for COCO-format datasets).
//
// bazel run //eval:detect -- --config=configs/detection/fms_voc_r18_c4.pbtxt
//     --checkpoint=runs/mocov2_fmnist --voc_root=/tmp/scenes/VOCdevkit --output_dir=/tmp/det
// (or --random_init instead of --checkpoint).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "eval/detection/detection_train.h"
#include "mochi/config/validate.h"
#include "mochi/port/paths.h"

ABSL_FLAG(std::string, config, "configs/detection/fms_voc_r18_c4.pbtxt",
          "DetectionConfig text proto.");
ABSL_FLAG(std::string, override, "", "Text proto merged over --config (repeated fields append).");
ABSL_FLAG(std::string, checkpoint, "",
          "Pretraining run directory (config.pbtxt + checkpoint.pt); replaces config.init.");
ABSL_FLAG(bool, random_init, false, "Randomly initialised backbone (the lower bound).");
ABSL_FLAG(std::string, voc_root, "", "VOCdevkit directory; replaces the config's voc_root.");
ABSL_FLAG(std::string, coco_root, "",
          "COCO-format datasets: directory with annotations/<json> and the image directories.");
ABSL_FLAG(std::string, output_dir, "", "Run directory for the model, detections and metrics.");
ABSL_FLAG(bool, evaluate, true, "Evaluate VOC AP on the test split after writing detections.");
ABSL_FLAG(bool, resume, false,
          "Continue from <output_dir>/checkpoint.pt (written every checkpoint_every_iters and on "
          "SIGINT/SIGTERM).");
ABSL_FLAG(int64_t, max_iters, 0, "Stop with a checkpoint after this many iterations (0 = all).");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::StatusOr<mochi::eval::detection::DetectionRunOptions> run =
      mochi::eval::detection::MakeDetectionRunOptions(
          absl::GetFlag(FLAGS_checkpoint), absl::GetFlag(FLAGS_random_init),
          absl::GetFlag(FLAGS_voc_root), absl::GetFlag(FLAGS_coco_root),
          absl::GetFlag(FLAGS_output_dir), absl::GetFlag(FLAGS_evaluate),
          absl::GetFlag(FLAGS_resume), absl::GetFlag(FLAGS_max_iters));
  if (!run.ok()) {
    std::fprintf(stderr, "detect: %s\n", std::string(run.status().message()).c_str());
    return EXIT_FAILURE;
  }
  auto config = mochi::LoadConfig<mochi::proto::DetectionConfig>(
      mochi::ResolvePath(absl::GetFlag(FLAGS_config)), absl::GetFlag(FLAGS_override));
  if (!config.ok()) {
    std::fprintf(stderr, "detect: %s\n", std::string(config.status().message()).c_str());
    return EXIT_FAILURE;
  }
  const absl::Status status = mochi::eval::detection::RunDetection(*config, *run);
  if (!status.ok()) {
    std::fprintf(stderr, "detect: %s\n", status.ToString().c_str());
    // 130 after SIGINT/SIGTERM (the checkpoint is written), as a shell reports an interrupt.
    return status.code() == absl::StatusCode::kCancelled ? 130 : EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
