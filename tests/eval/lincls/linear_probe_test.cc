#include "eval/lincls/linear_probe.h"

#include <limits>
#include <memory>
#include <optional>
#include <vector>

#include "ATen/ATen.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/data/rng.h"
#include "tests/testing/status_matchers.h"

namespace mochi::eval {
namespace {

using ::mochi::testing::StatusIs;

// Four Gaussian clusters far apart in 16-D: linearly separable, so the probe must reach 100%.
struct Separable {
  at::Tensor train_x, train_y, test_x, test_y;
  Separable() {
    at::manual_seed(0);
    const at::Tensor centres = at::randn({4, 16}) * 5;
    train_y = at::arange(4, at::kLong).repeat({100});
    test_y = at::arange(4, at::kLong).repeat({25});
    train_x = centres.index_select(0, train_y) + 0.3 * at::randn({400, 16});
    test_x = centres.index_select(0, test_y) + 0.3 * at::randn({100, 16});
  }
};

LinearProbeOptions Small() {
  LinearProbeOptions o;
  o.epochs = 10;
  o.batch_size = 32;
  o.lr = 0.1;
  o.milestones = {6, 8};
  return o;
}

TEST(LinearProbeTest, SeparableFeaturesReachHundredPercent) {
  Separable d;
  auto result = TrainLinearProbe(d.train_x, d.train_y, d.test_x, d.test_y, 4, Small());
  MOCHI_ASSERT_OK(result);
  EXPECT_DOUBLE_EQ(result->top1, 1.0);
  EXPECT_DOUBLE_EQ(result->top5, 1.0);  // top-5 of 4 classes always hits
  EXPECT_THAT(result->per_class_top1, ::testing::Each(1.0));
  ASSERT_EQ(result->epoch_loss.size(), 10u);
  EXPECT_LT(result->epoch_loss.back(), 0.1 * result->epoch_loss.front());
}

TEST(LinearProbeTest, ShuffledLabelsStayNearChance) {
  Separable d;
  at::manual_seed(5);
  const at::Tensor random_train = at::randint(4, {400}, at::kLong);
  auto result = TrainLinearProbe(d.train_x, random_train, d.test_x, d.test_y, 4, Small());
  MOCHI_ASSERT_OK(result);
  EXPECT_LT(result->top1, 0.6);  // 4 clusters, labels independent of them
}

TEST(LinearProbeTest, SeedMakesTrainingReproducible) {
  Separable d;
  auto a = TrainLinearProbe(d.train_x, d.train_y, d.test_x, d.test_y, 4, Small());
  auto b = TrainLinearProbe(d.train_x, d.train_y, d.test_x, d.test_y, 4, Small());
  MOCHI_ASSERT_OK(a);
  MOCHI_ASSERT_OK(b);
  EXPECT_EQ(a->epoch_loss, b->epoch_loss);
}

// Cached features are visited in the project RNG's permutation for the epoch, in batches.
TEST(LinearProbeTest, CachedBatchesFollowTheProjectPermutation) {
  const at::Tensor features = at::arange(10, at::kFloat).reshape({10, 1});
  const at::Tensor labels = at::arange(10, at::kLong);
  std::unique_ptr<BatchSource> batches = CachedFeatureBatches(features, labels, 4, /*seed=*/3);
  for (int64_t epoch = 0; epoch < 2; ++epoch) {
    MOCHI_ASSERT_OK(batches->StartEpoch(epoch));
    std::vector<int64_t> seen;
    std::vector<int64_t> sizes;
    while (true) {
      absl::StatusOr<std::optional<data::Batch>> batch = batches->Next();
      MOCHI_ASSERT_OK(batch);
      if (!batch->has_value()) break;
      sizes.push_back((*batch)->labels.size(0));
      for (int64_t i = 0; i < (*batch)->labels.size(0); ++i) {
        seen.push_back((*batch)->labels[i].item<int64_t>());
        EXPECT_EQ((*batch)->views[0][i][0].item<float>(), seen.back());  // rows stay paired
      }
    }
    EXPECT_EQ(seen, data::Permutation(10, data::MixSeed(3, epoch + 1))) << "epoch " << epoch;
    EXPECT_EQ(sizes, (std::vector<int64_t>{4, 4, 2}));
  }
}

TEST(LinearProbeTest, NonFiniteLossIsAnErrorNotANumber) {
  Separable d;
  at::Tensor poisoned = d.train_x.clone();
  poisoned[3][2] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THAT(TrainLinearProbe(poisoned, d.train_y, d.test_x, d.test_y, 4, Small()),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::HasSubstr("diverged")));
}

TEST(LinearProbeTest, RejectsLabelsOutsideTheClassSet) {
  Separable d;
  EXPECT_THAT(TrainLinearProbe(d.train_x, d.train_y, d.test_x, d.test_y, 3, Small()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(TrainLinearProbe(d.train_x, d.train_y, d.test_x.slice(1, 0, 8), d.test_y, 4, Small()),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace mochi::eval
