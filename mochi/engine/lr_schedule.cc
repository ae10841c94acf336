#include "mochi/engine/lr_schedule.h"

#include <cmath>
#include <vector>

namespace mochi {

double StepDecay(double base_lr, absl::Span<const int64_t> milestones, double gamma, int64_t t) {
  double lr = base_lr;
  for (const int64_t milestone : milestones) {
    if (t >= milestone) lr *= gamma;
  }
  return lr;
}

double LinearWarmupFactor(int64_t t, int64_t warmup, double start_factor) {
  if (t >= warmup) return 1.0;
  const double alpha = static_cast<double>(t) / warmup;
  return start_factor * (1 - alpha) + alpha;
}

double ScheduledLearningRate(const proto::Optimizer& o, int64_t epoch, int64_t epochs) {
  const double lr = o.base_lr();
  if (o.has_cosine()) {
    const int warmup = o.cosine().warmup_epochs();
    if (epoch < warmup) return lr * (epoch + 1) / (warmup + 1);
    return lr * (0.5 * (1.0 + std::cos(M_PI * epoch / epochs)));  // MoCo's --cos, per epoch
  }
  const std::vector<int64_t> milestones(o.step().milestones().begin(), o.step().milestones().end());
  return StepDecay(lr, milestones, o.step().gamma(), epoch);
}

}  // namespace mochi
