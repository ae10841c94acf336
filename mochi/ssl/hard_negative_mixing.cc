#include "mochi/ssl/hard_negative_mixing.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <numeric>
#include <utility>
#include <vector>

#include "ATen/ATen.h"
#include "ATen/CPUGeneratorImpl.h"
#include "ATen/Parallel.h"
#include "c10/util/Exception.h"
#include "mochi/data/rng.h"
#include "mochi/ssl/row_top_n.h"
#include "torch/csrc/autograd/custom_function.h"

namespace mochi::ssl {
namespace {

// Row-wise gather of `positions` (into `hardest`) -> queue indices, same shape as `positions`.
at::Tensor QueueIndices(const at::Tensor& hardest, const at::Tensor& positions) {
  return hardest.gather(1, positions);
}

// ||x n_1 + (1-x) n_2|| for unit n_1, n_2 with n_1 . n_2 = dot.
template <typename T>
T MixNorm(T x, T dot) {
  return std::sqrt(std::max<T>(x * x + (1 - x) * (1 - x) + 2 * x * (1 - x) * dot, T(1e-12)));
}

// CPU float: one pass per query row, without a [B, s] temporary per formula term.
MixingCoefficients CoefficientsCpu(const at::Tensor& queue, const at::Tensor& partner_similarity,
                                   const MixingDraws& draws, double temperature) {
  const at::Tensor rows = queue.detach().contiguous();
  const at::Tensor partner_sim = partner_similarity.detach().contiguous();
  const at::Tensor hardest = draws.hardest.contiguous();
  const at::Tensor first = draws.pair_first.contiguous();
  const at::Tensor second = draws.pair_second.contiguous();
  const at::Tensor pair_weight = draws.pair_weight.contiguous();
  const at::Tensor partner = draws.query_partner.contiguous();
  const at::Tensor query_weight = draws.query_weight.contiguous();
  const int64_t batch = hardest.size(0), dim = rows.size(1);
  const int64_t n = hardest.size(1), s = first.size(1), s_query = partner.size(1);
  MixingCoefficients c;
  c.queue_index = at::empty({batch, 2 * s + s_query}, hardest.options());
  c.weight = at::empty({batch, 2 * s + s_query}, rows.options());
  c.self_weight = at::empty({batch, s_query}, rows.options());
  const float inv_tau = static_cast<float>(1.0 / temperature);
  const float* queue_data = rows.data_ptr<float>();
  const float* partner_sim_data = partner_sim.data_ptr<float>();
  const int64_t* hardest_data = hardest.data_ptr<int64_t>();
  const int64_t* first_data = first.data_ptr<int64_t>();
  const int64_t* second_data = second.data_ptr<int64_t>();
  const int64_t* partner_data = partner.data_ptr<int64_t>();
  const float* a_data = pair_weight.data_ptr<float>();
  const float* b_data = query_weight.data_ptr<float>();
  int64_t* index_out = c.queue_index.data_ptr<int64_t>();
  float* weight_out = c.weight.data_ptr<float>();
  float* self_out = c.self_weight.data_ptr<float>();
  at::parallel_for(0, batch, 1, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t* top = hardest_data + row * n;
      int64_t* index = index_out + row * (2 * s + s_query);
      float* weight = weight_out + row * (2 * s + s_query);
      for (int64_t p = 0; p < s; ++p) {
        const int64_t i = top[first_data[row * s + p]];
        const int64_t j = top[second_data[row * s + p]];
        const float* x = queue_data + i * dim;
        const float* y = queue_data + j * dim;
        // Eight independent partial sums: one running float sum is a dependent add chain the
        // compiler may not reorder.
        float partial[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
        int64_t d = 0;
        for (; d + 8 <= dim; d += 8) {
          for (int lane = 0; lane < 8; ++lane) partial[lane] += x[d + lane] * y[d + lane];
        }
        float dot = 0.f;
        for (; d < dim; ++d) dot += x[d] * y[d];
        for (int lane = 0; lane < 8; ++lane) dot += partial[lane];
        const float a = a_data[row * s + p];
        const float scale = inv_tau / MixNorm(a, dot);
        index[p] = i;
        index[s + p] = j;
        weight[p] = a * scale;
        weight[s + p] = (1 - a) * scale;
      }
      for (int64_t p = 0; p < s_query; ++p) {
        const int64_t j = top[partner_data[row * s_query + p]];
        const float b = b_data[row * s_query + p];
        const float scale = inv_tau / MixNorm(b, partner_sim_data[row * s_query + p]);
        index[2 * s + p] = j;
        weight[2 * s + p] = (1 - b) * scale;
        self_out[row * s_query + p] = b * scale;
      }
    }
  });
  return c;
}

// Any device or dtype: the same factors from tensor operations.
MixingCoefficients CoefficientsFromTensors(const at::Tensor& queue,
                                           const at::Tensor& partner_similarity,
                                           const MixingDraws& draws, double temperature) {
  const at::Tensor rows = queue.detach();
  const at::Tensor first = QueueIndices(draws.hardest, draws.pair_first);
  const at::Tensor second = QueueIndices(draws.hardest, draws.pair_second);
  const at::Tensor partner = QueueIndices(draws.hardest, draws.query_partner);
  const at::Tensor pair_dots = (rows.index_select(0, first.reshape(-1)) *
                                rows.index_select(0, second.reshape(-1)))
                                   .sum(-1)
                                   .reshape(first.sizes());
  const at::Tensor a = draws.pair_weight.to(rows.scalar_type());
  const at::Tensor pair_scale =
      (a * a + (1 - a) * (1 - a) + 2 * a * (1 - a) * pair_dots).clamp_min(1e-12).rsqrt() /
      temperature;
  const at::Tensor b = draws.query_weight.to(rows.scalar_type());
  const at::Tensor query_scale =
      (b * b + (1 - b) * (1 - b) + 2 * b * (1 - b) * partner_similarity.detach())
          .clamp_min(1e-12)
          .rsqrt() /
      temperature;
  MixingCoefficients c;
  c.queue_index = at::cat({first, second, partner}, 1);
  c.weight = at::cat({a * pair_scale, (1 - a) * pair_scale, (1 - b) * query_scale}, 1);
  c.self_weight = b * query_scale;
  return c;
}

// Element e of a stream is data::CounterBits(stream key, e) (mochi/data/rng.h): any element can
// be computed alone, so the draws are parallel and independent of the thread count.
using data::CounterBits;
using data::StreamKey;

// A uniform integer in [0, n) from 64 random bits: Lemire's multiply-shift on the high 32 bits
// (bias below n / 2^32, as at::randint's modulo).
int64_t BelowN(uint64_t bits, int64_t n) {
  return static_cast<int64_t>(((bits >> 32) * static_cast<uint64_t>(n)) >> 32);
}

// Uniform integers in [0, n), int64, CPU.
at::Tensor CounterIndices(uint64_t key, uint64_t stream, at::IntArrayRef shape, int64_t n) {
  at::Tensor out = at::empty(shape, at::kLong);
  int64_t* data = out.data_ptr<int64_t>();
  const uint64_t stream_key = StreamKey(key, stream);
  at::parallel_for(0, out.numel(), 8192, [&](int64_t begin, int64_t end) {
    for (int64_t e = begin; e < end; ++e) data[e] = BelowN(CounterBits(stream_key, e), n);
  });
  return out;
}

// Uniform floats in [0, scale), float32, CPU: 24 random bits, as at::rand.
at::Tensor CounterUniform(uint64_t key, uint64_t stream, at::IntArrayRef shape, double scale) {
  at::Tensor out = at::empty(shape, at::kFloat);
  float* data = out.data_ptr<float>();
  const uint64_t stream_key = StreamKey(key, stream);
  const float step = static_cast<float>(scale) / static_cast<float>(1 << 24);
  at::parallel_for(0, out.numel(), 8192, [&](int64_t begin, int64_t end) {
    for (int64_t e = begin; e < end; ++e) {
      data[e] = static_cast<float>(CounterBits(stream_key, e) >> 40) * step;
    }
  });
  return out;
}

// Per row, n distinct integers in [0, k), every n-subset (and order) equally likely: the first n
// steps of a Fisher-Yates shuffle of 0..k-1, step t swapping position t with one drawn from
// [t, k). int64 [rows, n], CPU.
at::Tensor CounterSubsets(uint64_t key, uint64_t stream, int64_t rows, int64_t k, int64_t n) {
  at::Tensor out = at::empty({rows, n}, at::kLong);
  int64_t* data = out.data_ptr<int64_t>();
  const uint64_t stream_key = StreamKey(key, stream);
  at::parallel_for(0, rows, 1, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> pool(k);
    for (int64_t row = begin; row < end; ++row) {
      std::iota(pool.begin(), pool.end(), 0);
      for (int64_t t = 0; t < n; ++t) {
        std::swap(pool[t], pool[t + BelowN(CounterBits(stream_key, row * n + t), k - t)]);
        data[row * n + t] = pool[t];
      }
    }
  });
  return out;
}

// The counter streams of one step's key.
enum Stream : uint64_t {
  kPairFirst = 0,
  kPairSecond = 1,
  kPairWeight = 2,
  kQueryPartner = 3,
  kQueryWeight = 4,
  kRandomSelection = 5,
};

// One 64-bit number from `generator` (null = the default CPU generator): the key of a step.
uint64_t DrawKey(c10::optional<at::Generator> generator) {
  at::CPUGeneratorImpl* cpu = at::get_generator_or_default<at::CPUGeneratorImpl>(
      generator, at::detail::getDefaultCPUGenerator());
  std::lock_guard<std::mutex> lock(cpu->mutex_);
  return cpu->random64();
}

MixingDraws DrawWeightsFromKey(uint64_t key, int64_t batch, const MixingOptions& options,
                               at::Device device) {
  const int64_t n = options.num_hardest;
  TORCH_CHECK(n >= 1, "mixing: N = ", n, " must be >= 1");
  TORCH_CHECK(options.num_mixed_pairs == 0 || n >= 2, "mixing: s > 0 needs N >= 2");
  const int64_t s = options.num_mixed_pairs;
  const int64_t s_query = options.num_query_mixed;
  MixingDraws draws;
  draws.pair_first = CounterIndices(key, kPairFirst, {batch, s}, n).to(device);
  draws.pair_second = CounterIndices(key, kPairSecond, {batch, s}, n).to(device);
  draws.pair_weight = CounterUniform(key, kPairWeight, {batch, s}, 1.0).to(device);
  draws.query_partner = CounterIndices(key, kQueryPartner, {batch, s_query}, n).to(device);
  draws.query_weight =
      CounterUniform(key, kQueryWeight, {batch, s_query}, options.query_mix_max).to(device);
  return draws;
}

// Synthetic logits from the detached coefficients as one autograd node:
//   out[:, p]      = w_i q.n_i + w_j q.n_j          (p < s)
//   out[:, s + p'] = w_j' q.n_j' + w_q (q . stop_grad(q))
// As separate ops (gather, multiply, three narrows, cat, a q.q product) autograd recorded ~10
// nodes and their backward built a zero-padded buffer per narrow; here the backward is one
// scatter-add into the [B, K] similarity gradient and one scaled copy of q.
class WeightedLogits : public torch::autograd::Function<WeightedLogits> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& similarity,
                            const at::Tensor& q, const at::Tensor& queue_index,
                            const at::Tensor& weight, const at::Tensor& self_weight,
                            int64_t num_pairs) {
    ctx->save_for_backward({q, queue_index, weight, self_weight});
    ctx->saved_data["num_pairs"] = num_pairs;
    ctx->saved_data["k"] = similarity.size(1);
    return CombineSyntheticLogits(similarity.gather(1, queue_index), weight, self_weight, q,
                                  num_pairs);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& q = saved[0];
    const at::Tensor& queue_index = saved[1];
    const at::Tensor& weight = saved[2];
    const at::Tensor& self_weight = saved[3];
    const int64_t s = ctx->saved_data["num_pairs"].toInt();
    const int64_t k = ctx->saved_data["k"].toInt();
    const at::Tensor grad = grad_outputs[0];
    const at::Tensor pair_grad = grad.narrow(1, 0, s);
    const at::Tensor query_grad = grad.narrow(1, s, grad.size(1) - s);
    // d out / d q.n at each gathered position: the pair's gradient twice, then the query's.
    const at::Tensor per_index = at::cat({pair_grad, pair_grad, query_grad}, 1) * weight;
    const at::Tensor grad_similarity =
        at::zeros({grad.size(0), k}, grad.options()).scatter_add_(1, queue_index, per_index);
    // d(q . stop_grad(q)) / dq = q.
    const at::Tensor grad_q = (query_grad * self_weight).sum(1, /*keepdim=*/true) * q;
    return {grad_similarity, grad_q, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

void CheckInputs(const at::Tensor& q, const at::Tensor& queue, const at::Tensor& similarity) {
  TORCH_CHECK(q.dim() == 2 && queue.dim() == 2 && q.size(1) == queue.size(1),
              "mixing: q [B, D] and queue [K, D] expected, got ", q.sizes(), " and ", queue.sizes());
  TORCH_CHECK(similarity.dim() == 2 && similarity.size(0) == q.size(0) &&
                  similarity.size(1) == queue.size(0),
              "mixing: queue_similarity must be [B, K] = [", q.size(0), ", ", queue.size(0),
              "], got ", similarity.sizes());
}

}  // namespace

MixingDraws DrawMixingWeights(int64_t batch, const MixingOptions& options,
                              c10::optional<at::Generator> generator, at::Device device) {
  return DrawWeightsFromKey(DrawKey(generator), batch, options, device);
}

MixingDraws DrawMixingBeforeSelection(int64_t batch, int64_t queue_size,
                                      const MixingOptions& options,
                                      c10::optional<at::Generator> generator, at::Device device) {
  TORCH_CHECK(options.num_hardest >= 1 && options.num_hardest <= queue_size, "mixing: N = ",
              options.num_hardest, " must be in [1, K = ", queue_size, "]");
  const uint64_t key = DrawKey(generator);
  MixingDraws draws = DrawWeightsFromKey(key, batch, options, device);
  if (options.selection == MixingSelection::kRandom) {
    draws.hardest =
        CounterSubsets(key, kRandomSelection, batch, queue_size, options.num_hardest).to(device);
  }
  return draws;
}

MixingDraws DrawMixing(const at::Tensor& queue_similarity, const MixingOptions& options,
                       c10::optional<at::Generator> generator) {
  TORCH_CHECK(queue_similarity.dim() == 2, "mixing: queue_similarity must be [B, K], got ",
              queue_similarity.sizes());
  MixingDraws draws =
      DrawMixingBeforeSelection(queue_similarity.size(0), queue_similarity.size(1), options,
                                generator, queue_similarity.device());
  switch (options.selection) {
    case MixingSelection::kHardest:
      draws.hardest = std::get<0>(at::sort(RowTopN(queue_similarity, options.num_hardest), 1));
      break;
    case MixingSelection::kRandom:
      // The values are not used, but a NaN means training diverged, as for the top-N.
      TORCH_CHECK(!at::isnan(queue_similarity.detach()).any().item<bool>(),
                  "mixing: NaN in the similarities (has training diverged?)");
      break;
  }
  return draws;
}

MixingCoefficients ComputeMixingCoefficients(const at::Tensor& queue,
                                             const at::Tensor& partner_similarity,
                                             const MixingDraws& draws, double temperature) {
  return queue.device().is_cpu() && queue.scalar_type() == at::kFloat &&
                 partner_similarity.scalar_type() == at::kFloat
             ? CoefficientsCpu(queue, partner_similarity, draws, temperature)
             : CoefficientsFromTensors(queue, partner_similarity, draws, temperature);
}

at::Tensor CombineSyntheticLogits(const at::Tensor& indexed_similarity, const at::Tensor& weight,
                                  const at::Tensor& self_weight, const at::Tensor& q,
                                  int64_t num_pairs) {
  const int64_t s = num_pairs;
  const int64_t s_query = self_weight.size(1);
  const at::Tensor weighted = indexed_similarity * weight;
  const at::Tensor q_dot_q = (q * q).sum(1, /*keepdim=*/true);
  return at::cat({weighted.narrow(1, 0, s) + weighted.narrow(1, s, s),
                  weighted.narrow(1, 2 * s, s_query) + self_weight * q_dot_q},
                 1);
}

at::Tensor SyntheticLogits(const at::Tensor& q, const at::Tensor& queue,
                           const at::Tensor& queue_similarity, const MixingDraws& draws,
                           double temperature, const MixingOptions& options) {
  CheckInputs(q, queue, queue_similarity);
  if (options.gradient_through_synthetic) {
    return SyntheticLogitsFromVectors(q, BuildSyntheticNegatives(q, queue, draws, options),
                                      temperature);
  }
  const at::Tensor partner_similarity =
      queue_similarity.detach().gather(1, QueueIndices(draws.hardest, draws.query_partner));
  const MixingCoefficients c =
      ComputeMixingCoefficients(queue, partner_similarity, draws, temperature);
  return WeightedLogits::apply(queue_similarity, q, c.queue_index, c.weight, c.self_weight,
                               draws.pair_first.size(1));
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
