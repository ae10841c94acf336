// Learning-rate schedules, shared by pretraining (per epoch), the linear probe (per epoch) and
// detection (per iteration): a linear warm-up factor, step decay at milestones, and the
// half-cosine of MoCo's --cos.
#ifndef MOCHI_ENGINE_LR_SCHEDULE_H_
#define MOCHI_ENGINE_LR_SCHEDULE_H_

#include <cstdint>

#include "absl/types/span.h"
#include "mochi/proto/optim.pb.h"

namespace mochi {

// `base_lr` times `gamma` once for every milestone <= t (milestones need not be sorted).
double StepDecay(double base_lr, absl::Span<const int64_t> milestones, double gamma, int64_t t);

// Detectron2's linear warm-up: the factor goes from `start_factor` at t = 0 towards 1 at
// t = warmup, and is 1 from there on.
double LinearWarmupFactor(int64_t t, int64_t warmup, double start_factor);

// The pretraining schedule of `epoch` of `epochs`: with `cosine`, warm-up epochs at
// base_lr * (e + 1) / (warmup + 1), then base_lr * (1 + cos(pi * epoch / epochs)) / 2; with
// `step`, StepDecay at its milestones.
double ScheduledLearningRate(const proto::Optimizer& optimizer, int64_t epoch, int64_t epochs);

}  // namespace mochi

#endif  // MOCHI_ENGINE_LR_SCHEDULE_H_
