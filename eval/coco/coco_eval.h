// COCO detection / instance-segmentation AP and AR, computed as pycocotools' COCOeval (cocoapi
// master 8c9bcc3) computes them for iouType "bbox" and "segm", so the twelve summary numbers agree
// with it to the last digit:
//   * evaluation runs over every ground-truth image and category, in sorted id order;
//   * per image and category, detections are ordered by score (stable, so ties keep file order) and
//     capped at max(max_detections) = 100 -- per image AND category, not per image;
//   * a ground truth is ignored if it is a crowd or its `area` is outside the area range; each
//     detection, in score order and at each IoU threshold t, takes the unmatched (crowds always
//     count as unmatched) ground truth of highest IoU >= min(t, 1 - 1e-10), preferring regular
//     ground truths: it only falls back to ignored ones when no regular one qualifies, and later
//     equal IoUs win. A detection matched to an ignored ground truth is ignored, as is an
//     unmatched one whose own area is outside the range;
//   * crowd IoU is intersection over the detection's area;
//   * per category, area range and detection cap, the images' (capped) detections are merged in
//     score order (stable: ties by image id, then file order); precision is made monotone and read
//     at the 101 recall thresholds np.linspace(0, 1, 101) (first detection whose recall reaches the
//     threshold, 0 if none); a category with no regular ground truth in the range is excluded
//     (-1), and recall is the final recall;
//   * each summary number is the mean of the defined (> -1) entries, or -1 when there are none.
//
// Example:
//   MOCHI_ASSIGN_OR_RETURN(CocoStats stats,
//                          EvaluateCocoFiles("gt.json", "dt.json", IouType::kBbox));
//   stats.ap();  // AP at IoU .50:.05:.95, all areas, 100 detections
#ifndef EVAL_COCO_COCO_EVAL_H_
#define EVAL_COCO_COCO_EVAL_H_

#include <array>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eval/coco/coco_json.h"
#include "mochi/proto/results.pb.h"

namespace mochi::eval::coco {

// COCOeval.params for bbox and segm.
struct CocoEvalParams {
  IouType iou_type = IouType::kBbox;
  std::vector<double> iou_thresholds;     // np.linspace(.5, .95, 10)
  std::vector<double> recall_thresholds;  // np.linspace(0, 1, 101)
  std::vector<int> max_detections;        // {1, 10, 100}; the last is the per-image cap
  // {all, small, medium, large} = {[0, 1e10], [0, 32^2], [32^2, 96^2], [96^2, 1e10]}, both ends
  // inclusive.
  std::vector<std::array<double, 2>> area_ranges;
};
CocoEvalParams DefaultCocoEvalParams(IouType iou_type);

// COCOeval.eval after accumulate(): precision[t][r][k][a][m] and recall[t][k][a][m] over IoU
// thresholds, recall thresholds, categories (sorted ids), area ranges and detection caps, -1 where
// undefined.
struct CocoAccumulation {
  int num_iou = 0;
  int num_recall = 0;
  int num_categories = 0;
  int num_areas = 0;
  int num_max_detections = 0;
  std::vector<double> precision;
  std::vector<double> recall;

  size_t PrecisionIndex(int t, int r, int k, int a, int m) const {
    size_t index = t;
    index = index * num_recall + r;
    index = index * num_categories + k;
    index = index * num_areas + a;
    return index * num_max_detections + m;
  }
  size_t RecallIndex(int t, int k, int a, int m) const {
    size_t index = t;
    index = index * num_categories + k;
    index = index * num_areas + a;
    return index * num_max_detections + m;
  }
  double Precision(int t, int r, int k, int a, int m) const {
    return precision[PrecisionIndex(t, r, k, a, m)];
  }
  double Recall(int t, int k, int a, int m) const { return recall[RecallIndex(t, k, a, m)]; }
};

// COCOeval.stats, in summarize() order.
inline constexpr std::array<const char*, 12> kCocoStatNames = {
    "AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"};
struct CocoStats {
  std::array<double, 12> values{};  // fractions; -1 where undefined

  double ap() const { return values[0]; }
  double ap50() const { return values[1]; }
  double ap75() const { return values[2]; }
};

// evaluate() + accumulate(). `detections` are results as ParseCocoResults returns them; instances
// need masks for kSegm. InvalidArgument if an instance lacks the mask the IoU type needs.
absl::StatusOr<CocoAccumulation> AccumulateCoco(const CocoGroundTruth& gt,
                                                const std::vector<CocoInstance>& detections,
                                                const CocoEvalParams& params);

// summarize(): the twelve standard numbers (needs the default thresholds, caps and ranges).
absl::StatusOr<CocoStats> SummarizeCoco(const CocoAccumulation& accumulation,
                                        const CocoEvalParams& params);

// Everything above with the default parameters.
absl::StatusOr<CocoStats> EvaluateCoco(const CocoGroundTruth& gt,
                                       const std::vector<CocoInstance>& detections,
                                       IouType iou_type);

// Class-agnostic scoring (pycocotools' params.useCats = 0): every ground-truth category and every
// detection's category become the first category of `gt`, so a detection counts for whatever
// object it localises and the per-image detection cap applies over all classes. Shows how much of
// a detector's AP is lost to classification rather than localisation. No-op without categories.
void MergeCategories(CocoGroundTruth* gt, std::vector<CocoInstance>* detections);

// Reads both files and evaluates (after MergeCategories when `class_agnostic`); errors name the
// file and the entry at fault.
absl::StatusOr<CocoStats> EvaluateCocoFiles(const std::string& gt_path, const std::string& dt_path,
                                            IouType iou_type, bool class_agnostic = false);

// The twelve numbers as results.proto's CocoMetrics (ap, ap50, ..., ar_large).
proto::CocoMetrics CocoStatsToProto(const CocoStats& stats);

}  // namespace mochi::eval::coco

#endif  // EVAL_COCO_COCO_EVAL_H_
