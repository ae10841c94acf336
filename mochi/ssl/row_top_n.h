// Row-wise top-N selection as a set: the MoCHi step needs, per query, the N hardest queue
// negatives, but draws from them uniformly, so their order does not matter.
#ifndef MOCHI_SSL_ROW_TOP_N_H_
#define MOCHI_SSL_ROW_TOP_N_H_

#include <cstdint>

#include "ATen/core/Tensor.h"

namespace mochi::ssl {

// Column indices of the n largest values of each row of `values` ([B, K]): int64 [B, n], in no
// set order. Among values equal to the n-th largest, which ones are taken is unspecified but
// deterministic. Only the values are read (no gradient). Fails on NaN.
//
// On the CPU with float input, a sample of each row estimates a threshold a little below the
// n-th largest value, one pass keeps the candidates above it and only they are partially sorted;
// a row whose sample misjudged falls back to partially sorting the whole row. At [128, 4096] on
// 2 threads: 1.4 ms (n = 256) and 2.5 ms (n = 1024) against at::topk(sorted=false)'s 2.7 and
// 3.0 ms. Other devices and dtypes use at::topk.
at::Tensor RowTopN(const at::Tensor& values, int64_t n);

}  // namespace mochi::ssl

#endif  // MOCHI_SSL_ROW_TOP_N_H_
