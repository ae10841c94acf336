// PASCAL VOC detection AP as detectron2's PascalVOCDetectionEvaluator computes it (voc_eval() and
// voc_ap() in evaluation/pascal_voc_evaluation.py), which is the protocol MoCo and MoCHi report:
//   * ground truth: Annotations/<id>.xml for every id in ImageSets/Main/<split>.txt; boxes are
//     1-based inclusive and every width, height and area gets +1;
//   * detections: one text file per class, lines "<image id> <score> <xmin> <ymin> <xmax> <ymax>"
//     (detectron2 writes the score with 3 decimals, so ties are common, and xmin/ymin already
//     shifted by +1); ordered like np.argsort(-score), numpy's unstable sort, by default;
//   * each detection goes to the ground truth of its class and image with the highest IoU,
//   difficult
//     ones included: IoU must be strictly above the threshold; a difficult match is ignored, an
//     already-taken one is a false positive (no fallback to the next best); no per-image cap;
//   * recall = tp / (non-difficult ground truths), precision = tp / max(tp + fp, eps);
//   * voc07_11pt: mean over t = 0, 0.1, ..., 1.0 (computed as i * 0.1, so recall 0.3 does not reach
//     t = 0.30000000000000004) of the best precision at recall >= t; area: the area under the
//     precision envelope;
//   * per class and IoU threshold in 0.50:0.05:0.95 (as threshold / 100.0), AP * 100; each
//     threshold's AP is the mean over ALL classes (a class without ground truth or detections
//     gives 0; one without ground truth but with detections gives NaN under the area metric, and
//     the means become NaN, exactly as detectron2's np.mean); AP is the mean over the 10
//     thresholds, with AP50 and AP75 reported alongside.
//
// Example:
//   VocEvalOptions options;
//   options.voc_root = "datasets/VOCdevkit/FMS2007";
//   options.results_dir = "runs/det/voc_results";
//   MOCHI_ASSIGN_OR_RETURN(VocEvalResult result, EvaluateVoc(options));
//   result.ap50;  // percent
#ifndef EVAL_VOC_VOC_EVAL_H_
#define EVAL_VOC_VOC_EVAL_H_

#include <array>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "mochi/proto/results.pb.h"

namespace mochi::eval::voc {

enum class VocMetric {
  kVoc07ElevenPoint,  // VOC2007 test (detectron2's choice for year 2007, and MoCo's numbers)
  kArea,              // VOC2010+ area under the precision envelope
};
// "voc07_11pt" or "area".
absl::StatusOr<VocMetric> ParseVocMetric(absl::string_view name);
const char* VocMetricName(VocMetric metric);

// How detections with equal scores are ordered.
enum class VocScoreOrder {
  kNumpy,   // np.argsort(-score): reproduces detectron2 exactly, ties included
  kStable,  // ties keep file order
};
absl::StatusOr<VocScoreOrder> ParseVocScoreOrder(absl::string_view name);  // "numpy" or "stable"

// One line of a results file.
struct VocDetection {
  std::string image_id;
  double score = 0;
  double xmin = 0;
  double ymin = 0;
  double xmax = 0;
  double ymax = 0;
};

struct VocGroundTruthBox {
  double xmin = 0;
  double ymin = 0;
  double xmax = 0;
  double ymax = 0;
  bool difficult = false;
};

// One class's ground truth: every image of the image set, with its boxes of that class (possibly
// none).
using VocClassGroundTruth = absl::flat_hash_map<std::string, std::vector<VocGroundTruthBox>>;

// voc_ap(): AP (a fraction) from the cumulative recall and precision of the sorted detections.
double VocAp(const std::vector<double>& recall, const std::vector<double>& precision,
             VocMetric metric);

// voc_eval() for one class at one IoU threshold: AP as a fraction. InvalidArgument if a detection
// names an image outside `ground_truth`.
absl::StatusOr<double> VocClassAp(const VocClassGroundTruth& ground_truth,
                                  const std::vector<VocDetection>& detections, double iou_threshold,
                                  VocMetric metric, VocScoreOrder order);

// Reads a detectron2 results file; `source_name` prefixes errors with the line number. Blank lines
// are skipped; fields may be separated by any whitespace.
absl::StatusOr<std::vector<VocDetection>> ParseVocResults(absl::string_view text,
                                                          absl::string_view source_name);

struct VocEvalOptions {
  std::string voc_root;        // holds Annotations/ and ImageSets/Main/
  std::string split = "test";  // ImageSets/Main/<split>.txt
  std::string results_dir;     // holds <results_prefix><class>.txt for every class
  std::string results_prefix;  // e.g. "comp4_det_test_" for the VOC devkit's naming
  // Evaluated classes, in report order. Empty: every class named in the split's annotations or
  // having a results file, sorted.
  std::vector<std::string> class_names;
  VocMetric metric = VocMetric::kVoc07ElevenPoint;
  VocScoreOrder score_order = VocScoreOrder::kNumpy;
};

inline constexpr int kNumVocThresholds = 10;  // IoU 0.50, 0.55, ..., 0.95

struct VocClassResult {
  std::string name;
  std::array<double, kNumVocThresholds> ap{};  // percent, per IoU threshold
  int num_positives = 0;                       // non-difficult ground truths
  int num_detections = 0;
};

struct VocEvalResult {
  VocMetric metric = VocMetric::kVoc07ElevenPoint;
  double ap = 0;  // percent, mean over thresholds of the mean over classes
  double ap50 = 0;
  double ap75 = 0;
  std::vector<VocClassResult> classes;
};

// Reads the image set, annotations and results files and evaluates. NotFound names a missing file;
// InvalidArgument names the file, line and problem.
absl::StatusOr<VocEvalResult> EvaluateVoc(const VocEvalOptions& options);

// The result as results.proto's VocMetrics (percent): metric, ap, ap50, ap75, per-class AP50.
proto::VocMetrics VocEvalResultToProto(const VocEvalResult& result);

}  // namespace mochi::eval::voc

#endif  // EVAL_VOC_VOC_EVAL_H_
