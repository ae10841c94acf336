#include "eval/knn/knn_evaluator.h"

#include "mochi/port/status_macros.h"

namespace mochi::eval {

absl::StatusOr<proto::EvaluationResult> KnnEvaluator::Evaluate(const ModelOutputs& outputs) {
  if (outputs.train == nullptr || outputs.test == nullptr) {
    return absl::FailedPreconditionError(
        "the kNN evaluator needs the training split's features (its bank) and the test split's");
  }
  MOCHI_ASSIGN_OR_RETURN(
      const KnnResult knn,
      KnnClassify(outputs.train->features, outputs.train->labels, outputs.test->features,
                  outputs.test->labels, num_classes_, options_));
  proto::EvaluationResult result;
  proto::KnnResult& out = *result.mutable_knn();
  out.set_top1(knn.top1);
  out.set_k(static_cast<int32_t>(options_.k));
  out.set_temperature(options_.temperature);
  out.set_train_images(static_cast<int32_t>(outputs.train->labels.size(0)));
  out.set_test_images(static_cast<int32_t>(outputs.test->labels.size(0)));
  return result;
}

}  // namespace mochi::eval
