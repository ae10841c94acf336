#include "eval/detection/nms.h"

#include <vector>

#include "ATen/ATen.h"
#include "eval/detection/boxes.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mochi::eval::detection {
namespace {

using ::mochi::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

at::Tensor Boxes(std::vector<float> values) {
  const int64_t n = static_cast<int64_t>(values.size()) / 4;
  return at::tensor(values, at::kFloat).reshape({n, 4});
}

std::vector<int64_t> Indices(const at::Tensor& t) {
  const at::Tensor flat = t.contiguous();
  return std::vector<int64_t>(flat.data_ptr<int64_t>(), flat.data_ptr<int64_t>() + flat.numel());
}

// Visiting order by score: 0 (.9), 4 (.85), 1 (.8), then the tie 2, 3, 5 (.7).
//   IoU(0, 4) = 50 / 150 = 1/3      IoU(0, 1) = 90 / 110 = .82
//   IoU(4, 1) = 60 / 140 = .43      IoU(2, 3) = 1 (identical boxes, equal scores)
struct HandMadeBoxes {
  at::Tensor boxes = Boxes({0,  0,  10, 10,  //
                            1,  0,  11, 10,  //
                            20, 20, 30, 30,  //
                            20, 20, 30, 30,  //
                            5,  0,  15, 10,  //
                            40, 40, 50, 50});
  at::Tensor scores = at::tensor({0.9f, 0.8f, 0.7f, 0.7f, 0.85f, 0.7f});
};

TEST(NmsTest, HandMadeOverlaps) {
  HandMadeBoxes ex;
  auto keep = Nms(ex.boxes, ex.scores, /*iou_threshold=*/0.5);
  MOCHI_ASSERT_OK(keep);
  EXPECT_EQ(keep->scalar_type(), at::kLong);
  // 1 goes (IoU .82 with 0); of the identical tied pair the lower index 2 stays; the tied,
  // non-overlapping 2 and 5 come out in index order.
  EXPECT_THAT(Indices(*keep), ElementsAre(0, 4, 2, 5));
  // At 0.3, 4 (IoU 1/3 with 0) goes too; 1 is then suppressed by 0 only.
  keep = Nms(ex.boxes, ex.scores, /*iou_threshold=*/0.3);
  MOCHI_ASSERT_OK(keep);
  EXPECT_THAT(Indices(*keep), ElementsAre(0, 2, 5));
  // At 0.9 nothing overlaps enough except the identical pair.
  keep = Nms(ex.boxes, ex.scores, /*iou_threshold=*/0.9);
  MOCHI_ASSERT_OK(keep);
  EXPECT_THAT(Indices(*keep), ElementsAre(0, 4, 1, 2, 5));
}

TEST(NmsTest, TiesResolveByIndexWhateverTheInputOrder) {
  // Identical boxes with equal scores: the lowest index survives, wherever it sits.
  const at::Tensor boxes = Boxes({0, 0, 4, 4, 0, 0, 4, 4, 0, 0, 4, 4});
  const at::Tensor scores = at::tensor({0.5f, 0.6f, 0.6f});
  auto keep = Nms(boxes, scores, 0.5);
  MOCHI_ASSERT_OK(keep);
  EXPECT_THAT(Indices(*keep), ElementsAre(1));
}

TEST(NmsTest, IouEqualToTheThresholdDoesNotSuppress) {
  // IoU = 1 / 2 exactly.
  const at::Tensor boxes = Boxes({0, 0, 2, 1, 0, 0, 1, 1});
  const at::Tensor scores = at::tensor({0.9f, 0.8f});
  auto keep = Nms(boxes, scores, 0.5);
  MOCHI_ASSERT_OK(keep);
  EXPECT_THAT(Indices(*keep), ElementsAre(0, 1));
  keep = Nms(boxes, scores, 0.49);
  MOCHI_ASSERT_OK(keep);
  EXPECT_THAT(Indices(*keep), ElementsAre(0));
}

TEST(NmsTest, BatchedNmsOnlySuppressesWithinACategory) {
  HandMadeBoxes ex;
  // 0 and 1 in different categories now; 2 and 3 still share one.
  const at::Tensor categories = at::tensor({0, 1, 2, 2, 0, 1}, at::kLong);
  auto keep = BatchedNms(ex.boxes, ex.scores, categories, 0.5);
  MOCHI_ASSERT_OK(keep);
  EXPECT_THAT(Indices(*keep), ElementsAre(0, 4, 1, 2, 5));
  // 4 and 1 together in category 1: IoU .43, kept at 0.5, suppressed at 0.4.
  const at::Tensor regrouped = at::tensor({0, 1, 2, 2, 1, 1}, at::kInt);
  keep = BatchedNms(ex.boxes, ex.scores, regrouped, 0.4);
  MOCHI_ASSERT_OK(keep);
  EXPECT_THAT(Indices(*keep), ElementsAre(0, 4, 2, 5));
}

TEST(NmsTest, EmptyInput) {
  auto keep = Nms(at::zeros({0, 4}), at::zeros({0}), 0.5);
  MOCHI_ASSERT_OK(keep);
  EXPECT_THAT(Indices(*keep), IsEmpty());
  keep = BatchedNms(at::zeros({0, 4}), at::zeros({0}), at::zeros({0}, at::kLong), 0.5);
  MOCHI_ASSERT_OK(keep);
  EXPECT_THAT(Indices(*keep), IsEmpty());
}

TEST(NmsTest, RejectsMismatchedShapes) {
  EXPECT_THAT(Nms(at::zeros({3, 4}), at::zeros({2}), 0.5),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Nms(at::zeros({3, 5}), at::zeros({3}), 0.5),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(BatchedNms(at::zeros({3, 4}), at::zeros({3}), at::zeros({3}), 0.5),
              StatusIs(absl::StatusCode::kInvalidArgument));  // float categories
}

// Property check on random boxes: the kept boxes overlap each other by at most the threshold,
// and every dropped box overlaps a kept box of higher rank by more (with the same category).
TEST(NmsTest, RandomBoxesSatisfyTheGreedyInvariants) {
  at::manual_seed(1);
  const int64_t n = 300;
  const at::Tensor corner = at::rand({n, 2}) * 100;
  const at::Tensor boxes = at::cat({corner, corner + 5 + at::rand({n, 2}) * 30}, 1);
  // Coarse scores force many ties.
  const at::Tensor scores = at::randint(0, 20, {n}).to(at::kFloat) / 20;
  const at::Tensor categories = at::randint(0, 3, {n}, at::kLong);
  const double threshold = 0.4;
  auto keep = BatchedNms(boxes, scores, categories, threshold);
  MOCHI_ASSERT_OK(keep);
  const std::vector<int64_t> kept = Indices(*keep);
  auto iou_or = PairwiseIou(boxes, boxes);
  MOCHI_ASSERT_OK(iou_or);
  const at::Tensor iou = *iou_or;
  const auto iou_at = iou.accessor<float, 2>();
  const auto score = scores.accessor<float, 1>();
  const auto category = categories.accessor<int64_t, 1>();
  std::vector<bool> is_kept(n, false);
  for (size_t a = 0; a < kept.size(); ++a) {
    is_kept[kept[a]] = true;
    if (a > 0) {  // decreasing score; ties by increasing index
      const int64_t prev = kept[a - 1], cur = kept[a];
      EXPECT_TRUE(score[prev] > score[cur] || (score[prev] == score[cur] && prev < cur));
    }
    for (size_t b = a + 1; b < kept.size(); ++b) {
      if (category[kept[a]] == category[kept[b]]) {
        EXPECT_LE(iou_at[kept[a]][kept[b]], threshold) << kept[a] << " " << kept[b];
      }
    }
  }
  int64_t dropped = 0;
  for (int64_t j = 0; j < n; ++j) {
    if (is_kept[j]) continue;
    ++dropped;
    bool explained = false;
    for (int64_t i : kept) {
      const bool ranks_higher = score[i] > score[j] || (score[i] == score[j] && i < j);
      explained |= ranks_higher && category[i] == category[j] && iou_at[i][j] > threshold;
    }
    EXPECT_TRUE(explained) << "box " << j << " was dropped without a reason";
  }
  EXPECT_GT(dropped, 0);  // the example actually exercises suppression
}

}  // namespace
}  // namespace mochi::eval::detection
