#include "eval/knn/knn.h"

#include <cmath>

#include "ATen/ATen.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mochi::eval {
namespace {

using ::mochi::testing::StatusIs;

at::Tensor Float(std::vector<float> v, int64_t rows, int64_t cols) {
  return at::tensor(v, at::kFloat).reshape({rows, cols});
}

// Train points on the unit circle at 0, 10, 85, 90 degrees (classes 0, 0, 1, 1) and 45 degrees
// (class 2); one query at 40 degrees (class 0), k = 3.
TEST(KnnTest, HandComputedVotes) {
  auto unit = [](double degrees) {
    const double r = degrees * M_PI / 180;
    return std::vector<float>{static_cast<float>(std::cos(r)), static_cast<float>(std::sin(r))};
  };
  std::vector<float> train;
  for (double d : {0.0, 10.0, 85.0, 90.0, 45.0}) {
    auto u = unit(d);
    train.insert(train.end(), u.begin(), u.end());
  }
  const at::Tensor train_x = Float(train, 5, 2);
  const at::Tensor train_y = at::tensor({0, 0, 1, 1, 2}, at::kLong);
  auto q = unit(40);
  const at::Tensor test_x = Float(q, 1, 2);
  // Cosines to 0/10/85/90/45 deg: .766044, .866025, .707107, .642788, .996195, so the 3 nearest
  // are 45 (class 2), 10 and 0 (class 0).
  // Votes with tau = 1: class 0: e^.866025 + e^.766044 = 2.377443 + 2.151283 = 4.528726;
  // class 2: e^.996195 = 2.707950. Class 0 wins with tau = 1.
  KnnOptions options{/*k=*/3, /*temperature=*/1.0, /*chunk_size=*/1};
  auto result = KnnClassify(train_x, train_y, test_x, at::tensor({0}, at::kLong), 3, options);
  MOCHI_ASSERT_OK(result);
  EXPECT_EQ(result->predictions[0].item<int64_t>(), 0);
  EXPECT_DOUBLE_EQ(result->top1, 1.0);
  // With tau = 0.07 the single nearest neighbour dominates: e^(.996195/.07) = 1.50e6 against
  // e^(.866025/.07) + e^(.766044/.07) = 2.39e5 + 5.64e4, so class 2 wins.
  options.temperature = 0.07;
  result = KnnClassify(train_x, train_y, test_x, at::tensor({0}, at::kLong), 3, options);
  MOCHI_ASSERT_OK(result);
  EXPECT_EQ(result->predictions[0].item<int64_t>(), 2);
  EXPECT_DOUBLE_EQ(result->top1, 0.0);
  EXPECT_DOUBLE_EQ(result->per_class_top1[0], 0.0);
  EXPECT_DOUBLE_EQ(result->per_class_top1[1], -1.0);  // no test rows of class 1
}

TEST(KnnTest, ChunkingDoesNotChangePredictions) {
  at::manual_seed(0);
  const at::Tensor train_x = at::randn({300, 8});
  const at::Tensor train_y = at::randint(4, {300}, at::kLong);
  const at::Tensor test_x = at::randn({77, 8});
  const at::Tensor test_y = at::randint(4, {77}, at::kLong);
  auto whole = KnnClassify(train_x, train_y, test_x, test_y, 4, {20, 0.07, 1000});
  auto chunked = KnnClassify(train_x, train_y, test_x, test_y, 4, {20, 0.07, 8});
  MOCHI_ASSERT_OK(whole);
  MOCHI_ASSERT_OK(chunked);
  EXPECT_TRUE(at::equal(whole->predictions, chunked->predictions));
}

TEST(KnnTest, SeparableClustersAreClassifiedPerfectly) {
  at::manual_seed(1);
  const at::Tensor centres = at::eye(3) * 10;
  const at::Tensor train_y = at::arange(3, at::kLong).repeat({50});
  const at::Tensor train_x = centres.index_select(0, train_y) + at::randn({150, 3});
  const at::Tensor test_y = at::arange(3, at::kLong).repeat({10});
  const at::Tensor test_x = centres.index_select(0, test_y) + at::randn({30, 3});
  auto result = KnnClassify(train_x, train_y, test_x, test_y, 3, {});
  MOCHI_ASSERT_OK(result);
  EXPECT_DOUBLE_EQ(result->top1, 1.0);
}

TEST(KnnTest, RejectsBadInputs) {
  const at::Tensor x = at::randn({4, 2});
  const at::Tensor y = at::zeros({4}, at::kLong);
  EXPECT_THAT(KnnClassify(x, y, at::randn({2, 3}), at::zeros({2}, at::kLong), 2, {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(KnnClassify(x, at::full({4}, 5, at::kLong), x, y, 2, {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(KnnClassify(x, y, x, y, 2, {0, 0.07, 10}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace mochi::eval
