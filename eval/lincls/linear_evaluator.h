// Linear classification (linear_probe.h) as an Evaluator: trains the probe, then scores the test
// split's features.
#ifndef EVAL_LINCLS_LINEAR_EVALUATOR_H_
#define EVAL_LINCLS_LINEAR_EVALUATOR_H_

#include <cstdint>
#include <memory>

#include "eval/evaluator.h"
#include "eval/lincls/linear_probe.h"
#include "mochi/engine/trainer.h"

namespace mochi::eval {

class LinearEvaluator : public Evaluator {
 public:
  // Trains on `train_batches` when given (features of freshly augmented images, MoCo's
  // main_lincls), else on outputs.train's cached features, reshuffled every epoch.
  LinearEvaluator(LinearProbeOptions options, int64_t num_classes,
                  std::unique_ptr<BatchSource> train_batches = nullptr)
      : options_(options), num_classes_(num_classes), train_batches_(std::move(train_batches)) {}

  // Sets linear: top1, top5, per_class_top1, epoch_loss, final_train_loss. Needs outputs.test
  // (and outputs.train without train batches).
  absl::StatusOr<proto::EvaluationResult> Evaluate(const ModelOutputs& outputs) override;

 private:
  const LinearProbeOptions options_;
  const int64_t num_classes_;
  std::unique_ptr<BatchSource> train_batches_;
};

}  // namespace mochi::eval

#endif  // EVAL_LINCLS_LINEAR_EVALUATOR_H_
