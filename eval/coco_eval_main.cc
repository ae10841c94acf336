// COCO AP/AR of a results file against a ground-truth file, as pycocotools computes them.
//   bazel run //eval:coco_eval -- --gt=instances_val.json --dt=results.json --iou_type=segm
// Prints one JSON object: {"AP": ..., "AP50": ..., ..., "ARl": ...} (fractions, -1 = undefined).
// --class_agnostic merges all categories into one (pycocotools' useCats = 0).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/statusor.h"
#include "eval/coco/coco_eval.h"
#include "mochi/port/json_proto.h"
#include "mochi/port/paths.h"

ABSL_FLAG(std::string, gt, "", "Ground-truth COCO dataset JSON (images, categories, annotations).");
ABSL_FLAG(std::string, dt, "",
          "Results JSON: [{image_id, category_id, bbox|segmentation, score}].");
ABSL_FLAG(std::string, iou_type, "bbox", "bbox (box AP) or segm (mask AP).");
ABSL_FLAG(bool, class_agnostic, false,
          "Score with all categories merged into one (localisation alone, useCats = 0).");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_gt).empty() || absl::GetFlag(FLAGS_dt).empty()) {
    std::fprintf(stderr,
                 "coco_eval: --gt=<ground truth JSON> and --dt=<results JSON> are required\n");
    return EXIT_FAILURE;
  }
  const absl::StatusOr<mochi::eval::coco::IouType> iou_type =
      mochi::eval::coco::ParseIouType(absl::GetFlag(FLAGS_iou_type));
  if (!iou_type.ok()) {
    std::fprintf(stderr, "coco_eval: --iou_type: %s\n", iou_type.status().ToString().c_str());
    return EXIT_FAILURE;
  }
  const absl::StatusOr<mochi::eval::coco::CocoStats> stats = mochi::eval::coco::EvaluateCocoFiles(
      mochi::ResolvePath(absl::GetFlag(FLAGS_gt)), mochi::ResolvePath(absl::GetFlag(FLAGS_dt)),
      *iou_type, absl::GetFlag(FLAGS_class_agnostic));
  if (!stats.ok()) {
    std::fprintf(stderr, "coco_eval: %s\n", stats.status().ToString().c_str());
    return EXIT_FAILURE;
  }
  std::printf("%s\n", mochi::ToJsonLine(mochi::eval::coco::CocoStatsToProto(*stats)).c_str());
  return EXIT_SUCCESS;
}
