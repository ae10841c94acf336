#include "eval/detection/detection_evaluators.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "eval/coco/coco_eval.h"
#include "eval/detection/detection_results.h"
#include "mochi/port/status_macros.h"

namespace mochi::eval::detection {
namespace {

absl::Status NeedsDetections(const ModelOutputs& outputs, const char* evaluator) {
  if (outputs.detections != nullptr) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("the ", evaluator, " evaluator needs the test split's detections"));
}

}  // namespace

std::string SegmResultsPath(const std::string& results_path) {
  const std::string stem = absl::EndsWith(results_path, ".json")
                               ? results_path.substr(0, results_path.size() - 5)
                               : results_path;
  return stem + "_segm.json";
}

absl::StatusOr<proto::EvaluationResult> CocoDetectionEvaluator::Evaluate(
    const ModelOutputs& outputs) {
  MOCHI_RETURN_IF_ERROR(NeedsDetections(outputs, "COCO"));
  MOCHI_RETURN_IF_ERROR(WriteCocoResults(results_path_, category_ids_, *outputs.detections));
  proto::EvaluationResult result;
  proto::CocoEvaluation& coco = *result.mutable_coco();
  MOCHI_ASSIGN_OR_RETURN(
      const coco::CocoStats boxes,
      coco::EvaluateCocoFiles(annotations_, results_path_, coco::IouType::kBbox));
  *coco.mutable_bbox() = coco::CocoStatsToProto(boxes);
  if (with_masks_) {
    // As detectron2's COCOEvaluator: masks scored without their boxes, so that the area ranges
    // read mask areas (with a bbox, pycocotools would take every area from the box).
    const std::string segm_path = SegmResultsPath(results_path_);
    MOCHI_RETURN_IF_ERROR(WriteCocoResults(segm_path, category_ids_, *outputs.detections,
                                           CocoResultsLayout::kMasksOnly));
    MOCHI_ASSIGN_OR_RETURN(const coco::CocoStats masks,
                           coco::EvaluateCocoFiles(annotations_, segm_path, coco::IouType::kSegm));
    *coco.mutable_segm() = coco::CocoStatsToProto(masks);
  }
  return result;
}

absl::StatusOr<proto::EvaluationResult> VocDetectionEvaluator::Evaluate(
    const ModelOutputs& outputs) {
  MOCHI_RETURN_IF_ERROR(NeedsDetections(outputs, "VOC"));
  MOCHI_RETURN_IF_ERROR(WriteVocResults(options_.results_dir, options_.results_prefix,
                                        options_.class_names, *outputs.detections));
  MOCHI_ASSIGN_OR_RETURN(const voc::VocEvalResult voc, voc::EvaluateVoc(options_));
  proto::EvaluationResult result;
  *result.mutable_voc() = voc::VocEvalResultToProto(voc);
  return result;
}

}  // namespace mochi::eval::detection
