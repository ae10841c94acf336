// MoCo-v2 (He et al. 2020, Chen et al. 2020) with optional hard negative mixing (MoCHi).
//
// Query encoder f_q (backbone + MLP head), momentum key encoder f_k, and a queue of K keys:
//   logits = [q.k, q.n_1 .. q.n_K, (q.h_1 .. q.h_s, q.h'_1 .. q.h'_s')] / tau,  target 0,
//   loss = cross-entropy (InfoNCE). After each step the batch's keys replace the oldest K entries.
#ifndef MOCHI_SSL_MOCO_H_
#define MOCHI_SSL_MOCO_H_

#include <cstdint>
#include <optional>

#include "mochi/dist/communicator.h"
#include "mochi/models/projection_head.h"
#include "mochi/models/resnet.h"
#include "mochi/ssl/hard_negative_mixing.h"
#include "torch/nn/module.h"
#include "torch/nn/pimpl.h"

namespace mochi::ssl {

// f(x) = normalize(head(backbone(x))).
class EncoderImpl : public torch::nn::Module {
 public:
  EncoderImpl(models::ResNet backbone, models::ProjectionHead head);
  // x: [B, C, H, W] -> [B, D], L2-normalised.
  torch::Tensor forward(const torch::Tensor& x);

  models::ResNet backbone{nullptr};
  models::ProjectionHead head{nullptr};
};
TORCH_MODULE(Encoder);

struct MocoOptions {
  int64_t queue_size = 65536;  // K
  double momentum = 0.999;     // m
  double temperature = 0.2;    // tau
  // Shuffle the key encoder's batch across processes so BN statistics cannot leak the positive
  // (MoCo's batch shuffle); a no-op with one process.
  bool shuffle_bn = true;
  // BN groups per process: queries in G interleaved groups (sample b in group b mod G), keys in G
  // groups of the shuffled batch (MoCo's per-GPU BN and batch shuffle, simulated within one
  // process, one encoder pass: models::SplitBatchNorm2d). 1 = off.
  int64_t bn_groups = 1;
  // Queue rows per tile of the streamed loss head (ComputeContrastiveLoss); 0 = materialised
  // logits. Synthetic points with a gradient always use the materialised head.
  int64_t loss_head_tile_rows = 8192;
  // Encoders under bf16 autocast, embeddings cast back to float32 (run.autocast_bf16).
  bool autocast_bf16 = false;
  // Images to channels_last before the encoders (run.channels_last; BuildMoco converts the
  // convolution weights).
  bool channels_last = false;
};

// The InfoNCE head of a MoCo step, from embeddings: logits [q.k, q.n_1 .. q.n_K,
// (q.h_1 .. q.h_s, q.h'_1 .. q.h'_s')] / tau against target 0. q [B, D] carries the gradient;
// k [B, D] and queue [K, D] do not. `mixing` null = plain MoCo-v2.
//
// `head_tile_rows` > 0 streams the queue in tiles of that many rows (fused_infonce.h: the logits
// are never built, `logits` stays undefined); 0 materialises the logits and uses autograd (the
// reference, and the only form that lets gradients flow through synthetic points). Both take the
// same draws from `generator` and give the same values and gradients up to rounding.
struct ContrastiveLoss {
  torch::Tensor loss;                 // scalar
  torch::Tensor positive_is_top;      // bool [B]: argmax of the logits is the positive
  torch::Tensor positive_is_top_real; // bool [B]: the same among the 1 + K real logits
  torch::Tensor logits;               // [B, 1 + K + s + s'], materialised head only
  std::optional<MixingDraws> draws;   // set when mixing ran
};
ContrastiveLoss ComputeContrastiveLoss(const torch::Tensor& q, const torch::Tensor& k,
                                       const torch::Tensor& queue, double temperature,
                                       const MixingOptions* mixing,
                                       c10::optional<at::Generator> generator,
                                       int64_t head_tile_rows = 0);

// The logits ComputeContrastiveLoss scores, for given draws (null = MoCo-v2), without gradient:
// for statistics on a few rows, and tests. `draws` rows must match q's.
torch::Tensor ContrastiveLogits(const torch::Tensor& q, const torch::Tensor& k,
                                const torch::Tensor& queue, double temperature,
                                const MixingDraws* draws, const MixingOptions* mixing);

class MocoImpl : public torch::nn::Module {
 public:
  // `key_encoder` must have the query encoder's architecture; its weights are overwritten with
  // the query encoder's and frozen (it only moves by MomentumUpdate()).
  MocoImpl(Encoder query_encoder, Encoder key_encoder, const MocoOptions& options);

  struct Output {
    torch::Tensor loss;                 // scalar
    torch::Tensor positive_is_top;      // bool [B] (ContrastiveLoss)
    torch::Tensor positive_is_top_real; // bool [B]
    torch::Tensor logits;               // [B, 1 + K + s + s'], only with loss_head_tile_rows = 0
    torch::Tensor q;                    // [B, D]
    torch::Tensor k;                   // [B, D], no gradient
    std::optional<MixingDraws> draws;  // set when mixing ran
  };

  // One MoCo step's forward: keys, logits, loss. Call MomentumUpdate() before it (MoCo updates
  // f_k before computing keys) and Enqueue(out.k, labels) after the optimizer step, so a failed
  // step leaves the queue intact. `mixing` null = plain MoCo-v2.
  Output forward(const torch::Tensor& im_q, const torch::Tensor& im_k, const MixingOptions* mixing,
                 c10::optional<at::Generator> generator);

  // theta_k <- m * theta_k + (1 - m) * theta_q.
  void MomentumUpdate();

  // Writes `keys` [B, D] (from every process, in rank order) at the queue pointer (wrapping) and
  // advances it; `labels` [B] are kept beside them for the class-oracle statistics only.
  void Enqueue(const torch::Tensor& keys, const torch::Tensor& labels);

  const MocoOptions& options() const { return options_; }

  // Multi-process runs: keys are computed with shuffled BN and gathered from every process
  // before enqueueing. Null (the default) = one process. Not owned.
  void set_communicator(dist::Communicator* communicator) { communicator_ = communicator; }

  Encoder encoder_q{nullptr};
  Encoder encoder_k{nullptr};
  torch::Tensor queue;         // buffer [K, D], rows L2-normalised
  torch::Tensor queue_ptr;     // buffer int64 [1]
  torch::Tensor queue_labels;  // buffer int64 [K]

 private:
  torch::Tensor Keys(const torch::Tensor& im_k);
  // One encoder pass in the configured precision and memory format; float32 embeddings.
  torch::Tensor Encode(EncoderImpl& encoder, const torch::Tensor& images);
  // `encoder` with BN statistics per group of options_.bn_groups interleaved groups (sample b in
  // group b mod G), in one pass.
  torch::Tensor EncodeInGroups(EncoderImpl& encoder, const torch::Tensor& images);
  // Keys of this process's images, encoded in groups of a random permutation, in input order.
  torch::Tensor ShuffledKeysInGroups(const torch::Tensor& im_k);

  MocoOptions options_;
  dist::Communicator* communicator_ = nullptr;
};
TORCH_MODULE(Moco);

}  // namespace mochi::ssl

#endif  // MOCHI_SSL_MOCO_H_
