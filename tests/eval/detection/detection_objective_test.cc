#include "eval/detection/detection_objective.h"

#include <optional>
#include <set>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/data/rng.h"
#include "tests/testing/status_matchers.h"

namespace mochi::eval::detection {
namespace {

using ::mochi::testing::StatusIs;

std::vector<int64_t> AllIndices(DetectionBatches& batches, int64_t* steps) {
  std::vector<int64_t> indices;
  *steps = 0;
  while (true) {
    absl::StatusOr<std::optional<data::Batch>> batch = batches.Next();
    EXPECT_TRUE(batch.ok());
    if (!batch.ok() || !batch->has_value()) break;
    EXPECT_EQ((*batch)->step_in_epoch, *steps);
    for (int64_t i = 0; i < (*batch)->indices.size(0); ++i) {
      indices.push_back((*batch)->indices[i].item<int64_t>());
    }
    ++*steps;
  }
  return indices;
}

// 5 images, 2 per step, 6 steps: 12 image slots, two whole passes and the start of a third, each
// pass the project RNG's permutation of its own seed.
TEST(DetectionBatchesTest, PassesArePermutationsFromTheSeed) {
  DetectionBatches batches(/*num_images=*/5, /*images_per_step=*/2, /*steps=*/6, /*seed=*/7);
  MOCHI_ASSERT_OK(batches.StartEpoch(0));
  int64_t steps = 0;
  const std::vector<int64_t> indices = AllIndices(batches, &steps);
  EXPECT_EQ(steps, 6);
  ASSERT_EQ(indices.size(), 12u);
  std::vector<int64_t> expected;
  for (uint64_t pass = 0; pass < 3; ++pass) {
    const std::vector<int64_t> order = data::Permutation(5, data::MixSeed(7, pass));
    expected.insert(expected.end(), order.begin(), order.end());
  }
  expected.resize(12);
  EXPECT_EQ(indices, expected);
  EXPECT_EQ(std::set<int64_t>(indices.begin(), indices.begin() + 5).size(), 5u);

  // Starting again gives the same steps (what a resume skips through).
  MOCHI_ASSERT_OK(batches.StartEpoch(0));
  EXPECT_EQ(AllIndices(batches, &steps), indices);
}

TEST(DetectionBatchesTest, OneEpochOfImages) {
  DetectionBatches batches(5, 2, 6, 7);
  EXPECT_THAT(batches.StartEpoch(1), StatusIs(absl::StatusCode::kInvalidArgument));
  DetectionBatches empty(0, 2, 6, 7);
  EXPECT_THAT(empty.StartEpoch(0), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace mochi::eval::detection
