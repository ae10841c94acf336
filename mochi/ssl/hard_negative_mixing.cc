#include "mochi/ssl/hard_negative_mixing.h"

#include "ATen/ATen.h"
#include "ATen/Parallel.h"
#include "c10/util/Exception.h"

namespace mochi::ssl {
namespace {

// Row-wise gather of `positions` (into `hardest`) -> queue indices, same shape as `positions`.
at::Tensor QueueIndices(const at::Tensor& hardest, const at::Tensor& positions) {
  return hardest.gather(1, positions);
}

// n_i . n_j for every pair, read straight from the queue rows: [B, s] without building [B, s, D].
at::Tensor PairDots(const at::Tensor& queue, const at::Tensor& first, const at::Tensor& second) {
  if (!queue.device().is_cpu()) {
    // Accelerators: a gather + row-wise dot is fast enough there.
    const at::Tensor rows = queue.detach();
    return (rows.index_select(0, first.reshape(-1)) * rows.index_select(0, second.reshape(-1)))
        .sum(-1)
        .reshape(first.sizes());
  }
  const at::Tensor rows = queue.detach().to(at::kFloat).contiguous();
  const at::Tensor a = first.contiguous();
  const at::Tensor b = second.contiguous();
  at::Tensor out = at::empty(first.sizes(), rows.options());
  const int64_t dim = rows.size(1);
  const float* base = rows.data_ptr<float>();
  const int64_t* ia = a.data_ptr<int64_t>();
  const int64_t* ib = b.data_ptr<int64_t>();
  float* result = out.data_ptr<float>();
  at::parallel_for(0, a.numel(), 1024, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const float* x = base + ia[p] * dim;
      const float* y = base + ib[p] * dim;
      // Eight independent partial sums: a single running sum is one dependent add chain (the
      // compiler may not reorder float adds), which made this loop most of the mixing's cost.
      float partial[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
      int64_t d = 0;
      for (; d + 8 <= dim; d += 8) {
        for (int lane = 0; lane < 8; ++lane) partial[lane] += x[d + lane] * y[d + lane];
      }
      float dot = 0.f;
      for (; d < dim; ++d) dot += x[d] * y[d];
      for (int lane = 0; lane < 8; ++lane) dot += partial[lane];
      result[p] = dot;
    }
  });
  return out;
}

void CheckInputs(const at::Tensor& q, const at::Tensor& queue, const at::Tensor& similarity) {
  TORCH_CHECK(q.dim() == 2 && queue.dim() == 2 && q.size(1) == queue.size(1),
              "mixing: q [B, D] and queue [K, D] expected, got ", q.sizes(), " and ", queue.sizes());
  TORCH_CHECK(similarity.dim() == 2 && similarity.size(0) == q.size(0) &&
                  similarity.size(1) == queue.size(0),
              "mixing: queue_similarity must be [B, K] = [", q.size(0), ", ", queue.size(0),
              "], got ", similarity.sizes());
}

}  // namespace

MixingDraws DrawMixing(const at::Tensor& queue_similarity, const MixingOptions& options,
                       c10::optional<at::Generator> generator) {
  const int64_t batch = queue_similarity.size(0);
  const int64_t n = options.num_hardest;
  TORCH_CHECK(n >= 1 && n <= queue_similarity.size(1), "mixing: N = ", n,
              " must be in [1, K = ", queue_similarity.size(1), "]");
  TORCH_CHECK(options.num_mixed_pairs == 0 || n >= 2, "mixing: s > 0 needs N >= 2");
  const auto long_options = queue_similarity.options().dtype(at::kLong);
  const auto float_options = queue_similarity.options().dtype(at::kFloat);
  MixingDraws draws;
  // Unsorted: pairs are drawn uniformly from the set, so its order is irrelevant, and sorting
  // doubled the cost of topk at N = 1024.
  draws.hardest = std::get<1>(at::topk(queue_similarity.detach(), n, /*dim=*/1, /*largest=*/true,
                                       /*sorted=*/false));
  const int64_t s = options.num_mixed_pairs;
  const int64_t s_query = options.num_query_mixed;
  draws.pair_first = at::randint(n, {batch, s}, generator, long_options);
  draws.pair_second = at::randint(n, {batch, s}, generator, long_options);
  draws.pair_weight = at::rand({batch, s}, generator, float_options);
  draws.query_partner = at::randint(n, {batch, s_query}, generator, long_options);
  draws.query_weight = at::rand({batch, s_query}, generator, float_options) * options.query_mix_max;
  return draws;
}

at::Tensor SyntheticLogits(const at::Tensor& q, const at::Tensor& queue,
                           const at::Tensor& queue_similarity, const MixingDraws& draws,
                           double temperature, const MixingOptions& options) {
  CheckInputs(q, queue, queue_similarity);
  if (options.gradient_through_synthetic) {
    return SyntheticLogitsFromVectors(q, BuildSyntheticNegatives(q, queue, draws, options),
                                      temperature);
  }
  const at::Tensor first = QueueIndices(draws.hardest, draws.pair_first);
  const at::Tensor second = QueueIndices(draws.hardest, draws.pair_second);
  const at::Tensor partner = QueueIndices(draws.hardest, draws.query_partner);
  // One gather for q.n_i, q.n_j and q.n_j': each gather's backward materialises a dense [B, K]
  // zero + scatter (and autograd then sums them), which dominated this function at large K.
  const int64_t s = first.size(1);
  const at::Tensor gathered = queue_similarity.gather(1, at::cat({first, second, partner}, 1));
  // Type 1: q.h = (a q.n_i + (1-a) q.n_j) / ||a n_i + (1-a) n_j||.
  const at::Tensor a = draws.pair_weight;
  const at::Tensor pair_norm =
      (a * a + (1 - a) * (1 - a) + 2 * a * (1 - a) * PairDots(queue, first, second))
          .clamp_min(1e-12)
          .sqrt();
  const at::Tensor pair_logits = (a / pair_norm) * gathered.narrow(1, 0, s) +
                                 ((1 - a) / pair_norm) * gathered.narrow(1, s, s);
  // Type 2: q.h' = (b q.q + (1-b) q.n_j) / ||b q + (1-b) n_j||, with q inside h' a constant.
  const at::Tensor b = draws.query_weight;
  const at::Tensor q_dot_partner = gathered.narrow(1, 2 * s, partner.size(1));
  const at::Tensor query_norm =
      (b * b + (1 - b) * (1 - b) + 2 * b * (1 - b) * q_dot_partner.detach()).clamp_min(1e-12).sqrt();
  // q . stop_grad(q): value ||q||^2 = 1, gradient stop_grad(q).
  const at::Tensor q_dot_self = (q * q.detach()).sum(1, /*keepdim=*/true);
  const at::Tensor query_logits =
      (b / query_norm) * q_dot_self + ((1 - b) / query_norm) * q_dot_partner;
  return at::cat({pair_logits, query_logits}, 1) / temperature;
}

SyntheticNegatives BuildSyntheticNegatives(const at::Tensor& q, const at::Tensor& queue,
                                           const MixingDraws& draws, const MixingOptions& options) {
  const int64_t batch = q.size(0);
  const int64_t dim = q.size(1);
  auto rows = [&](const at::Tensor& positions) {
    return queue.index_select(0, QueueIndices(draws.hardest, positions).reshape(-1))
        .reshape({batch, positions.size(1), dim});
  };
  const at::Tensor a = draws.pair_weight.unsqueeze(2);
  at::Tensor h = a * rows(draws.pair_first) + (1 - a) * rows(draws.pair_second);
  const at::Tensor b = draws.query_weight.unsqueeze(2);
  const at::Tensor query = options.gradient_through_synthetic ? q : q.detach();
  at::Tensor h_query = b * query.unsqueeze(1) + (1 - b) * rows(draws.query_partner);
  h = h / h.norm(2, -1, true).clamp_min(1e-12);
  h_query = h_query / h_query.norm(2, -1, true).clamp_min(1e-12);
  if (!options.gradient_through_synthetic) {
    h = h.detach();
    h_query = h_query.detach();
  }
  return {h, h_query};
}

at::Tensor SyntheticLogitsFromVectors(const at::Tensor& q, const SyntheticNegatives& negatives,
                                      double temperature) {
  const at::Tensor all = at::cat({negatives.pair_mixed, negatives.query_mixed}, 1);  // [B, S, D]
  return at::bmm(all, q.unsqueeze(2)).squeeze(2) / temperature;
}

}  // namespace mochi::ssl
