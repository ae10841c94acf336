#include "eval/voc/voc_eval.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <set>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "eval/coco/numpy_compat.h"
#include "eval/voc/voc_annotation.h"
#include "mochi/port/status_macros.h"
#include "mochi/port/text_proto.h"

namespace mochi::eval::voc {
namespace {

namespace numpy_compat = ::mochi::eval::numpy_compat;

// np.finfo(np.float64).eps: precision stays finite when the first detections hit difficult boxes.
constexpr double kPrecisionEpsilon = std::numeric_limits<double>::epsilon();

std::string JoinPath(const std::string& directory, const std::string& name) {
  return (std::filesystem::path(directory) / name).string();
}

// Overlap of a detection with one ground-truth box, VOC style: inclusive pixel boxes, so +1.
double VocIou(const VocDetection& d, const VocGroundTruthBox& g) {
  const double overlap_w = std::max(std::min(g.xmax, d.xmax) - std::max(g.xmin, d.xmin) + 1.0, 0.0);
  const double overlap_h = std::max(std::min(g.ymax, d.ymax) - std::max(g.ymin, d.ymin) + 1.0, 0.0);
  const double intersection = overlap_w * overlap_h;
  const double union_area = (d.xmax - d.xmin + 1.0) * (d.ymax - d.ymin + 1.0) +
                            (g.xmax - g.xmin + 1.0) * (g.ymax - g.ymin + 1.0) - intersection;
  return intersection / union_area;
}

absl::StatusOr<std::vector<std::string>> ReadImageSet(const std::string& path) {
  MOCHI_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  std::vector<std::string> ids;
  absl::flat_hash_set<std::string> seen;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    const std::string id(absl::StripAsciiWhitespace(line));
    if (id.empty()) continue;
    if (!seen.insert(id).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line_number, ": image id '", id, "' is listed twice"));
    }
    ids.push_back(id);
  }
  return ids;
}

// Classes named in the annotations or owning a "<prefix><class>.txt" in the results directory.
absl::StatusOr<std::vector<std::string>> DiscoverClasses(
    const std::vector<VocAnnotation>& annotations, const VocEvalOptions& options) {
  std::set<std::string> names;
  for (const VocAnnotation& annotation : annotations) {
    for (const VocObject& object : annotation.objects) names.insert(object.name);
  }
  std::error_code error;
  for (std::filesystem::directory_iterator it(options.results_dir, error), end; !error && it != end;
       it.increment(error)) {
    const std::string file = it->path().filename().string();
    if (absl::StartsWith(file, options.results_prefix) && absl::EndsWith(file, ".txt") &&
        file.size() > options.results_prefix.size() + 4) {
      names.insert(file.substr(options.results_prefix.size(),
                               file.size() - options.results_prefix.size() - 4));
    }
  }
  if (error) {
    return absl::NotFoundError(absl::StrCat(
        options.results_dir, ": cannot list the results directory: ", error.message()));
  }
  if (names.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no classes: the annotations name no objects and ", options.results_dir,
                     " has no results files; pass the class names"));
  }
  return std::vector<std::string>(names.begin(), names.end());
}

}  // namespace

absl::StatusOr<VocMetric> ParseVocMetric(absl::string_view name) {
  if (name == "voc07_11pt") return VocMetric::kVoc07ElevenPoint;
  if (name == "area") return VocMetric::kArea;
  return absl::InvalidArgumentError(
      absl::StrCat("VOC metric '", name, "' is not supported; use voc07_11pt or area"));
}

const char* VocMetricName(VocMetric metric) {
  switch (metric) {
    case VocMetric::kVoc07ElevenPoint:
      return "voc07_11pt";
    case VocMetric::kArea:
      return "area";
  }
  return "unknown";
}

absl::StatusOr<VocScoreOrder> ParseVocScoreOrder(absl::string_view name) {
  if (name == "numpy") return VocScoreOrder::kNumpy;
  if (name == "stable") return VocScoreOrder::kStable;
  return absl::InvalidArgumentError(
      absl::StrCat("score order '", name, "' is not supported; use numpy or stable"));
}

double VocAp(const std::vector<double>& recall, const std::vector<double>& precision,
             VocMetric metric) {
  if (metric == VocMetric::kVoc07ElevenPoint) {
    double ap = 0.0;
    for (int i = 0; i <= 10; ++i) {
      const double threshold = 0.0 + i * 0.1;  // np.arange(0.0, 1.1, 0.1)
      bool reached = false;
      double best = 0;
      for (size_t j = 0; j < recall.size(); ++j) {
        if (recall[j] >= threshold) {
          best = reached ? std::max(best, precision[j]) : precision[j];
          reached = true;
        }
      }
      ap = ap + best / 11.0;
    }
    return ap;
  }
  // Sentinels at recall 0 and 1, then the envelope: the best precision at any higher recall.
  std::vector<double> envelope_recall = {0.0};
  envelope_recall.insert(envelope_recall.end(), recall.begin(), recall.end());
  envelope_recall.push_back(1.0);
  std::vector<double> envelope = {0.0};
  envelope.insert(envelope.end(), precision.begin(), precision.end());
  envelope.push_back(0.0);
  for (size_t i = envelope.size() - 1; i > 0; --i) {
    const double a = envelope[i - 1], b = envelope[i];
    envelope[i - 1] = (std::isnan(a) || std::isnan(b)) ? std::nan("") : std::max(a, b);
  }
  // Sum of (delta recall) * precision where the recall changes.
  std::vector<double> terms;
  for (size_t i = 0; i + 1 < envelope_recall.size(); ++i) {
    if (envelope_recall[i + 1] != envelope_recall[i]) {
      terms.push_back((envelope_recall[i + 1] - envelope_recall[i]) * envelope[i + 1]);
    }
  }
  return numpy_compat::Sum(terms);
}

absl::StatusOr<double> VocClassAp(const VocClassGroundTruth& ground_truth,
                                  const std::vector<VocDetection>& detections, double iou_threshold,
                                  VocMetric metric, VocScoreOrder order) {
  int num_positives = 0;
  absl::flat_hash_map<std::string, std::vector<uint8_t>> taken;
  for (const auto& [image_id, boxes] : ground_truth) {
    taken[image_id].assign(boxes.size(), 0);
    for (const VocGroundTruthBox& box : boxes) num_positives += !box.difficult;
  }

  std::vector<double> negated_scores(detections.size());
  for (size_t i = 0; i < detections.size(); ++i) negated_scores[i] = -detections[i].score;
  const std::vector<int64_t> sorted = order == VocScoreOrder::kNumpy
                                          ? numpy_compat::ArgsortQuick(negated_scores)
                                          : numpy_compat::ArgsortStable(negated_scores);

  const size_t num_detections = detections.size();
  std::vector<double> true_positive(num_detections, 0.0);
  std::vector<double> false_positive(num_detections, 0.0);
  for (size_t rank = 0; rank < num_detections; ++rank) {
    const VocDetection& detection = detections[sorted[rank]];
    auto image = ground_truth.find(detection.image_id);
    if (image == ground_truth.end()) {
      return absl::InvalidArgumentError(absl::StrCat("detection on image '", detection.image_id,
                                                     "', which is not in the image set"));
    }
    const std::vector<VocGroundTruthBox>& boxes = image->second;
    // np.max / np.argmax: the first maximum, and NaN (a degenerate box) wins.
    double best_iou = -std::numeric_limits<double>::infinity();
    size_t best = 0;
    for (size_t j = 0; j < boxes.size(); ++j) {
      const double iou = VocIou(detection, boxes[j]);
      if (std::isnan(iou)) {
        best_iou = iou;
        best = j;
        break;
      }
      if (j == 0 || iou > best_iou) {
        best_iou = iou;
        best = j;
      }
    }
    if (best_iou > iou_threshold) {
      if (!boxes[best].difficult) {
        uint8_t& is_taken = taken[detection.image_id][best];
        if (!is_taken) {
          true_positive[rank] = 1.0;
          is_taken = 1;
        } else {
          false_positive[rank] = 1.0;
        }
      }
    } else {
      false_positive[rank] = 1.0;
    }
  }

  std::vector<double> recall(num_detections);
  std::vector<double> precision(num_detections);
  double tp = 0;
  double fp = 0;
  for (size_t i = 0; i < num_detections; ++i) {
    tp += true_positive[i];
    fp += false_positive[i];
    recall[i] = tp / static_cast<double>(num_positives);  // NaN without positives, as numpy
    precision[i] = tp / std::max(tp + fp, kPrecisionEpsilon);
  }
  return VocAp(recall, precision, metric);
}

absl::StatusOr<std::vector<VocDetection>> ParseVocResults(absl::string_view text,
                                                          absl::string_view source_name) {
  std::vector<VocDetection> detections;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    const std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (fields.empty()) continue;
    auto bad_line = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat(source_name, ":", line_number, ": ", why,
                                                     " in '", absl::StripAsciiWhitespace(line),
                                                     "'"));
    };
    if (fields.size() != 6) {
      return bad_line("expected 6 fields 'image_id score xmin ymin xmax ymax'");
    }
    VocDetection detection;
    detection.image_id = std::string(fields[0]);
    double* numbers[5] = {&detection.score, &detection.xmin, &detection.ymin, &detection.xmax,
                          &detection.ymax};
    for (int i = 0; i < 5; ++i) {
      if (!absl::SimpleAtod(fields[i + 1], numbers[i]) || !std::isfinite(*numbers[i])) {
        return bad_line(
            absl::StrCat("field ", i + 2, " '", fields[i + 1], "' is not a finite number"));
      }
    }
    detections.push_back(std::move(detection));
  }
  return detections;
}

absl::StatusOr<VocEvalResult> EvaluateVoc(const VocEvalOptions& options) {
  if (options.voc_root.empty() || options.results_dir.empty()) {
    return absl::InvalidArgumentError("VOC eval needs the VOC root and the results directory");
  }
  const std::string image_set_path =
      JoinPath(JoinPath(JoinPath(options.voc_root, "ImageSets"), "Main"), options.split + ".txt");
  MOCHI_ASSIGN_OR_RETURN(std::vector<std::string> image_ids, ReadImageSet(image_set_path));
  std::vector<VocAnnotation> annotations;
  annotations.reserve(image_ids.size());
  for (const std::string& id : image_ids) {
    MOCHI_ASSIGN_OR_RETURN(
        VocAnnotation annotation,
        LoadVocAnnotation(JoinPath(JoinPath(options.voc_root, "Annotations"), id + ".xml")));
    annotations.push_back(std::move(annotation));
  }
  std::vector<std::string> class_names = options.class_names;
  if (class_names.empty()) {
    MOCHI_ASSIGN_OR_RETURN(class_names, DiscoverClasses(annotations, options));
  }

  VocEvalResult result;
  result.metric = options.metric;
  for (const std::string& class_name : class_names) {
    VocClassResult class_result;
    class_result.name = class_name;
    VocClassGroundTruth ground_truth;
    for (size_t i = 0; i < image_ids.size(); ++i) {
      std::vector<VocGroundTruthBox>& boxes = ground_truth[image_ids[i]];
      for (const VocObject& object : annotations[i].objects) {
        if (object.name != class_name) continue;
        boxes.push_back(VocGroundTruthBox{
            static_cast<double>(object.xmin), static_cast<double>(object.ymin),
            static_cast<double>(object.xmax), static_cast<double>(object.ymax), object.difficult});
        class_result.num_positives += !object.difficult;
      }
    }
    const std::string results_path =
        JoinPath(options.results_dir, options.results_prefix + class_name + ".txt");
    absl::StatusOr<std::string> results_text = ReadFileToString(results_path);
    if (!results_text.ok()) {
      return absl::Status(results_text.status().code(),
                          absl::StrCat(results_text.status().message(), " (results of class '",
                                       class_name, "'; write an empty file if it has none)"));
    }
    MOCHI_ASSIGN_OR_RETURN(std::vector<VocDetection> detections,
                           ParseVocResults(*results_text, results_path));
    class_result.num_detections = static_cast<int>(detections.size());
    for (int t = 0; t < kNumVocThresholds; ++t) {
      const double iou_threshold = (50 + 5 * t) / 100.0;
      absl::StatusOr<double> ap =
          VocClassAp(ground_truth, detections, iou_threshold, options.metric, options.score_order);
      if (!ap.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(results_path, ": ", ap.status().message(), " (", image_set_path, ")"));
      }
      class_result.ap[t] = *ap * 100;
    }
    result.classes.push_back(std::move(class_result));
  }

  std::vector<double> per_threshold(kNumVocThresholds);
  for (int t = 0; t < kNumVocThresholds; ++t) {
    std::vector<double> over_classes;
    for (const VocClassResult& c : result.classes) over_classes.push_back(c.ap[t]);
    per_threshold[t] = numpy_compat::Mean(over_classes);
  }
  result.ap = numpy_compat::Mean(per_threshold);
  result.ap50 = per_threshold[0];
  result.ap75 = per_threshold[5];
  return result;
}

proto::VocMetrics VocEvalResultToProto(const VocEvalResult& result) {
  proto::VocMetrics metrics;
  metrics.set_metric(VocMetricName(result.metric));
  metrics.set_ap(result.ap);
  metrics.set_ap50(result.ap50);
  metrics.set_ap75(result.ap75);
  for (const VocClassResult& c : result.classes) {
    proto::VocClassMetrics& per_class = *metrics.add_per_class();
    per_class.set_name(c.name);
    per_class.set_ap50(c.ap[0]);
  }
  return metrics;
}

}  // namespace mochi::eval::voc
