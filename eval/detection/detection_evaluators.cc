#include "eval/detection/detection_evaluators.h"

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
    MOCHI_ASSIGN_OR_RETURN(
        const coco::CocoStats masks,
        coco::EvaluateCocoFiles(annotations_, results_path_, coco::IouType::kSegm));
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
