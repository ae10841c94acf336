// Hard negative mixing (MoCHi, Kalantidis et al. 2020, sections 2.3-2.5 of the paper).
//
// For each query q (L2-normalised), take the N queue negatives with the highest q.n, then build
//   s  synthetic negatives h  = normalize(a*n_i + (1-a)*n_j),  a ~ U(0, 1),   n_i, n_j in top-N
//   s' synthetic negatives h' = normalize(b*q  + (1-b)*n_j),  b ~ U(0, beta_max), n_j in top-N
// and append their logits q.h / tau, q.h' / tau after the queue logits. Pairs are drawn
// independently and uniformly with replacement (s may exceed N; i == j is allowed).
//
// Two implementations with identical values and gradients w.r.t. q:
// - the vector form builds h and h' ([B, s, D]); it is the reference and the only one that can
//   let gradients flow through the synthetic points;
// - the fast form (default) never builds them: with unit vectors
//     q.h  = (a q.n_i + (1-a) q.n_j) / sqrt(a^2 + (1-a)^2 + 2a(1-a) n_i.n_j)
//     q.h' = (b + (1-b) q.n_j)        / sqrt(b^2 + (1-b)^2 + 2b(1-b) q.n_j)
//   where q.n are the queue logits already computed and n_i.n_j is one dot product per pair.
//   Writing each logit as (detached coefficients) x (logits that carry q's gradient) gives the
//   gradient h/tau, exactly that of a detached synthetic vector.
#ifndef MOCHI_SSL_HARD_NEGATIVE_MIXING_H_
#define MOCHI_SSL_HARD_NEGATIVE_MIXING_H_

#include <cstdint>
#include "c10/util/Optional.h"

#include "ATen/core/Generator.h"
#include "ATen/core/Tensor.h"
#include "c10/core/Device.h"

namespace mochi::ssl {

// Which N queue negatives are mixed.
enum class MixingSelection {
  kHardest,  // the N largest q.n: MoCHi
  kRandom,   // N distinct negatives drawn uniformly per query: the ablation without hardness
};

struct MixingOptions {
  int64_t num_hardest = 0;      // N
  int64_t num_mixed_pairs = 0;  // s
  int64_t num_query_mixed = 0;  // s'
  double query_mix_max = 0.5;   // b ~ U(0, query_mix_max)
  // false: synthetic points are constants (the paper's implementations); uses the fast form.
  bool gradient_through_synthetic = false;
  MixingSelection selection = MixingSelection::kHardest;
};

// The random draws of one step; exposed so tests and statistics can recompute every value.
struct MixingDraws {
  // int64 [B, N] queue indices of the selected negatives: the N largest q.n in increasing index
  // order (kHardest; a canonical order, so the pairs drawn from it do not depend on how the
  // selection was computed), or N distinct uniform draws in draw order (kRandom).
  at::Tensor hardest;
  at::Tensor pair_first;     // int64 [B, s] positions in `hardest` (n_i)
  at::Tensor pair_second;    // int64 [B, s] positions in `hardest` (n_j)
  at::Tensor pair_weight;    // float [B, s] a
  at::Tensor query_partner;  // int64 [B, s'] positions in `hardest` (n_j)
  at::Tensor query_weight;   // float [B, s'] b
};

// Draws the selection of N negatives and the mixing coefficients. `queue_similarity` is q.n for
// every queue entry ([B, K]; only its values are used). Fails on NaN similarities with either
// selection. Both selections take the same single number from `generator`, and the draws other
// than `hardest` do not depend on the selection.
MixingDraws DrawMixing(const at::Tensor& queue_similarity, const MixingOptions& options,
                       c10::optional<at::Generator> generator);

// DrawMixing without the hardest selection, for a head that selects while it streams the queue
// (fused_infonce.h): takes the same number from `generator` and gives the same draws, `hardest`
// included for kRandom; for kHardest `hardest` is left undefined.
MixingDraws DrawMixingBeforeSelection(int64_t batch, int64_t queue_size,
                                      const MixingOptions& options,
                                      c10::optional<at::Generator> generator, at::Device device);

// The random part of DrawMixing (all but `hardest`): positions in a top-N set and the weights
// a and b, placed on `device`. Takes one 64-bit number from `generator` (a CPU generator; null =
// the default one) and derives every value from it with a counter-based hash, so the draws are
// computed in parallel, identical for any thread count and device, and resume exactly.
MixingDraws DrawMixingWeights(int64_t batch, const MixingOptions& options,
                              c10::optional<at::Generator> generator, at::Device device);

// The detached factors of the fast form. For pair p = (i, j) and query partner j':
//   pair logit  = w_i q.n_i + w_j q.n_j,   w_i = a / (tau ||a n_i + (1-a) n_j||), w_j likewise
//   query logit = w_j' q.n_j' + w_q q.q,   w_j' = (1-b) / (tau ||b q + (1-b) n_j'||), w_q likewise
// Only the q.n (queue logits) and q.q factors carry q's gradient.
struct MixingCoefficients {
  at::Tensor queue_index;  // int64 [B, 2s + s']: n_i (s), n_j (s), n_j' (s')
  at::Tensor weight;       // [B, 2s + s']: w_i, w_j, w_j'
  at::Tensor self_weight;  // [B, s']: w_q
};
// `partner_similarity` is q.n_j' of the query-mixing partners ([B, s'], values only).
MixingCoefficients ComputeMixingCoefficients(const at::Tensor& queue,
                                             const at::Tensor& partner_similarity,
                                             const MixingDraws& draws, double temperature);

// The synthetic logits [B, s + s'] from the coefficients and the q.n values at c.queue_index
// (`indexed_similarity`, [B, 2s + s']): w_i q.n_i + w_j q.n_j, then w_j' q.n_j' + w_q q.q.
at::Tensor CombineSyntheticLogits(const at::Tensor& indexed_similarity, const at::Tensor& weight,
                                  const at::Tensor& self_weight, const at::Tensor& q,
                                  int64_t num_pairs);

// Synthetic logits q.h / tau for the s + s' synthetic negatives: [B, s + s'] (pair-mixed first).
//   q: [B, D] L2-normalised query embeddings (carries the gradient).
//   queue: [K, D] L2-normalised negatives (no gradient).
//   queue_similarity: q @ queue^T, [B, K], computed from the same q (so it carries the gradient).
at::Tensor SyntheticLogits(const at::Tensor& q, const at::Tensor& queue,
                           const at::Tensor& queue_similarity, const MixingDraws& draws,
                           double temperature, const MixingOptions& options);

// The reference vector form: builds h [B, s, D] and h' [B, s', D] explicitly.
struct SyntheticNegatives {
  at::Tensor pair_mixed;   // [B, s, D], unit norm
  at::Tensor query_mixed;  // [B, s', D], unit norm
};
SyntheticNegatives BuildSyntheticNegatives(const at::Tensor& q, const at::Tensor& queue,
                                           const MixingDraws& draws, const MixingOptions& options);
at::Tensor SyntheticLogitsFromVectors(const at::Tensor& q, const SyntheticNegatives& negatives,
                                      double temperature);

}  // namespace mochi::ssl

#endif  // MOCHI_SSL_HARD_NEGATIVE_MIXING_H_
