// One interface for every evaluator (Detectron2's DatasetEvaluator, reduced to what ours need):
// a model's outputs on an evaluation split go in, a typed result (results.proto's
// EvaluationResult) comes out. kNN and linear classification score frozen features; COCO and VOC
// score detections. A run (pretraining monitor, //eval:linear, a detection transfer) extracts the
// outputs once and hands them to the evaluators it is configured with.
//
// Example:
//   KnnEvaluator knn(KnnOptions{}, /*num_classes=*/10);
//   MOCHI_ASSIGN_OR_RETURN(proto::EvaluationResult result, knn.Evaluate({&train, &test}));
//   const double top1 = result.knn().top1();
#ifndef EVAL_EVALUATOR_H_
#define EVAL_EVALUATOR_H_

#include <vector>

#include "absl/status/statusor.h"
#include "eval/detection/detection_results.h"
#include "mochi/engine/features.h"
#include "mochi/proto/results.pb.h"

namespace mochi::eval {

// What a model produced on the evaluation data. Each evaluator reads its part and fails with
// FailedPrecondition, naming what is missing, when that part is absent.
struct ModelOutputs {
  // Classification (kNN, linear): features and labels of the training split (the kNN bank, the
  // linear probe's training rows when it trains on cached features) and of the test split.
  const Features* train = nullptr;
  const Features* test = nullptr;
  // Detection (COCO, VOC): the test split's detections, in original-image pixels.
  const std::vector<detection::ImageDetections>* detections = nullptr;
};

class Evaluator {
 public:
  virtual ~Evaluator() = default;
  // Scores `outputs`; the result has this evaluator's kind set. May write the evaluator's own
  // files (e.g. the detections in the format its reference tool reads).
  virtual absl::StatusOr<proto::EvaluationResult> Evaluate(const ModelOutputs& outputs) = 0;
};

}  // namespace mochi::eval

#endif  // EVAL_EVALUATOR_H_
