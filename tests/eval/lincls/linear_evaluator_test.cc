#include "eval/lincls/linear_evaluator.h"

#include <vector>

#include "ATen/ATen.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mochi::eval {
namespace {

using ::mochi::testing::StatusIs;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

// Four Gaussian clusters far apart in 8-D: linearly separable.
struct Separable {
  Features train, test;
  Separable() {
    at::manual_seed(0);
    const at::Tensor centres = at::randn({4, 8}) * 5;
    train.labels = at::arange(4, at::kLong).repeat({50});
    test.labels = at::arange(4, at::kLong).repeat({10});
    train.features = centres.index_select(0, train.labels) + 0.3 * at::randn({200, 8});
    test.features = centres.index_select(0, test.labels) + 0.3 * at::randn({40, 8});
  }
};

LinearProbeOptions Small() {
  LinearProbeOptions options;
  options.epochs = 6;
  options.batch_size = 32;
  options.lr = 0.1;
  options.milestones = {4};
  return options;
}

// The evaluator is the probe: the same numbers as TrainLinearProbe on the same features, whether
// it trains on the cached features or on batches handed to it.
TEST(LinearEvaluatorTest, ReportsWhatTheProbeMeasures) {
  Separable data;
  absl::StatusOr<LinearProbeResult> probe = TrainLinearProbe(
      data.train.features, data.train.labels, data.test.features, data.test.labels, 4, Small());
  MOCHI_ASSERT_OK(probe);
  EXPECT_EQ(probe->top1, 1.0);

  LinearEvaluator cached(Small(), 4);
  absl::StatusOr<proto::EvaluationResult> result = cached.Evaluate({&data.train, &data.test});
  MOCHI_ASSERT_OK(result);
  ASSERT_TRUE(result->has_linear());
  const proto::LinearEvalResult& linear = result->linear();
  EXPECT_EQ(linear.top1(), probe->top1);
  EXPECT_EQ(linear.top5(), probe->top5);
  EXPECT_THAT(linear.per_class_top1(), ElementsAreArray(probe->per_class_top1));
  EXPECT_THAT(linear.epoch_loss(), ElementsAreArray(probe->epoch_loss));
  EXPECT_EQ(linear.final_train_loss(), probe->epoch_loss.back());

  LinearEvaluator batched(Small(), 4,
                          CachedFeatureBatches(data.train.features, data.train.labels,
                                               Small().batch_size, Small().seed));
  absl::StatusOr<proto::EvaluationResult> from_batches = batched.Evaluate({nullptr, &data.test});
  MOCHI_ASSERT_OK(from_batches);
  EXPECT_THAT(from_batches->linear().epoch_loss(), ElementsAreArray(probe->epoch_loss));
  EXPECT_EQ(from_batches->linear().top1(), probe->top1);
}

TEST(LinearEvaluatorTest, NeedsTestFeaturesAndATrainingSet) {
  Separable data;
  LinearEvaluator evaluator(Small(), 4);
  EXPECT_THAT(evaluator.Evaluate({&data.train, nullptr}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("test split")));
  EXPECT_THAT(evaluator.Evaluate({nullptr, &data.test}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("training")));
}

}  // namespace
}  // namespace mochi::eval
