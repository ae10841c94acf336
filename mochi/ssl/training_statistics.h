// Training statistics behind the paper's figures (the figures of the paper):
// proxy-task accuracy with and without the synthetic negatives, the hardness profile of the
// negatives, the class-oracle false-negative rates, and Wang & Isola's alignment / uniformity.
//
// Pure functions on tensors. They read values only (inputs are detached and copied to CPU
// double), never modify their arguments, and are meant to run on a sample of queries once per
// epoch or on every step's logits.
#ifndef MOCHI_SSL_TRAINING_STATISTICS_H_
#define MOCHI_SSL_TRAINING_STATISTICS_H_

#include <cstdint>
#include <vector>

#include "ATen/core/Tensor.h"
#include "mochi/ssl/hard_negative_mixing.h"

namespace mochi::ssl {

struct ContrastiveStatistics {
  // Fraction of queries whose column 0 (the positive) is strictly greater than every other
  // column, synthetic negatives included. Ties count as failures.
  double proxy_accuracy = 0;
  // Same over the real columns [0, 1 + K) only (the synthetic negatives discarded).
  double proxy_accuracy_without_synthetic = 0;
  // Length min(num_top_probabilities, K). Softmax over the real columns [pos, n_1 .. n_K] (the
  // synthetic columns excluded); per query the K negative probabilities sorted in decreasing
  // order and truncated; then averaged over queries (element r = mean over queries of the
  // query's (r+1)-th highest negative probability).
  std::vector<double> top_probabilities;
  // Among the k = min(top_k, K) hardest queue negatives of each query, the fraction whose queue
  // label equals the query's label. Queue entries labelled -1 (unknown, e.g. the initial random
  // keys) and queries labelled -1 are left out of numerator and denominator. -1 if nothing is
  // left (or no labels were given).
  double false_negative_share_topk = -1;
  // Fraction of the synthetic points built from a false negative: a type-1 point
  // h = normalize(a n_i + (1-a) n_j) is one if n_i or n_j has the query's label, a type-2 point
  // h' = normalize(b q + (1-b) n_j) if n_j has it. Only points whose every constituent negative
  // has a known label (!= -1), of queries with a known label, are counted. -1 if there was no
  // mixing (draws null or s + s' = 0), no labels were given, or no point could be counted.
  double synthetic_from_false_negative_share = -1;
};

// Statistics of one batch of contrastive logits (MocoImpl::Output).
//   logits:       [B, 1 + K + s + s'], already divided by tau, column 0 = positive, columns
//                 1..K = queue negatives (queue order), then the s pair-mixed and the s'
//                 query-mixed synthetic negatives. Without draws it must be exactly [B, 1 + K].
//   queue_size:   K >= 1.
//   query_labels: integer [B] class labels (-1 = unknown), or an undefined tensor.
//   queue_labels: integer [K] labels of the queue entries (MocoImpl::queue_labels), or undefined.
//                 If either label tensor is undefined both false-negative shares are -1.
//   draws:        the step's MixingDraws (may be null = no mixing); `hardest` holds queue
//                 indices, the pair/partner tensors positions into `hardest`.
//   top_k:        >= 1; clamped to K.
//   num_top_probabilities: >= 1; the profile has min(num_top_probabilities, K) entries.
//
// The hardest-k negatives of the false-negative statistic are ranked by the logits' queue
// columns (q.n / tau = logits[:, 1:1+K]; the positive tau does not change the order), not by
// draws->hardest, so the statistic is the same with and without mixing and for any N.
// Input errors raise c10::Error (TORCH_CHECK) with a message naming the offending argument.
ContrastiveStatistics ComputeContrastiveStatistics(const at::Tensor& logits, int64_t queue_size,
                                                   const at::Tensor& query_labels,
                                                   const at::Tensor& queue_labels,
                                                   const MixingDraws* draws, int64_t top_k,
                                                   int64_t num_top_probabilities = 1024);

// Wang & Isola (2020) alignment: mean over the positive pairs (rows i of x and y, both [N, D],
// N >= 1) of ||x_i - y_i||^alpha, alpha > 0. Rows are L2-normalised first (they must be
// non-zero), so values lie in [0, 2^alpha].
double Alignment(const at::Tensor& x, const at::Tensor& y, double alpha = 2);

// Wang & Isola (2020) uniformity: log of the mean over the N(N-1)/2 pairs i < j (torch pdist
// semantics) of exp(-t ||x_i - x_j||^2), x [N, D] with N >= 2, t > 0. Rows are L2-normalised
// first (they must be non-zero), so values lie in [-4t, 0]. Computed as
// logsumexp(-t d^2) - log(N(N-1)/2) over row blocks, so memory stays O(block * N) and
// exp() never underflows to log(0).
double Uniformity(const at::Tensor& x, double t = 2);

}  // namespace mochi::ssl

#endif  // MOCHI_SSL_TRAINING_STATISTICS_H_
