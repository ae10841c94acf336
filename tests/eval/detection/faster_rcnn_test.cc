// Faster R-CNN C4: target assignment on hand-made cases, the C4 split of the ResNet, losses
// that fall while overfitting one synthetic image, and the shape / NMS contract of inference.
#include "eval/detection/faster_rcnn.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ATen/ATen.h"
#include "ATen/CPUGeneratorImpl.h"
#include "eval/detection/boxes.h"
#include "eval/detection/mask_ops.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "torch/optim/sgd.h"
#include "torch/utils.h"

namespace mochi::eval::detection {
namespace {

using ::mochi::testing::StatusIs;
using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pointwise;

at::Tensor Boxes(std::vector<double> values) {
  const int64_t n = static_cast<int64_t>(values.size()) / 4;
  return at::tensor(values, at::kDouble).reshape({n, 4}).to(at::kFloat);
}

std::vector<double> Values(const at::Tensor& t) {
  const at::Tensor flat = t.to(at::kDouble).contiguous().reshape(-1);
  return std::vector<double>(flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel());
}

std::vector<int64_t> Indices(const at::Tensor& t) {
  const at::Tensor flat = t.to(at::kLong).contiguous().reshape(-1);
  return std::vector<int64_t>(flat.data_ptr<int64_t>(), flat.data_ptr<int64_t>() + flat.numel());
}

at::Generator Seeded(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

models::ResNet TinyBackbone() {
  return models::ResNet(
      models::ResNetOptions().depth(18).width(4).in_channels(1).small_input_stem(true).num_classes(
          0));
}

FasterRcnnOptions TinyOptions() {
  FasterRcnnOptions o;
  o.num_classes = 2;
  o.anchors.sizes = {16, 32};
  o.anchors.aspect_ratios = {0.5, 1, 2};
  o.rpn_batch_size_per_image = 64;
  o.rpn_post_nms_topk_train = 100;
  o.rpn_post_nms_topk_test = 50;
  o.roi_batch_size_per_image = 32;
  o.pooler_resolution = 8;
  o.pixel_mean = {50};
  o.pixel_std = {80};
  return o;
}

TEST(RpnTargetsTest, LabelsAnchorsByIouWithTheGroundTruth) {
  // gt [0, 0, 10, 10]; IoUs: 1 (positive), 0.8 (positive), 0 (negative), 0.5 (ignored).
  const at::Tensor anchors = Boxes({0, 0, 10, 10, 0, 0, 10, 8, 20, 20, 30, 30, 0, 0, 10, 20});
  absl::StatusOr<RpnTargets> targets =
      AssignRpnTargets(anchors, Boxes({0, 0, 10, 10}), 256, 0.5, Seeded(0));
  MOCHI_ASSERT_OK(targets);
  EXPECT_THAT(Indices(targets->labels), ElementsAre(1, 1, 0, -1));
  // Anchor 1 (centre y 4, height 8) -> gt (centre y 5, height 10): dy = 1 / 8, dh = log(10 / 8).
  EXPECT_THAT(Values(targets->deltas.slice(0, 0, 2)),
              Pointwise(DoubleNear(1e-6),
                        std::vector<double>{0, 0, 0, 0, 0, 0.125, 0, std::log(10.0 / 8)}));
}

TEST(RpnTargetsTest, TheBestAnchorOfAGroundTruthIsPositiveEvenBelowTheThreshold) {
  // IoU 0.5 is the best any anchor reaches: it becomes positive (low-quality match).
  const at::Tensor anchors = Boxes({0, 0, 10, 20, 40, 40, 50, 50});
  absl::StatusOr<RpnTargets> targets =
      AssignRpnTargets(anchors, Boxes({0, 0, 10, 10}), 256, 0.5, Seeded(0));
  MOCHI_ASSERT_OK(targets);
  EXPECT_THAT(Indices(targets->labels), ElementsAre(1, 0));
}

TEST(RpnTargetsTest, SamplesAtMostTheBatchWithHalfPositives) {
  // 4 positives (IoU 1), 10 negatives; batch 4 -> 2 positives, 2 negatives.
  std::vector<double> values;
  for (int i = 0; i < 4; ++i) values.insert(values.end(), {0, 0, 10, 10});
  for (int i = 0; i < 10; ++i) values.insert(values.end(), {100, 100, 110, 110});
  absl::StatusOr<RpnTargets> targets =
      AssignRpnTargets(Boxes(values), Boxes({0, 0, 10, 10}), 4, 0.5, Seeded(1));
  MOCHI_ASSERT_OK(targets);
  EXPECT_EQ((targets->labels == 1).sum().item<int64_t>(), 2);
  EXPECT_EQ((targets->labels == 0).sum().item<int64_t>(), 2);
  EXPECT_EQ((targets->labels == -1).sum().item<int64_t>(), 10);
}

TEST(RpnTargetsTest, WithoutGroundTruthEverySampledAnchorIsNegative) {
  absl::StatusOr<RpnTargets> targets =
      AssignRpnTargets(Boxes({0, 0, 10, 10, 5, 5, 20, 20}), at::zeros({0, 4}), 256, 0.5, Seeded(0));
  MOCHI_ASSERT_OK(targets);
  EXPECT_THAT(Indices(targets->labels), ElementsAre(0, 0));
}

TEST(RoiTargetsTest, AppendsTheGroundTruthAndLabelsByClass) {
  FasterRcnnOptions options = TinyOptions();
  options.roi_batch_size_per_image = 16;
  // Proposal 0 matches the gt (class 1) exactly; proposal 1 overlaps nothing (background = 2).
  absl::StatusOr<RoiTargets> targets =
      AssignRoiTargets(Boxes({0, 0, 10, 10, 50, 50, 60, 60}), Boxes({0, 0, 10, 10}),
                       at::tensor({1}, at::kLong), 2, options, Seeded(0));
  MOCHI_ASSERT_OK(targets);
  // Positives first: the proposal and the appended gt box, then the negative.
  EXPECT_THAT(Indices(targets->classes), ElementsAre(1, 1, 2));
  EXPECT_THAT(Indices(targets->matched.slice(0, 0, 2)), ElementsAre(0, 0));
  EXPECT_THAT(Values(targets->proposals.slice(0, 2)),
              Pointwise(DoubleNear(1e-6), std::vector<double>{50, 50, 60, 60}));
  EXPECT_THAT(Values(targets->deltas), Pointwise(DoubleNear(1e-6), std::vector<double>(12, 0)));
}

TEST(RoiTargetsTest, RegressionTargetsUseTheBoxHeadWeights) {
  FasterRcnnOptions options = TinyOptions();
  // Proposal [0, 0, 10, 8] against gt [0, 0, 10, 10] (IoU 0.8): dy = 10 * 1 / 8,
  // dh = 5 * log(10 / 8).
  absl::StatusOr<RoiTargets> targets =
      AssignRoiTargets(Boxes({0, 0, 10, 8}), Boxes({0, 0, 10, 10}), at::tensor({0}, at::kLong), 2,
                       options, Seeded(0));
  MOCHI_ASSERT_OK(targets);
  ASSERT_EQ(targets->classes.size(0), 2);
  const at::Tensor first = targets->proposals[0];
  const bool proposal_first = first[3].item<float>() == 8;
  EXPECT_THAT(Values(targets->deltas[proposal_first ? 0 : 1]),
              Pointwise(DoubleNear(1e-5), std::vector<double>{0, 1.25, 0, 5 * std::log(1.25)}));
}

TEST(ResNetC4Test, SplitsTheTrunkAtRes4) {
  models::ResNet small = TinyBackbone();
  const at::Tensor res4 = small->forward_res4(at::randn({2, 1, 32, 48}));
  EXPECT_THAT(res4.sizes(), ElementsAre(2, 16, 8, 12));  // stride 4, width * 4 channels
  EXPECT_EQ(small->res4_stride(), 4);
  EXPECT_EQ(small->res4_channels(), 16);
  EXPECT_THAT(small->forward_res5(res4).sizes(), ElementsAre(2, 32, 4, 6));
  models::ResNet imagenet(models::ResNetOptions().depth(50).width(8).num_classes(0));
  EXPECT_EQ(imagenet->res4_stride(), 16);
  EXPECT_THAT(imagenet->forward_res4(at::randn({1, 3, 64, 64})).sizes(), ElementsAre(1, 128, 4, 4));
}

TEST(FasterRcnnTest, RejectsPixelStatisticsOfTheWrongChannelCount) {
  FasterRcnnOptions options = TinyOptions();
  options.pixel_mean = {1, 2, 3};
  EXPECT_THAT(MakeFasterRcnn(TinyBackbone(), options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("pixel_mean")));
}

TEST(FasterRcnnTest, FrozenBnStaysInEvalModeWithoutGradients) {
  FasterRcnnOptions options = TinyOptions();
  options.frozen_bn = true;
  absl::StatusOr<FasterRcnn> model = MakeFasterRcnn(TinyBackbone(), options);
  MOCHI_ASSERT_OK(model);
  (*model)->train();
  int num_bn = 0;
  for (const auto& module : (*model)->modules(false)) {
    if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      ++num_bn;
      EXPECT_FALSE(bn->is_training());
      EXPECT_FALSE(bn->weight.requires_grad());
    }
  }
  EXPECT_GT(num_bn, 10);
  EXPECT_TRUE((*model)->is_training());
}

// One 64x64 gray image with a bright 24x20 box of class 1 and a dim 12x16 box of class 0.
struct SyntheticImage {
  at::Tensor image;
  ImageTargets targets;
};
SyntheticImage MakeSyntheticImage() {
  SyntheticImage s;
  s.image = at::full({1, 64, 64}, 20.f);
  s.image.slice(1, 8, 28).slice(2, 10, 34).fill_(230);
  s.image.slice(1, 40, 56).slice(2, 44, 56).fill_(140);
  s.targets.boxes = Boxes({10, 8, 34, 28, 44, 40, 56, 56});
  s.targets.classes = at::tensor({1, 0}, at::kLong);
  return s;
}

// The overfitting tests must hold on any x86-64 CPU and BLAS, whose summation orders differ: each
// runs from several initialisations (a far larger perturbation than a change of floating-point
// path) and trains long enough that what it checks holds for every one of them, not for one lucky
// trajectory.
// At 40 / 60 steps (the first recipe) the class-1 box or mask was still missed from some
// initialisations and on some CPUs; 120 / 180 find them from every one tried.
constexpr int kOverfitSteps = 120;
constexpr int kMaskOverfitSteps = 180;
class OverfitTest : public ::testing::TestWithParam<int> {};
INSTANTIATE_TEST_SUITE_P(Initialisations, OverfitTest, ::testing::Values(0, 1, 2));

TEST_P(OverfitTest, FasterRcnnLossesAreFiniteAndFallAndTheBrightBoxIsFound) {
  at::manual_seed(GetParam());
  absl::StatusOr<FasterRcnn> model = MakeFasterRcnn(TinyBackbone(), TinyOptions());
  MOCHI_ASSERT_OK(model);
  FasterRcnn net = *model;
  net->train();
  const SyntheticImage s = MakeSyntheticImage();
  torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(0.02).momentum(0.9));
  at::Generator generator = Seeded(3 + GetParam());
  std::vector<double> totals;
  for (int step = 0; step < kOverfitSteps; ++step) {
    absl::StatusOr<RcnnLosses> losses =
        net->Losses({s.image, s.image.flip({2})}, {s.targets, s.targets}, generator);
    MOCHI_ASSERT_OK(losses);
    for (const at::Tensor& part :
         {losses->rpn_cls, losses->rpn_loc, losses->cls, losses->box_reg}) {
      ASSERT_EQ(part.dim(), 0);
      ASSERT_TRUE(std::isfinite(part.item<double>()));
    }
    const at::Tensor total = losses->Total();
    totals.push_back(total.item<double>());
    sgd.zero_grad();
    total.backward();
    sgd.step();
  }
  const double first = (totals[0] + totals[1] + totals[2]) / 3;
  const double last =
      (totals[kOverfitSteps - 3] + totals[kOverfitSteps - 2] + totals[kOverfitSteps - 1]) / 3;
  EXPECT_LT(last, 0.6 * first) << "first " << first << ", last " << last;

  // Inference on the overfitted model: shapes, score order, per-class NMS, the cap.
  net->eval();
  torch::NoGradGuard no_grad;
  absl::StatusOr<std::vector<Detections>> detections = net->Detect({s.image, s.image});
  MOCHI_ASSERT_OK(detections);
  ASSERT_EQ(detections->size(), 2u);
  const Detections& d = (*detections)[0];
  const int64_t n = d.boxes.size(0);
  ASSERT_GT(n, 0);
  EXPECT_THAT(d.boxes.sizes(), ElementsAre(n, 4));
  EXPECT_THAT(d.scores.sizes(), ElementsAre(n));
  EXPECT_THAT(d.classes.sizes(), ElementsAre(n));
  EXPECT_EQ(d.classes.scalar_type(), at::kLong);
  EXPECT_TRUE((d.scores.slice(0, 1) <= d.scores.slice(0, 0, n - 1)).all().item<bool>());
  EXPECT_TRUE((d.scores > 0.05).all().item<bool>());
  EXPECT_TRUE((d.boxes >= 0).all().item<bool>() && (d.boxes <= 64).all().item<bool>());
  absl::StatusOr<at::Tensor> iou = PairwiseIou(d.boxes, d.boxes);
  MOCHI_ASSERT_OK(iou);
  const at::Tensor same_class = d.classes.unsqueeze(1) == d.classes.unsqueeze(0);
  const at::Tensor off_diagonal = ~at::eye(n, at::kBool);
  EXPECT_FALSE((*iou > 0.5).logical_and(same_class).logical_and(off_diagonal).any().item<bool>());
  // The best detection of class 1 is the bright box.
  const at::Tensor best_1 = d.boxes.index({d.classes == 1});
  ASSERT_GT(best_1.size(0), 0);
  absl::StatusOr<at::Tensor> best_iou = PairwiseIou(best_1.slice(0, 0, 1), Boxes({10, 8, 34, 28}));
  MOCHI_ASSERT_OK(best_iou);
  EXPECT_GT(best_iou->item<float>(), 0.5);
}

// Mask R-CNN on one image: a bright disc (class 1, radius 10) and a dim rectangle (class 0), each
// with its exact mask. Overfitting must drive the mask loss down from log 2 (zero-initialised
// logits), and the class-1 mask predicted for the best class-1 box, pasted back, must match what
// a perfect mask head gives for that box (the disc cut to the box at the head's resolution and
// pasted back): the crop, the head and the paste agree on where a box's mask lies. The box itself
// is the box head's business (FasterRcnnTest above), so it is not compared with the disc's. (A
// ring with a hole was tried first: 60 steps of this width-4 model do not learn the hole.)
TEST_P(OverfitTest, MaskRcnnMaskLossFallsAndThePastedMaskCoversTheObject) {
  at::manual_seed(GetParam());
  SyntheticImage s = MakeSyntheticImage();
  const at::Tensor ys = at::arange(64, at::kFloat).view({64, 1}) + 0.5;
  const at::Tensor xs = at::arange(64, at::kFloat).view({1, 64}) + 0.5;
  const at::Tensor disc = ((xs - 22).pow(2) + (ys - 18).pow(2) <= 100).to(at::kFloat);
  s.image = at::full({1, 64, 64}, 20.f);
  s.image.masked_fill_(disc.unsqueeze(0).to(at::kBool), 230);
  s.image.slice(1, 40, 56).slice(2, 44, 56).fill_(140);
  s.targets.boxes = Boxes({12, 8, 32, 28, 44, 40, 56, 56});
  at::Tensor rectangle = at::zeros({64, 64});
  rectangle.slice(0, 40, 56).slice(1, 44, 56).fill_(1);
  s.targets.masks = at::stack({disc, rectangle});
  FasterRcnnOptions options = TinyOptions();
  options.mask_on = true;
  options.mask_head_conv_dim = 16;
  absl::StatusOr<FasterRcnn> model = MakeFasterRcnn(TinyBackbone(), options);
  MOCHI_ASSERT_OK(model);
  FasterRcnn net = *model;
  net->train();
  torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(0.02).momentum(0.9));
  at::Generator generator = Seeded(3 + GetParam());
  std::vector<double> mask_losses;
  for (int step = 0; step < kMaskOverfitSteps; ++step) {
    absl::StatusOr<RcnnLosses> losses = net->Losses({s.image}, {s.targets}, generator);
    MOCHI_ASSERT_OK(losses);
    ASSERT_TRUE(losses->mask.defined());
    mask_losses.push_back(losses->mask.item<double>());
    sgd.zero_grad();
    losses->Total().backward();
    sgd.step();
  }
  EXPECT_NEAR(mask_losses[0], std::log(2.0), 0.05);
  EXPECT_LT(mask_losses.back(), 0.6 * mask_losses[0]);

  net->eval();
  torch::NoGradGuard no_grad;
  absl::StatusOr<std::vector<Detections>> detections = net->Detect({s.image});
  MOCHI_ASSERT_OK(detections);
  const Detections& d = (*detections)[0];
  ASSERT_TRUE(d.masks.defined());
  EXPECT_THAT(d.masks.sizes(), ElementsAre(d.boxes.size(0), 8, 8));  // 2 x (8-pixel pooler / 2)
  const at::Tensor best = (d.classes == 1).nonzero();
  ASSERT_GT(best.size(0), 0);
  const int64_t k = best[0][0].item<int64_t>();
  const at::Tensor box = d.boxes.slice(0, k, k + 1);
  absl::StatusOr<at::Tensor> pasted = PasteMasks(d.masks.slice(0, k, k + 1), box, 64, 64);
  MOCHI_ASSERT_OK(pasted);
  absl::StatusOr<at::Tensor> perfect_head =
      CropAndResizeMasks(disc.unsqueeze(0), at::zeros({1}, at::kLong), box, 8);
  MOCHI_ASSERT_OK(perfect_head);
  absl::StatusOr<at::Tensor> perfect = PasteMasks(*perfect_head, box, 64, 64);
  MOCHI_ASSERT_OK(perfect);
  const at::Tensor predicted = (*pasted)[0].to(at::kBool);
  const at::Tensor truth = (*perfect)[0].to(at::kBool);
  ASSERT_GT(truth.sum().item<int64_t>(), 0);
  const double iou = (predicted & truth).sum().item<double>() /
                     std::max<double>((predicted | truth).sum().item<double>(), 1);
  EXPECT_GT(iou, 0.7);
}

TEST(MaskRcnnTest, LossesNeedMasksWhenTheMaskHeadIsOn) {
  FasterRcnnOptions options = TinyOptions();
  options.mask_on = true;
  absl::StatusOr<FasterRcnn> model = MakeFasterRcnn(TinyBackbone(), options);
  MOCHI_ASSERT_OK(model);
  const SyntheticImage s = MakeSyntheticImage();  // boxes only
  EXPECT_THAT((*model)->Losses({s.image}, {s.targets}, Seeded(0)),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("ImageTargets.masks")));
}

TEST(FasterRcnnTest, DetectKeepsAtMostDetectionsPerImage) {
  at::manual_seed(0);
  FasterRcnnOptions options = TinyOptions();
  options.test_score_thresh = 0;
  options.detections_per_image = 5;
  absl::StatusOr<FasterRcnn> model = MakeFasterRcnn(TinyBackbone(), options);
  MOCHI_ASSERT_OK(model);
  (*model)->eval();
  torch::NoGradGuard no_grad;
  // Two images of different sizes: padded to one batch, boxes clipped to each image's size.
  absl::StatusOr<std::vector<Detections>> detections =
      (*model)->Detect({at::rand({1, 64, 48}) * 255, at::rand({1, 40, 64}) * 255});
  MOCHI_ASSERT_OK(detections);
  ASSERT_EQ(detections->size(), 2u);
  EXPECT_EQ((*detections)[0].boxes.size(0), 5);
  EXPECT_EQ((*detections)[1].boxes.size(0), 5);
  EXPECT_TRUE(((*detections)[0].boxes.select(1, 2) <= 48).all().item<bool>());
  EXPECT_TRUE(((*detections)[1].boxes.select(1, 3) <= 40).all().item<bool>());
}

TEST(FasterRcnnTest, LossesRejectMismatchedTargets) {
  absl::StatusOr<FasterRcnn> model = MakeFasterRcnn(TinyBackbone(), TinyOptions());
  MOCHI_ASSERT_OK(model);
  EXPECT_THAT((*model)->Losses({at::zeros({1, 32, 32})}, {}, Seeded(0)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT((*model)->Detect({at::zeros({3, 32, 32})}),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("[1, H, W]")));
}

}  // namespace
}  // namespace mochi::eval::detection
