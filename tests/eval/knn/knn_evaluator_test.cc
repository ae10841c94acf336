#include "eval/knn/knn_evaluator.h"

#include "ATen/ATen.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mochi::eval {
namespace {

using ::mochi::testing::StatusIs;
using ::testing::HasSubstr;

// Two train points per class on the axes; each test point lies next to one class. With k = 1
// every test point takes its neighbour's label, so top-1 counts the test labels that agree.
TEST(KnnEvaluatorTest, HandComputedTop1AndTheResultFields) {
  Features train{at::tensor({1.f, 0.f, 2.f, 0.1f, 0.f, 1.f, 0.1f, 3.f}).reshape({4, 2}),
                 at::tensor({0, 0, 1, 1}, at::kLong)};
  // Near class 0, near class 1, near class 1 (labelled 0: wrong).
  Features test{at::tensor({1.f, 0.05f, 0.05f, 1.f, 0.f, 2.f}).reshape({3, 2}),
                at::tensor({0, 1, 0}, at::kLong)};
  KnnEvaluator evaluator({/*k=*/1, /*temperature=*/0.5, /*chunk_size=*/2}, /*num_classes=*/2);
  absl::StatusOr<proto::EvaluationResult> result = evaluator.Evaluate({&train, &test});
  MOCHI_ASSERT_OK(result);
  ASSERT_TRUE(result->has_knn());
  EXPECT_NEAR(result->knn().top1(), 2.0 / 3.0, 1e-6);
  EXPECT_EQ(result->knn().k(), 1);
  EXPECT_EQ(result->knn().temperature(), 0.5);
  EXPECT_EQ(result->knn().train_images(), 4);
  EXPECT_EQ(result->knn().test_images(), 3);
  EXPECT_FALSE(result->knn().has_raw_pixels_top1());  // the monitor's, not the evaluator's
}

TEST(KnnEvaluatorTest, NeedsTrainAndTestFeatures) {
  Features test{at::zeros({1, 2}), at::zeros({1}, at::kLong)};
  KnnEvaluator evaluator({}, 2);
  EXPECT_THAT(evaluator.Evaluate({nullptr, &test}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("its bank")));
}

}  // namespace
}  // namespace mochi::eval
