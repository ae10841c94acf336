// PASCAL VOC AP of per-class results files, as detectron2's PascalVOCDetectionEvaluator computes
// it.
//   bazel run //eval:voc_eval -- --voc_root=datasets/VOCdevkit/FMS2007 --results=runs/det/voc
//       [--split=test] [--classes=a,b,c] [--results_prefix=] [--metric=voc07_11pt|area]
// Prints one JSON object: {"metric", "AP", "AP50", "AP75" (percent), "per_class_AP50": {...}}.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_split.h"
#include "eval/voc/voc_eval.h"
#include "mochi/port/json_proto.h"
#include "mochi/port/paths.h"

ABSL_FLAG(std::string, voc_root, "",
          "VOC dataset directory holding Annotations/ and ImageSets/Main/ (e.g. "
          "VOCdevkit/VOC2007).");
ABSL_FLAG(std::string, results, "",
          "Directory of per-class results files <results_prefix><class>.txt with lines "
          "'image_id score xmin ymin xmax ymax' (default: <voc_root>/results).");
ABSL_FLAG(std::string, split, "test", "Image set: ImageSets/Main/<split>.txt.");
ABSL_FLAG(std::vector<std::string>, classes, {},
          "Comma-separated class names, in report order. Default: every class named in the "
          "split's annotations or having a results file, sorted. detectron2 averages over all "
          "dataset classes, so pass them when some class has neither.");
ABSL_FLAG(std::string, results_prefix, "", "Prefix of the results files, e.g. comp4_det_test_.");
ABSL_FLAG(std::string, metric, "voc07_11pt",
          "voc07_11pt (VOC2007 11-point, MoCo's VOC protocol) or area (VOC2010+).");
ABSL_FLAG(std::string, score_order, "numpy",
          "Order of tied scores: numpy (as np.argsort, reproducing detectron2) or stable.");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  mochi::eval::voc::VocEvalOptions options;
  options.voc_root = mochi::ResolvePath(absl::GetFlag(FLAGS_voc_root));
  if (options.voc_root.empty()) {
    std::fprintf(stderr, "voc_eval: --voc_root=<VOC dataset directory> is required\n");
    return EXIT_FAILURE;
  }
  options.results_dir = absl::GetFlag(FLAGS_results).empty()
                            ? options.voc_root + "/results"
                            : mochi::ResolvePath(absl::GetFlag(FLAGS_results));
  options.split = absl::GetFlag(FLAGS_split);
  options.results_prefix = absl::GetFlag(FLAGS_results_prefix);
  for (const std::string& name : absl::GetFlag(FLAGS_classes)) {
    if (!name.empty()) options.class_names.push_back(name);
  }
  const auto metric = mochi::eval::voc::ParseVocMetric(absl::GetFlag(FLAGS_metric));
  const auto score_order = mochi::eval::voc::ParseVocScoreOrder(absl::GetFlag(FLAGS_score_order));
  if (!metric.ok() || !score_order.ok()) {
    std::fprintf(stderr, "voc_eval: %s\n",
                 (metric.ok() ? score_order.status() : metric.status()).ToString().c_str());
    return EXIT_FAILURE;
  }
  options.metric = *metric;
  options.score_order = *score_order;
  const auto result = mochi::eval::voc::EvaluateVoc(options);
  if (!result.ok()) {
    std::fprintf(stderr, "voc_eval: %s\n", result.status().ToString().c_str());
    return EXIT_FAILURE;
  }
  std::printf("%s\n", mochi::ToJsonLine(mochi::eval::voc::VocEvalResultToProto(*result)).c_str());
  return EXIT_SUCCESS;
}
