#include "eval/coco/coco_eval.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "eval/coco/numpy_compat.h"
#include "mochi/port/status_macros.h"

namespace mochi::eval::coco {
namespace {

// np.spacing(1): keeps precision finite when the first detections are all ignored.
constexpr double kPrecisionEpsilon = std::numeric_limits<double>::epsilon();
// A perfect match must still pass the `iou >= threshold` test at threshold 1.
constexpr double kMaxIouThreshold = 1 - 1e-10;

// The ground truths and detections of one image and category, and their IoUs.
struct Cell {
  int image_index = 0;
  std::vector<const CocoInstance*> ground_truths;  // file order
  std::vector<const CocoInstance*> detections;     // score order, capped
  std::vector<double> ious;                        // [d * ground_truths.size() + g]
};

// evaluateImg() for one cell and area range.
struct CellEval {
  std::vector<double> scores;    // per detection, score order
  std::vector<uint8_t> matched;  // [t * D + d]
  std::vector<uint8_t> ignored;  // [t * D + d]
  int num_regular = 0;           // ground truths that are not ignored
};

bool OutsideRange(double area, const std::array<double, 2>& range) {
  return area < range[0] || area > range[1];
}

// Stable descending order by score (np.argsort(-scores, kind="mergesort")).
std::vector<int64_t> ByScoreDescending(const std::vector<double>& scores) {
  std::vector<double> negated(scores.size());
  for (size_t i = 0; i < scores.size(); ++i) negated[i] = -scores[i];
  return numpy_compat::ArgsortStable(negated);
}

absl::Status ComputeIous(IouType iou_type, Cell& cell) {
  const size_t num_gt = cell.ground_truths.size();
  cell.ious.assign(cell.detections.size() * num_gt, 0.);
  for (size_t d = 0; d < cell.detections.size(); ++d) {
    const CocoInstance& detection = *cell.detections[d];
    for (size_t g = 0; g < num_gt; ++g) {
      const CocoInstance& truth = *cell.ground_truths[g];
      double& iou = cell.ious[d * num_gt + g];
      if (iou_type == IouType::kBbox) {
        iou = BoxIou(detection.bbox, truth.bbox, truth.is_crowd);
        continue;
      }
      if (!detection.mask.has_value() || !truth.mask.has_value()) {
        return absl::InvalidArgumentError(
            absl::StrCat("segm evaluation needs masks; ",
                         detection.mask.has_value() ? "annotation" : "detection", " id ",
                         detection.mask.has_value() ? truth.id : detection.id, " has none"));
      }
      iou = RleIou(*detection.mask, *truth.mask, truth.is_crowd);
    }
  }
  return absl::OkStatus();
}

std::optional<CellEval> EvaluateCell(const Cell& cell, const std::array<double, 2>& area_range,
                                     const std::vector<double>& iou_thresholds) {
  const size_t num_gt = cell.ground_truths.size();
  const size_t num_dt = cell.detections.size();
  if (num_gt == 0 && num_dt == 0) return std::nullopt;

  // Regular ground truths first, each group in file order.
  std::vector<double> ignore_keys(num_gt);
  for (size_t g = 0; g < num_gt; ++g) {
    const CocoInstance& truth = *cell.ground_truths[g];
    ignore_keys[g] = truth.is_crowd || OutsideRange(truth.area, area_range) ? 1. : 0.;
  }
  const std::vector<int64_t> gt_order = numpy_compat::ArgsortStable(ignore_keys);
  std::vector<uint8_t> gt_ignored(num_gt);
  std::vector<uint8_t> gt_crowd(num_gt);
  for (size_t i = 0; i < num_gt; ++i) {
    gt_ignored[i] = ignore_keys[gt_order[i]] != 0;
    gt_crowd[i] = cell.ground_truths[gt_order[i]]->is_crowd;
  }

  CellEval eval;
  eval.num_regular = static_cast<int>(std::count(gt_ignored.begin(), gt_ignored.end(), 0));
  eval.scores.reserve(num_dt);
  for (const CocoInstance* detection : cell.detections) eval.scores.push_back(detection->score);
  const size_t num_t = iou_thresholds.size();
  eval.matched.assign(num_t * num_dt, 0);
  eval.ignored.assign(num_t * num_dt, 0);

  std::vector<uint8_t> gt_taken(num_gt);
  for (size_t t = 0; t < num_t; ++t) {
    std::fill(gt_taken.begin(), gt_taken.end(), 0);
    for (size_t d = 0; d < num_dt && num_gt > 0; ++d) {
      double best_iou = std::min(iou_thresholds[t], kMaxIouThreshold);
      int best = -1;
      for (size_t i = 0; i < num_gt; ++i) {
        if (gt_taken[i] && !gt_crowd[i]) continue;
        // Holding a regular match, never trade it for an ignored ground truth.
        if (best > -1 && !gt_ignored[best] && gt_ignored[i]) break;
        const double iou = cell.ious[d * num_gt + gt_order[i]];
        if (iou < best_iou) continue;
        best_iou = iou;
        best = static_cast<int>(i);
      }
      if (best == -1) continue;
      eval.ignored[t * num_dt + d] = gt_ignored[best];
      eval.matched[t * num_dt + d] = 1;
      gt_taken[best] = 1;
    }
    for (size_t d = 0; d < num_dt; ++d) {
      if (!eval.matched[t * num_dt + d] && OutsideRange(cell.detections[d]->area, area_range)) {
        eval.ignored[t * num_dt + d] = 1;
      }
    }
  }
  return eval;
}

// accumulate() for one category, area range and detection cap; writes precision and recall.
void AccumulateOne(const std::vector<CellEval>& evals, int max_detections,
                   const CocoEvalParams& params, int k, int a, int m, CocoAccumulation& out) {
  if (evals.empty()) return;
  int num_regular = 0;
  std::vector<double> scores;
  std::vector<std::pair<const CellEval*, size_t>> source;  // (cell, detection) per entry
  for (const CellEval& eval : evals) {
    num_regular += eval.num_regular;
    const size_t kept = std::min(eval.scores.size(), static_cast<size_t>(max_detections));
    for (size_t d = 0; d < kept; ++d) {
      scores.push_back(eval.scores[d]);
      source.emplace_back(&eval, d);
    }
  }
  if (num_regular == 0) return;
  const std::vector<int64_t> order = ByScoreDescending(scores);
  const size_t num_dt = order.size();
  const int num_recall = out.num_recall;

  std::vector<double> recall(num_dt);
  std::vector<double> precision(num_dt);
  for (int t = 0; t < out.num_iou; ++t) {
    double true_positives = 0;
    double false_positives = 0;
    for (size_t i = 0; i < num_dt; ++i) {
      const auto& [eval, d] = source[order[i]];
      const size_t at = t * eval->scores.size() + d;
      if (!eval->ignored[at]) {
        if (eval->matched[at]) {
          true_positives += 1;
        } else {
          false_positives += 1;
        }
      }
      recall[i] = true_positives / num_regular;
      precision[i] = true_positives / (false_positives + true_positives + kPrecisionEpsilon);
    }
    out.recall[out.RecallIndex(t, k, a, m)] = num_dt > 0 ? recall.back() : 0;
    for (size_t i = num_dt; i-- > 1;) precision[i - 1] = std::max(precision[i - 1], precision[i]);
    for (int r = 0; r < num_recall; ++r) {
      const size_t first =
          std::lower_bound(recall.begin(), recall.end(), params.recall_thresholds[r]) -
          recall.begin();
      out.precision[out.PrecisionIndex(t, r, k, a, m)] = first < num_dt ? precision[first] : 0.;
    }
  }
}

// summarize()'s _summarize(): mean of the defined entries, -1 if none.
double SummaryValue(const CocoAccumulation& acc, const CocoEvalParams& params, bool precision,
                    std::optional<double> iou_threshold, int area_index, int max_detections) {
  int m = -1;
  for (int i = 0; i < acc.num_max_detections; ++i) {
    if (params.max_detections[i] == max_detections) m = i;
  }
  if (m < 0) return -1;
  std::vector<double> defined;
  for (int t = 0; t < acc.num_iou; ++t) {
    if (iou_threshold.has_value() && params.iou_thresholds[t] != *iou_threshold) continue;
    if (precision) {
      for (int r = 0; r < acc.num_recall; ++r) {
        for (int k = 0; k < acc.num_categories; ++k) {
          const double value = acc.Precision(t, r, k, area_index, m);
          if (value > -1) defined.push_back(value);
        }
      }
    } else {
      for (int k = 0; k < acc.num_categories; ++k) {
        const double value = acc.Recall(t, k, area_index, m);
        if (value > -1) defined.push_back(value);
      }
    }
  }
  return defined.empty() ? -1 : numpy_compat::Mean(defined);
}

}  // namespace

CocoEvalParams DefaultCocoEvalParams(IouType iou_type) {
  CocoEvalParams params;
  params.iou_type = iou_type;
  params.iou_thresholds = numpy_compat::Linspace(.5, .95, 10);
  params.recall_thresholds = numpy_compat::Linspace(0., 1., 101);
  params.max_detections = {1, 10, 100};
  params.area_ranges = {{0., 1e10}, {0., 32. * 32.}, {32. * 32., 96. * 96.}, {96. * 96., 1e10}};
  return params;
}

absl::StatusOr<CocoAccumulation> AccumulateCoco(const CocoGroundTruth& gt,
                                                const std::vector<CocoInstance>& detections,
                                                const CocoEvalParams& params) {
  if (params.max_detections.empty() || params.iou_thresholds.empty() ||
      params.recall_thresholds.empty() || params.area_ranges.empty()) {
    return absl::InvalidArgumentError("COCO eval params: every threshold list must be non-empty");
  }
  std::vector<int64_t> image_ids;
  for (const CocoImage& image : gt.images) image_ids.push_back(image.id);
  std::vector<int64_t> category_ids;
  for (const CocoCategory& category : gt.categories) category_ids.push_back(category.id);
  std::sort(image_ids.begin(), image_ids.end());
  std::sort(category_ids.begin(), category_ids.end());
  absl::flat_hash_map<int64_t, int> image_index;
  for (size_t i = 0; i < image_ids.size(); ++i) image_index[image_ids[i]] = static_cast<int>(i);
  absl::flat_hash_map<int64_t, int> category_index;
  for (size_t k = 0; k < category_ids.size(); ++k) {
    category_index[category_ids[k]] = static_cast<int>(k);
  }

  // Cells keyed by (category, image); instances of unknown ids are rejected by the JSON readers
  // and skipped here (pycocotools drops them too).
  absl::flat_hash_map<std::pair<int, int>, Cell> cells;
  auto add = [&](const CocoInstance& instance, bool is_detection) {
    auto image = image_index.find(instance.image_id);
    auto category = category_index.find(instance.category_id);
    if (image == image_index.end() || category == category_index.end()) return;
    Cell& cell = cells[{category->second, image->second}];
    cell.image_index = image->second;
    (is_detection ? cell.detections : cell.ground_truths).push_back(&instance);
  };
  for (const CocoInstance& annotation : gt.annotations) add(annotation, false);
  for (const CocoInstance& detection : detections) add(detection, true);

  const size_t cap = static_cast<size_t>(params.max_detections.back());
  std::vector<std::vector<const Cell*>> cells_by_category(category_ids.size());
  for (auto& [key, cell] : cells) {
    std::vector<double> scores;
    for (const CocoInstance* detection : cell.detections) scores.push_back(detection->score);
    std::vector<const CocoInstance*> ordered;
    for (int64_t i : ByScoreDescending(scores)) {
      if (ordered.size() == cap) break;
      ordered.push_back(cell.detections[i]);
    }
    cell.detections = std::move(ordered);
    MOCHI_RETURN_IF_ERROR(ComputeIous(params.iou_type, cell));
    cells_by_category[key.first].push_back(&cell);
  }
  for (auto& category_cells : cells_by_category) {
    std::sort(category_cells.begin(), category_cells.end(),
              [](const Cell* a, const Cell* b) { return a->image_index < b->image_index; });
  }

  CocoAccumulation acc;
  acc.num_iou = static_cast<int>(params.iou_thresholds.size());
  acc.num_recall = static_cast<int>(params.recall_thresholds.size());
  acc.num_categories = static_cast<int>(category_ids.size());
  acc.num_areas = static_cast<int>(params.area_ranges.size());
  acc.num_max_detections = static_cast<int>(params.max_detections.size());
  acc.precision.assign(static_cast<size_t>(acc.num_iou) * acc.num_recall * acc.num_categories *
                           acc.num_areas * acc.num_max_detections,
                       -1.);
  acc.recall.assign(static_cast<size_t>(acc.num_iou) * acc.num_categories * acc.num_areas *
                        acc.num_max_detections,
                    -1.);
  for (int k = 0; k < acc.num_categories; ++k) {
    for (int a = 0; a < acc.num_areas; ++a) {
      std::vector<CellEval> evals;
      for (const Cell* cell : cells_by_category[k]) {
        std::optional<CellEval> eval =
            EvaluateCell(*cell, params.area_ranges[a], params.iou_thresholds);
        if (eval.has_value()) evals.push_back(std::move(*eval));
      }
      for (int m = 0; m < acc.num_max_detections; ++m) {
        AccumulateOne(evals, params.max_detections[m], params, k, a, m, acc);
      }
    }
  }
  return acc;
}

absl::StatusOr<CocoStats> SummarizeCoco(const CocoAccumulation& acc, const CocoEvalParams& params) {
  if (acc.num_areas != 4 || acc.num_max_detections != 3) {
    return absl::InvalidArgumentError(
        "summarize needs the 4 area ranges all/small/medium/large and 3 detection caps");
  }
  constexpr int kAll = 0, kSmall = 1, kMedium = 2, kLarge = 3;
  const int max_detections = params.max_detections[2];
  CocoStats stats;
  stats.values = {
      SummaryValue(acc, params, true, std::nullopt, kAll, max_detections),
      SummaryValue(acc, params, true, .5, kAll, max_detections),
      SummaryValue(acc, params, true, .75, kAll, max_detections),
      SummaryValue(acc, params, true, std::nullopt, kSmall, max_detections),
      SummaryValue(acc, params, true, std::nullopt, kMedium, max_detections),
      SummaryValue(acc, params, true, std::nullopt, kLarge, max_detections),
      SummaryValue(acc, params, false, std::nullopt, kAll, params.max_detections[0]),
      SummaryValue(acc, params, false, std::nullopt, kAll, params.max_detections[1]),
      SummaryValue(acc, params, false, std::nullopt, kAll, params.max_detections[2]),
      SummaryValue(acc, params, false, std::nullopt, kSmall, max_detections),
      SummaryValue(acc, params, false, std::nullopt, kMedium, max_detections),
      SummaryValue(acc, params, false, std::nullopt, kLarge, max_detections),
  };
  return stats;
}

absl::StatusOr<CocoStats> EvaluateCoco(const CocoGroundTruth& gt,
                                       const std::vector<CocoInstance>& detections,
                                       IouType iou_type) {
  const CocoEvalParams params = DefaultCocoEvalParams(iou_type);
  MOCHI_ASSIGN_OR_RETURN(CocoAccumulation acc, AccumulateCoco(gt, detections, params));
  return SummarizeCoco(acc, params);
}

void MergeCategories(CocoGroundTruth* gt, std::vector<CocoInstance>* detections) {
  if (gt->categories.empty()) return;
  gt->categories.resize(1);
  const int64_t merged = gt->categories[0].id;
  for (CocoInstance& annotation : gt->annotations) annotation.category_id = merged;
  for (CocoInstance& detection : *detections) detection.category_id = merged;
}

absl::StatusOr<CocoStats> EvaluateCocoFiles(const std::string& gt_path, const std::string& dt_path,
                                            IouType iou_type, bool class_agnostic) {
  MOCHI_ASSIGN_OR_RETURN(CocoGroundTruth gt, LoadCocoGroundTruth(gt_path, iou_type));
  MOCHI_ASSIGN_OR_RETURN(std::vector<CocoInstance> detections,
                         LoadCocoResults(dt_path, gt, iou_type));
  if (class_agnostic) MergeCategories(&gt, &detections);
  return EvaluateCoco(gt, detections, iou_type);
}

proto::CocoMetrics CocoStatsToProto(const CocoStats& stats) {
  proto::CocoMetrics metrics;
  const std::array<void (proto::CocoMetrics::*)(double), 12> setters = {
      &proto::CocoMetrics::set_ap,        &proto::CocoMetrics::set_ap50,
      &proto::CocoMetrics::set_ap75,      &proto::CocoMetrics::set_ap_small,
      &proto::CocoMetrics::set_ap_medium, &proto::CocoMetrics::set_ap_large,
      &proto::CocoMetrics::set_ar1,       &proto::CocoMetrics::set_ar10,
      &proto::CocoMetrics::set_ar100,     &proto::CocoMetrics::set_ar_small,
      &proto::CocoMetrics::set_ar_medium, &proto::CocoMetrics::set_ar_large};
  for (size_t i = 0; i < setters.size(); ++i) (metrics.*setters[i])(stats.values[i]);
  return metrics;
}

}  // namespace mochi::eval::coco
