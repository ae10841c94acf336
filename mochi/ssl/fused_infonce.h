// The InfoNCE loss head of a MoCo / MoCHi step without its [B, 1 + K + s + s'] logits.
//
// The queue is read in tiles of T rows, the way memory-efficient attention reads keys. Per tile,
// S = q n^T [B, T] and each row updates
//   m  running max of its logits                    Z  running sum of exp(l - m)
//   A  running sum of exp(l - m) n  (the gradient)  the N largest q.n so far (MoCHi's selection)
// (online log-sum-exp: a new max rescales Z and A by exp(m_old - m_new)). After the last tile the
// s + s' synthetic logits come from the selected negatives (the fast form of
// hard_negative_mixing.h) and join Z and A with the positive q.k / tau. The loss is
// mean_b(LSE_b - l_b0) and, as it is a scalar whose only differentiable input is q,
//   dL/dq_b = (1/B) [ sum_c p_bc dl_bc/dq_b - k_b / tau ],  p = softmax(l),
// is accumulated in the same pass (A is its queue part); backward only scales it. So the head does
// two queue products per step, as with materialised logits, and its memory is O(B (T + N + s)).
#ifndef MOCHI_SSL_FUSED_INFONCE_H_
#define MOCHI_SSL_FUSED_INFONCE_H_

#include <cstdint>

#include "ATen/core/Tensor.h"
#include "mochi/ssl/hard_negative_mixing.h"

namespace mochi::ssl {

struct FusedInfoNce {
  at::Tensor loss;  // scalar; its gradient flows to q (when q requires one)
  // bool [B]: the positive logit is the largest of all (argmax of the logits is 0): the proxy
  // accuracy, and the same among the 1 + K real logits.
  at::Tensor positive_is_top;
  at::Tensor positive_is_top_real;
};

// q [B, D] (carries the gradient), k [B, D] and queue [K, D] (values only), any device, float or
// double. `mixing` null = MoCo-v2. Otherwise `draws` holds DrawMixingBeforeSelection's draws; for
// MixingSelection::kHardest the pass fills draws->hardest (the N largest q.n of each row, in
// increasing index order, as DrawMixing). Synthetic points are constants
// (mixing->gradient_through_synthetic is not supported). `tile_rows` >= 1 queue rows per tile.
// Fails on NaN similarities when mixing.
FusedInfoNce ComputeFusedInfoNce(const at::Tensor& q, const at::Tensor& k, const at::Tensor& queue,
                                 double temperature, const MixingOptions* mixing,
                                 MixingDraws* draws, int64_t tile_rows);

}  // namespace mochi::ssl

#endif  // MOCHI_SSL_FUSED_INFONCE_H_
