// Evaluates many COCO cases in one process, for the comparison with pycocotools
// (pycocotools_reference_test.py). Each line of --manifest is "IOU_TYPE GT_JSON DT_JSON"; each
// line of the output is {"stats": [12 numbers]} (COCOeval.stats order, 17 significant digits) or
// {"error": "..."} for that case.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/statusor.h"
#include "eval/coco/coco_eval.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(std::string, manifest, "", "One case per line: IOU_TYPE GT_JSON DT_JSON.");
ABSL_FLAG(std::string, output, "", "JSON lines, one per case, in manifest order.");

namespace {

std::string EvaluateCase(const std::string& line) {
  std::istringstream fields(line);
  std::string iou_name, gt_path, dt_path;
  if (!(fields >> iou_name >> gt_path >> dt_path)) {
    return nlohmann::json{{"error", "bad manifest line: " + line}}.dump();
  }
  const absl::StatusOr<mochi::eval::coco::IouType> iou_type =
      mochi::eval::coco::ParseIouType(iou_name);
  if (!iou_type.ok()) return nlohmann::json{{"error", iou_type.status().ToString()}}.dump();
  const absl::StatusOr<mochi::eval::coco::CocoStats> stats =
      mochi::eval::coco::EvaluateCocoFiles(gt_path, dt_path, *iou_type);
  if (!stats.ok()) return nlohmann::json{{"error", stats.status().ToString()}}.dump();
  std::string out = "{\"stats\": [";
  for (size_t i = 0; i < stats->values.size(); ++i) {
    char number[32];
    std::snprintf(number, sizeof(number), "%s%.17g", i == 0 ? "" : ", ", stats->values[i]);
    out += number;
  }
  return out + "]}";
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::ifstream manifest(absl::GetFlag(FLAGS_manifest));
  std::ofstream output(absl::GetFlag(FLAGS_output));
  if (!manifest || !output) {
    std::fprintf(stderr, "coco_eval_cases: cannot open --manifest or --output\n");
    return EXIT_FAILURE;
  }
  for (std::string line; std::getline(manifest, line);) {
    if (!line.empty()) output << EvaluateCase(line) << "\n";
  }
  return output.good() ? EXIT_SUCCESS : EXIT_FAILURE;
}
