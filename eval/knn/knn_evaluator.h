// kNN classification (knn.h) as an Evaluator: the training split's features are the bank, the
// test split's are classified.
#ifndef EVAL_KNN_KNN_EVALUATOR_H_
#define EVAL_KNN_KNN_EVALUATOR_H_

#include <cstdint>

#include "eval/evaluator.h"
#include "eval/knn/knn.h"

namespace mochi::eval {

class KnnEvaluator : public Evaluator {
 public:
  KnnEvaluator(KnnOptions options, int64_t num_classes)
      : options_(options), num_classes_(num_classes) {}

  // Sets knn: top1, k, temperature and the split sizes. Needs outputs.train and outputs.test.
  absl::StatusOr<proto::EvaluationResult> Evaluate(const ModelOutputs& outputs) override;

 private:
  const KnnOptions options_;
  const int64_t num_classes_;
};

}  // namespace mochi::eval

#endif  // EVAL_KNN_KNN_EVALUATOR_H_
