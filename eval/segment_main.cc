// Mask R-CNN C4 transfer of a pretrained backbone (paper section 3.5, detectron2's
// coco_R_50_C4_1x): fine-tune on a COCO-format dataset, detect and segment its test split, print
// COCO box and mask AP (pycocotools' numbers, as fractions).
//
// bazel run //eval:segment -- --config=configs/segmentation/fms_coco_r18_c4.pbtxt
//     --checkpoint=runs/mocov2_fmnist --coco_root=/tmp/scenes/coco --output_dir=/tmp/seg
// (or --random_init instead of --checkpoint).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "eval/detection/detection_train.h"
#include "mochi/config/validate.h"
#include "mochi/port/paths.h"

ABSL_FLAG(std::string, config, "configs/segmentation/fms_coco_r18_c4.pbtxt",
          "SegmentationConfig text proto.");
ABSL_FLAG(std::string, override, "", "Text proto merged over --config (repeated fields append).");
ABSL_FLAG(std::string, checkpoint, "",
          "Pretraining run directory (config.pbtxt + checkpoint.pt); replaces detection.init.");
ABSL_FLAG(bool, random_init, false, "Randomly initialised backbone (the lower bound).");
ABSL_FLAG(std::string, coco_root, "",
          "Directory with annotations/<json> and the image directories the config names.");
ABSL_FLAG(std::string, output_dir, "", "Run directory for the model, results and metrics.");
ABSL_FLAG(bool, evaluate, true, "Evaluate COCO box and mask AP after writing the results.");
ABSL_FLAG(bool, resume, false,
          "Continue from <output_dir>/checkpoint.pt (written every checkpoint_every_iters and on "
          "SIGINT/SIGTERM).");
ABSL_FLAG(int64_t, max_iters, 0, "Stop with a checkpoint after this many iterations (0 = all).");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::StatusOr<mochi::eval::detection::DetectionRunOptions> run =
      mochi::eval::detection::MakeDetectionRunOptions(
          absl::GetFlag(FLAGS_checkpoint), absl::GetFlag(FLAGS_random_init), "",
          absl::GetFlag(FLAGS_coco_root), absl::GetFlag(FLAGS_output_dir),
          absl::GetFlag(FLAGS_evaluate), absl::GetFlag(FLAGS_resume),
          absl::GetFlag(FLAGS_max_iters));
  if (!run.ok()) {
    std::fprintf(stderr, "segment: %s\n", std::string(run.status().message()).c_str());
    return EXIT_FAILURE;
  }
  auto config = mochi::LoadConfig<mochi::proto::SegmentationConfig>(
      mochi::ResolvePath(absl::GetFlag(FLAGS_config)), absl::GetFlag(FLAGS_override));
  if (!config.ok()) {
    std::fprintf(stderr, "segment: %s\n", std::string(config.status().message()).c_str());
    return EXIT_FAILURE;
  }
  const absl::Status status = mochi::eval::detection::RunSegmentation(*config, *run);
  if (!status.ok()) {
    std::fprintf(stderr, "segment: %s\n", status.ToString().c_str());
    // 130 after SIGINT/SIGTERM (the checkpoint is written), as a shell reports an interrupt.
    return status.code() == absl::StatusCode::kCancelled ? 130 : EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
