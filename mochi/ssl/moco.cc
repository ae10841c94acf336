#include "mochi/ssl/moco.h"

#include <utility>
#include <vector>

#include "ATen/ATen.h"
#include "c10/util/Exception.h"
#include "mochi/models/split_batch_norm.h"
#include "mochi/port/autocast.h"
#include "mochi/ssl/fused_infonce.h"
#include "torch/autograd.h"

namespace mochi::ssl {

EncoderImpl::EncoderImpl(models::ResNet backbone_module, models::ProjectionHead head_module)
    : backbone(register_module("backbone", backbone_module)),
      head(register_module("head", head_module)) {}

torch::Tensor EncoderImpl::forward(const torch::Tensor& x) {
  const torch::Tensor z = head->forward(backbone->forward_features(x));
  return z / z.norm(2, 1, true).clamp_min(1e-12);
}

namespace {

// [q.k, q.n, (q.h, q.h')] / tau from the queue similarities q.n ([B, K]).
torch::Tensor LogitsFromSimilarity(const torch::Tensor& q, const torch::Tensor& k,
                                   const torch::Tensor& queue, const torch::Tensor& similarity,
                                   double temperature, const MixingDraws* draws,
                                   const MixingOptions* mixing) {
  std::vector<torch::Tensor> parts = {(q * k).sum(1, /*keepdim=*/true) / temperature,
                                      similarity / temperature};
  if (draws != nullptr) {
    parts.push_back(SyntheticLogits(q, queue, similarity, *draws, temperature, *mixing));
  }
  return at::cat(parts, 1);
}

}  // namespace

ContrastiveLoss ComputeContrastiveLoss(const torch::Tensor& q, const torch::Tensor& k,
                                       const torch::Tensor& queue, double temperature,
                                       const MixingOptions* mixing,
                                       c10::optional<at::Generator> generator,
                                       int64_t head_tile_rows) {
  ContrastiveLoss out;
  if (head_tile_rows > 0 && (mixing == nullptr || !mixing->gradient_through_synthetic)) {
    if (mixing != nullptr) {
      out.draws = DrawMixingBeforeSelection(q.size(0), queue.size(0), *mixing, generator,
                                            q.device());
    }
    FusedInfoNce fused = ComputeFusedInfoNce(q, k, queue, temperature, mixing,
                                             out.draws ? &*out.draws : nullptr, head_tile_rows);
    out.loss = std::move(fused.loss);
    out.positive_is_top = std::move(fused.positive_is_top);
    out.positive_is_top_real = std::move(fused.positive_is_top_real);
    return out;
  }
  const torch::Tensor similarity = at::matmul(q, queue.t());  // [B, K], q.n
  if (mixing != nullptr) out.draws = DrawMixing(similarity, *mixing, generator);
  out.logits = LogitsFromSimilarity(q, k, queue, similarity, temperature,
                                    out.draws ? &*out.draws : nullptr, mixing);
  const torch::Tensor target =
      at::zeros({out.logits.size(0)}, out.logits.options().dtype(at::kLong));
  out.loss = at::cross_entropy_loss(out.logits, target);
  const torch::Tensor detached = out.logits.detach();
  out.positive_is_top = detached.argmax(1).eq(0);
  out.positive_is_top_real = detached.slice(1, 0, 1 + queue.size(0)).argmax(1).eq(0);
  return out;
}

torch::Tensor ContrastiveLogits(const torch::Tensor& q, const torch::Tensor& k,
                                const torch::Tensor& queue, double temperature,
                                const MixingDraws* draws, const MixingOptions* mixing) {
  TORCH_CHECK(draws == nullptr || mixing != nullptr, "moco: draws without mixing options");
  torch::NoGradGuard no_grad;
  const torch::Tensor q_values = q.detach();
  return LogitsFromSimilarity(q_values, k.detach(), queue, at::matmul(q_values, queue.t()),
                              temperature, draws, mixing);
}

MocoImpl::MocoImpl(Encoder query_encoder, Encoder key_encoder, const MocoOptions& options)
    : encoder_q(register_module("encoder_q", query_encoder)),
      encoder_k(register_module("encoder_k", key_encoder)),
      options_(options) {
  TORCH_CHECK(options.queue_size > 0, "moco: queue_size K = ", options.queue_size, " must be > 0");
  const auto params_q = encoder_q->parameters();
  const auto params_k = encoder_k->parameters();
  TORCH_CHECK(params_q.size() == params_k.size(), "moco: key and query encoders differ");
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params_q.size(); ++i) {
    TORCH_CHECK(params_q[i].sizes() == params_k[i].sizes(), "moco: key and query encoders differ");
    params_k[i].copy_(params_q[i]);
    params_k[i].set_requires_grad(false);
  }
  const int64_t dim = encoder_q->head->options().out_dim;
  // Random unit keys until the first K real keys have replaced them (as MoCo).
  const torch::Tensor initial = at::randn({options.queue_size, dim});
  queue = register_buffer("queue", initial / initial.norm(2, 1, true));
  queue_ptr = register_buffer("queue_ptr", at::zeros({1}, at::kLong));
  queue_labels = register_buffer("queue_labels", at::full({options.queue_size}, -1, at::kLong));
}

void MocoImpl::MomentumUpdate() {
  torch::NoGradGuard no_grad;
  const auto params_q = encoder_q->parameters();
  const auto params_k = encoder_k->parameters();
  const double m = options_.momentum;
  for (size_t i = 0; i < params_q.size(); ++i) {
    params_k[i].mul_(m).add_(params_q[i].detach(), 1.0 - m);
  }
}

MocoImpl::Output MocoImpl::forward(const torch::Tensor& im_q, const torch::Tensor& im_k,
                                   const MixingOptions* mixing,
                                   c10::optional<at::Generator> generator) {
  TORCH_CHECK(im_q.sizes() == im_k.sizes(), "moco: the two views differ in shape: ", im_q.sizes(),
              " vs ", im_k.sizes());
  Output out;
  TORCH_CHECK(im_q.size(0) % options_.bn_groups == 0, "moco: batch ", im_q.size(0),
              " is not a multiple of bn_groups = ", options_.bn_groups);
  out.q = EncodeInGroups(*encoder_q, im_q);
  out.k = Keys(im_k);
  ContrastiveLoss loss = ComputeContrastiveLoss(out.q, out.k, queue, options_.temperature, mixing,
                                                generator, options_.loss_head_tile_rows);
  out.loss = std::move(loss.loss);
  out.positive_is_top = std::move(loss.positive_is_top);
  out.positive_is_top_real = std::move(loss.positive_is_top_real);
  out.logits = std::move(loss.logits);
  out.draws = std::move(loss.draws);
  return out;
}

torch::Tensor MocoImpl::Keys(const torch::Tensor& im_k) {
  torch::NoGradGuard no_grad;
  if (communicator_ == nullptr || communicator_->world_size() == 1 || !options_.shuffle_bn) {
    return ShuffledKeysInGroups(im_k);
  }
  // MoCo's batch shuffle: each process encodes a random slice of the global batch, so the BN
  // statistics of a key's sub-batch are not those of its query's.
  const int world = communicator_->world_size();
  const int rank = communicator_->rank();
  const torch::Tensor all = communicator_->AllGather(im_k);
  // Drawn by the CPU generator on every device: it is the one the checkpoint saves.
  torch::Tensor permutation = at::randperm(all.size(0), at::kLong).to(all.device());
  communicator_->Broadcast(permutation, /*root=*/0);
  const torch::Tensor mine = permutation.view({world, -1})[rank];
  const torch::Tensor keys_all =
      communicator_->AllGather(ShuffledKeysInGroups(all.index_select(0, mine)));
  const torch::Tensor unshuffle = at::argsort(permutation).view({world, -1})[rank];
  return keys_all.index_select(0, unshuffle);
}

torch::Tensor MocoImpl::Encode(EncoderImpl& encoder, const torch::Tensor& images) {
  const torch::Tensor input =
      options_.channels_last ? images.contiguous(at::MemoryFormat::ChannelsLast) : images;
  const Bf16AutocastGuard autocast(images.device().type(), options_.autocast_bf16);
  return encoder.forward(input).to(at::kFloat);
}

torch::Tensor MocoImpl::EncodeInGroups(EncoderImpl& encoder, const torch::Tensor& images) {
  // One pass: each BN layer normalises the interleaved groups separately (split_batch_norm.h).
  const models::ScopedBatchNormGroups groups(encoder, options_.bn_groups);
  return Encode(encoder, images);
}

torch::Tensor MocoImpl::ShuffledKeysInGroups(const torch::Tensor& im_k) {
  if (options_.bn_groups <= 1) return Encode(*encoder_k, im_k);
  const torch::Tensor permutation = at::randperm(im_k.size(0), at::kLong).to(im_k.device());
  return EncodeInGroups(*encoder_k, im_k.index_select(0, permutation))
      .index_select(0, at::argsort(permutation));
}

void MocoImpl::Enqueue(const torch::Tensor& local_keys, const torch::Tensor& local_labels) {
  torch::NoGradGuard no_grad;
  const torch::Tensor keys = communicator_ ? communicator_->AllGather(local_keys) : local_keys;
  // On the queue's device before the gather: NCCL gathers CUDA tensors only.
  const torch::Tensor on_device = local_labels.to(queue_labels.device(), at::kLong);
  const torch::Tensor labels = communicator_ ? communicator_->AllGather(on_device) : on_device;
  const int64_t batch = keys.size(0);
  const int64_t size = queue.size(0);
  TORCH_CHECK(batch <= size, "moco: batch ", batch, " exceeds queue size K = ", size);
  const int64_t ptr = queue_ptr.item<int64_t>();
  const torch::Tensor slots = (at::arange(batch, queue_ptr.options()) + ptr).remainder(size);
  queue.index_copy_(0, slots, keys.detach().to(queue.dtype()));
  queue_labels.index_copy_(0, slots, labels);
  queue_ptr.fill_((ptr + batch) % size);
}

}  // namespace mochi::ssl
