// The detection evaluators: a test split's detections written in the format of the reference
// tool and scored by it. COCO: a results JSON scored for boxes (and masks) by //eval/coco, as
// pycocotools; VOC: detectron2's per-class results files scored by //eval/voc, as detectron2's
// PascalVOCDetectionEvaluator.
#ifndef EVAL_DETECTION_DETECTION_EVALUATORS_H_
#define EVAL_DETECTION_DETECTION_EVALUATORS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "eval/evaluator.h"
#include "eval/voc/voc_eval.h"

namespace mochi::eval::detection {

// Where CocoDetectionEvaluator writes the masks-only results it scores for segm:
// "dir/coco_results.json" -> "dir/coco_results_segm.json".
std::string SegmResultsPath(const std::string& results_path);

class CocoDetectionEvaluator : public Evaluator {
 public:
  // Writes `results_path` (boxes and masks, detectron2's file) and scores its boxes against the
  // ground truth in `annotations`; `category_ids[c]` is class c's COCO id. With masks, also
  // writes SegmResultsPath(results_path) without boxes and scores it (segm, mask areas).
  CocoDetectionEvaluator(std::string annotations, std::string results_path,
                         std::vector<int64_t> category_ids, bool with_masks)
      : annotations_(std::move(annotations)),
        results_path_(std::move(results_path)),
        category_ids_(std::move(category_ids)),
        with_masks_(with_masks) {}

  // Sets coco: bbox (and segm). Needs outputs.detections.
  absl::StatusOr<proto::EvaluationResult> Evaluate(const ModelOutputs& outputs) override;

 private:
  const std::string annotations_, results_path_;
  const std::vector<int64_t> category_ids_;
  const bool with_masks_;
};

class VocDetectionEvaluator : public Evaluator {
 public:
  // Writes <results_dir>/<results_prefix><class>.txt for options.class_names and scores them
  // against the image set options.split of options.voc_root.
  explicit VocDetectionEvaluator(voc::VocEvalOptions options) : options_(std::move(options)) {}

  // Sets voc (percent). Needs outputs.detections.
  absl::StatusOr<proto::EvaluationResult> Evaluate(const ModelOutputs& outputs) override;

 private:
  const voc::VocEvalOptions options_;
};

}  // namespace mochi::eval::detection

#endif  // EVAL_DETECTION_DETECTION_EVALUATORS_H_
