#include "mochi/engine/lr_schedule.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace mochi {
namespace {

TEST(ScheduledLearningRateTest, CosineWithWarmupAndSteps) {
  // Rates exact in float (the proto's type), so the hand values are exact too.
  proto::Optimizer cosine;
  cosine.set_base_lr(0.5);
  cosine.mutable_cosine()->set_warmup_epochs(1);
  EXPECT_DOUBLE_EQ(ScheduledLearningRate(cosine, 0, 4), 0.25);  // warm-up: 0.5 * 1 / 2
  EXPECT_DOUBLE_EQ(ScheduledLearningRate(cosine, 1, 4), 0.5 * 0.5 * (1 + std::sqrt(0.5)));
  EXPECT_DOUBLE_EQ(ScheduledLearningRate(cosine, 2, 4), 0.25);  // cos(pi / 2) = 0
  EXPECT_DOUBLE_EQ(ScheduledLearningRate(cosine, 3, 4), 0.5 * 0.5 * (1 - std::sqrt(0.5)));
  proto::Optimizer step;
  step.set_base_lr(1.0);
  step.mutable_step()->add_milestones(2);
  step.mutable_step()->add_milestones(3);
  step.mutable_step()->set_gamma(0.5);
  EXPECT_DOUBLE_EQ(ScheduledLearningRate(step, 1, 4), 1.0);
  EXPECT_DOUBLE_EQ(ScheduledLearningRate(step, 2, 4), 0.5);
  EXPECT_DOUBLE_EQ(ScheduledLearningRate(step, 3, 4), 0.25);
}

TEST(LrScheduleTest, StepDecayCountsTheMilestonesReached) {
  const std::vector<int64_t> milestones = {3, 1};  // unsorted on purpose
  EXPECT_DOUBLE_EQ(StepDecay(8.0, milestones, 0.5, 0), 8.0);
  EXPECT_DOUBLE_EQ(StepDecay(8.0, milestones, 0.5, 1), 4.0);
  EXPECT_DOUBLE_EQ(StepDecay(8.0, milestones, 0.5, 2), 4.0);
  EXPECT_DOUBLE_EQ(StepDecay(8.0, milestones, 0.5, 3), 2.0);
}

TEST(LrScheduleTest, LinearWarmupGoesFromTheStartFactorToOne) {
  EXPECT_DOUBLE_EQ(LinearWarmupFactor(0, 4, 0.2), 0.2);
  EXPECT_DOUBLE_EQ(LinearWarmupFactor(2, 4, 0.2), 0.6);  // 0.2 * 0.5 + 0.5
  EXPECT_DOUBLE_EQ(LinearWarmupFactor(4, 4, 0.2), 1.0);
  EXPECT_DOUBLE_EQ(LinearWarmupFactor(0, 0, 0.2), 1.0);  // no warm-up
}

}  // namespace
}  // namespace mochi
