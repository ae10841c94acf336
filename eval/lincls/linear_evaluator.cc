#include "eval/lincls/linear_evaluator.h"

#include "mochi/port/status_macros.h"

namespace mochi::eval {

absl::StatusOr<proto::EvaluationResult> LinearEvaluator::Evaluate(const ModelOutputs& outputs) {
  if (outputs.test == nullptr) {
    return absl::FailedPreconditionError("the linear evaluator needs the test split's features");
  }
  const Features& test = *outputs.test;
  LinearProbeResult probe;
  if (train_batches_ != nullptr) {
    MOCHI_ASSIGN_OR_RETURN(
        probe, TrainLinearProbe(*train_batches_, test.features.size(1), test.features, test.labels,
                                num_classes_, options_));
  } else if (outputs.train != nullptr) {
    MOCHI_ASSIGN_OR_RETURN(
        probe, TrainLinearProbe(outputs.train->features, outputs.train->labels, test.features,
                                test.labels, num_classes_, options_));
  } else {
    return absl::FailedPreconditionError(
        "the linear evaluator needs training batches or the training split's cached features");
  }
  proto::EvaluationResult result;
  proto::LinearEvalResult& out = *result.mutable_linear();
  out.set_top1(probe.top1);
  out.set_top5(probe.top5);
  for (const double top1 : probe.per_class_top1) out.add_per_class_top1(top1);
  for (const double loss : probe.epoch_loss) out.add_epoch_loss(loss);
  out.set_final_train_loss(probe.epoch_loss.back());  // TrainLinearProbe runs >= 1 epoch
  return result;
}

}  // namespace mochi::eval
