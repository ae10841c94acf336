#include "mochi/ssl/moco.h"

#include <cmath>
#include <utility>
#include <vector>

#include "ATen/ATen.h"
#include "ATen/core/grad_mode.h"
#include "gtest/gtest.h"
#include "tests/testing/tiny_encoder.h"

namespace mochi::ssl {
namespace {

Moco TinyMoco(int64_t queue_size, double momentum, int64_t bn_groups = 1,
              bool channels_last = false, bool autocast_bf16 = false) {
  at::manual_seed(0);
  MocoOptions options;
  options.queue_size = queue_size;
  options.momentum = momentum;
  options.temperature = 0.5;
  options.bn_groups = bn_groups;
  options.channels_last = channels_last;
  options.autocast_bf16 = autocast_bf16;
  Encoder q = testing::TinyEncoder(3);
  Encoder k = testing::TinyEncoder(3);
  return Moco(q, k, options);
}

TEST(MocoTest, KeyEncoderStartsAsACopyAndIsFrozen) {
  Moco moco = TinyMoco(8, 0.9);
  const auto q = moco->encoder_q->parameters();
  const auto k = moco->encoder_k->parameters();
  ASSERT_EQ(q.size(), k.size());
  for (size_t i = 0; i < q.size(); ++i) {
    EXPECT_TRUE(at::equal(q[i], k[i]));
    EXPECT_FALSE(k[i].requires_grad());
    EXPECT_TRUE(q[i].requires_grad());
  }
  // The initial queue holds unit vectors and unknown labels.
  EXPECT_TRUE(at::allclose(moco->queue.norm(2, 1), at::ones({8}), 1e-5, 1e-6));
  EXPECT_EQ(moco->queue_labels.max().item<int64_t>(), -1);
}

TEST(MocoTest, BnGroupsEncodeQueriesInGroupsAndKeysInShuffledGroups) {
  Moco grouped = TinyMoco(8, 0.9, /*bn_groups=*/2);
  at::manual_seed(1);
  const at::Tensor im_q = at::randn({4, 1, 8, 8});
  const at::Tensor im_k = at::randn({4, 1, 8, 8});
  at::manual_seed(7);
  const MocoImpl::Output out = grouped->forward(im_q, im_k, nullptr, c10::nullopt);
  // Queries: BN statistics of the interleaved rows {0, 2} and {1, 3} separately (the reference
  // calls run with one group: the forward restores it).
  at::NoGradGuard no_grad;
  const at::Tensor even = at::tensor({0, 2}, at::kLong), odd = at::tensor({1, 3}, at::kLong);
  auto in_groups = [&](Encoder& encoder, const at::Tensor& images) {
    return at::zeros({4, 3})
        .index_copy(0, even, encoder->forward(images.index_select(0, even)))
        .index_copy(0, odd, encoder->forward(images.index_select(0, odd)));
  };
  EXPECT_TRUE(at::allclose(out.q, in_groups(grouped->encoder_q, im_q), 1e-5, 1e-6));
  EXPECT_FALSE(at::allclose(out.q, grouped->encoder_q->forward(im_q), 1e-3, 1e-3))
      << "grouping must change the BN statistics";
  // Keys: the same permutation the forward drew, encoded in two groups, returned in input order.
  at::manual_seed(7);
  const at::Tensor permutation = at::randperm(4, at::kLong);
  const at::Tensor k_shuffled =
      in_groups(grouped->encoder_k, im_k.index_select(0, permutation));
  EXPECT_TRUE(
      at::allclose(out.k, k_shuffled.index_select(0, at::argsort(permutation)), 1e-5, 1e-6));
}

// run.channels_last changes only the layout (values up to the convolutions' summation order);
// run.autocast_bf16 runs the encoders in bfloat16 (8 mantissa bits) but hands float32 embeddings
// to the float32 head. Same weights, queue and batch in every case.
TEST(MocoTest, ChannelsLastAndBf16AutocastKeepTheLoss) {
  at::manual_seed(1);
  const at::Tensor im_q = at::randn({4, 1, 16, 16});
  const at::Tensor im_k = at::randn({4, 1, 16, 16});
  std::vector<MocoImpl::Output> outs;
  for (const auto& [channels_last, bf16] : {std::pair{false, false}, {true, false}, {false, true}}) {
    Moco moco = TinyMoco(8, 0.9, /*bn_groups=*/1, channels_last, bf16);  // seeded: same weights
    outs.push_back(moco->forward(im_q, im_k, nullptr, c10::nullopt));
  }
  for (const MocoImpl::Output& out : outs) {
    EXPECT_EQ(out.q.scalar_type(), at::kFloat);
    EXPECT_EQ(out.k.scalar_type(), at::kFloat);
  }
  EXPECT_NEAR(outs[1].loss.item<double>(), outs[0].loss.item<double>(), 1e-5);
  EXPECT_NEAR(outs[2].loss.item<double>(), outs[0].loss.item<double>(), 0.05);
  EXPECT_GT((outs[2].q - outs[0].q).abs().max().item<double>(), 0);  // bf16 did run
}

TEST(MocoTest, MomentumUpdateIsTheExponentialMovingAverage) {
  Moco moco = TinyMoco(8, 0.75);
  at::Tensor q0 = moco->encoder_q->parameters()[0];
  at::Tensor k0 = moco->encoder_k->parameters()[0];
  {
    at::NoGradGuard no_grad;
    q0.fill_(1.0);
    k0.fill_(3.0);
  }
  moco->MomentumUpdate();
  // 0.75 * 3 + 0.25 * 1 = 2.5
  EXPECT_TRUE(at::allclose(k0, at::full_like(k0, 2.5)));
  moco->MomentumUpdate();
  // 0.75 * 2.5 + 0.25 * 1 = 2.125
  EXPECT_TRUE(at::allclose(k0, at::full_like(k0, 2.125)));
  EXPECT_TRUE(at::allclose(q0, at::ones_like(q0)));  // the query encoder is untouched
}

TEST(MocoTest, EnqueueWrapsAroundAndKeepsLabels) {
  Moco moco = TinyMoco(6, 0.9);
  const at::Tensor first = at::arange(12, at::kFloat).reshape({4, 3});
  moco->Enqueue(first, at::tensor({10, 11, 12, 13}, at::kLong));
  EXPECT_EQ(moco->queue_ptr.item<int64_t>(), 4);
  EXPECT_TRUE(at::equal(moco->queue.slice(0, 0, 4), first));
  const at::Tensor second = -at::arange(1, 13, at::kFloat).reshape({4, 3});
  moco->Enqueue(second, at::tensor({20, 21, 22, 23}, at::kLong));
  // Slots 4, 5 then 0, 1.
  EXPECT_EQ(moco->queue_ptr.item<int64_t>(), 2);
  EXPECT_TRUE(at::equal(moco->queue.slice(0, 4, 6), second.slice(0, 0, 2)));
  EXPECT_TRUE(at::equal(moco->queue.slice(0, 0, 2), second.slice(0, 2, 4)));
  EXPECT_TRUE(at::equal(moco->queue.slice(0, 2, 4), first.slice(0, 2, 4)));
  EXPECT_TRUE(at::equal(moco->queue_labels, at::tensor({22, 23, 12, 13, 20, 21}, at::kLong)));
}

TEST(MocoTest, LogitsAreInfoNceOverPositiveQueueAndSyntheticNegatives) {
  Moco moco = TinyMoco(16, 0.9);
  at::manual_seed(1);
  const at::Tensor im_q = at::randn({5, 1, 8, 8});
  const at::Tensor im_k = at::randn({5, 1, 8, 8});
  auto plain = moco->forward(im_q, im_k, nullptr, c10::nullopt);
  EXPECT_FALSE(plain.logits.defined());  // the streamed head (loss_head_tile_rows > 0)
  const at::Tensor logits = ContrastiveLogits(plain.q, plain.k, moco->queue, 0.5, nullptr, nullptr);
  ASSERT_EQ(logits.sizes(), (at::IntArrayRef{5, 1 + 16}));
  EXPECT_FALSE(plain.draws.has_value());
  // Column 0 is q.k / tau, the rest q.queue / tau; the loss is cross-entropy with target 0.
  const at::Tensor positive = (plain.q * plain.k).sum(1) / 0.5;
  EXPECT_TRUE(at::allclose(logits.select(1, 0), positive, 1e-5, 1e-6));
  EXPECT_TRUE(
      at::allclose(logits.slice(1, 1), at::matmul(plain.q, moco->queue.t()) / 0.5, 1e-5, 1e-6));
  const double loss = -at::log_softmax(logits, 1).select(1, 0).mean().item<double>();
  EXPECT_NEAR(plain.loss.item<double>(), loss, 1e-5);
  EXPECT_TRUE(at::equal(plain.positive_is_top, logits.argmax(1).eq(0)));
  EXPECT_FALSE(plain.k.requires_grad());

  MixingOptions mixing{/*num_hardest=*/4, /*num_mixed_pairs=*/3, /*num_query_mixed=*/2};
  auto mixed = moco->forward(im_q, im_k, &mixing, c10::nullopt);
  ASSERT_TRUE(mixed.draws.has_value());
  const at::Tensor mixed_logits =
      ContrastiveLogits(mixed.q, mixed.k, moco->queue, 0.5, &*mixed.draws, &mixing);
  ASSERT_EQ(mixed_logits.sizes(), (at::IntArrayRef{5, 1 + 16 + 3 + 2}));  // B x (1+K+s+s')
  EXPECT_TRUE(at::allclose(mixed_logits.slice(1, 0, 17), logits, 1e-5, 1e-6));
  EXPECT_NEAR(mixed.loss.item<double>(),
              -at::log_softmax(mixed_logits, 1).select(1, 0).mean().item<double>(), 1e-5);
  EXPECT_TRUE(at::equal(mixed.positive_is_top, mixed_logits.argmax(1).eq(0)));
  EXPECT_TRUE(at::equal(mixed.positive_is_top_real, mixed_logits.slice(1, 0, 17).argmax(1).eq(0)));
}

// By hand: q = k = (1, 0), queue n = (0, 1), (-1, 0), tau = 0.5: logits (1, 0, -1) / 0.5, and
// the loss -log(e^2 / (e^2 + 1 + e^-2)); its gradient w.r.t. q is (sum_j p_j v_j - k) / tau over
// v = (k, n_1, n_2) with p the softmax (k and the queue are constants).
// Both heads: materialised (tile_rows 0) and streamed one queue row at a time.
TEST(MocoTest, ContrastiveLossByHand) {
  for (const int64_t tile_rows : {0, 1}) {
  SCOPED_TRACE(tile_rows);
  const at::Tensor q = at::tensor({1.f, 0.f}).reshape({1, 2}).requires_grad_(true);
  const at::Tensor k = at::tensor({1.f, 0.f}).reshape({1, 2});
  const at::Tensor queue = at::tensor({0.f, 1.f, -1.f, 0.f}).reshape({2, 2});
  const ContrastiveLoss loss =
      ComputeContrastiveLoss(q, k, queue, 0.5, nullptr, c10::nullopt, tile_rows);
  if (tile_rows == 0) {
    EXPECT_TRUE(at::allclose(loss.logits, at::tensor({2.f, 0.f, -2.f}).reshape({1, 3})));
  }
  EXPECT_TRUE(loss.positive_is_top.item<bool>());
  const double z = std::exp(2.0) + 1.0 + std::exp(-2.0);
  EXPECT_NEAR(loss.loss.item<double>(), -std::log(std::exp(2.0) / z), 1e-6);
  loss.loss.backward();
  // d loss / d logits = p - onehot(0); logits = (q.k, q.n_1, q.n_2) / tau.
  const double p0 = std::exp(2.0) / z, p1 = 1.0 / z, p2 = std::exp(-2.0) / z;
  const double grad_x = ((p0 - 1) * 1 + p1 * 0 + p2 * -1) / 0.5;
  const double grad_y = ((p0 - 1) * 0 + p1 * 1 + p2 * 0) / 0.5;
  EXPECT_NEAR(q.grad()[0][0].item<double>(), grad_x, 1e-6);
  EXPECT_NEAR(q.grad()[0][1].item<double>(), grad_y, 1e-6);
  EXPECT_FALSE(loss.draws.has_value());
  }
}

}  // namespace
}  // namespace mochi::ssl
