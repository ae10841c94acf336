#include "mochi/ssl/fused_infonce.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "ATen/ATen.h"
#include "ATen/Parallel.h"
#include "ATen/core/grad_mode.h"
#include "c10/util/Exception.h"
#include "mochi/ssl/row_top_n.h"
#include "torch/csrc/autograd/custom_function.h"

namespace mochi::ssl {
namespace {

// A scalar whose gradient w.r.t. `input` was computed with it; backward only scales it.
class PrecomputedGradient : public torch::autograd::Function<PrecomputedGradient> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& /*input*/,
                            const at::Tensor& value, const at::Tensor& gradient) {
    ctx->save_for_backward({gradient});
    return value.clone();
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    return {ctx->get_saved_variables()[0] * grad_outputs[0], at::Tensor(), at::Tensor()};
  }
};

// The per-row state of the streamed pass, started from the positive logit.
struct Stream {
  at::Tensor max;        // [B] running max of the logits so far
  at::Tensor sum;        // [B] sum of exp(l - max)
  at::Tensor direction;  // [B, D] sum of exp(l - max) tau dl/dq (gradient only)
  at::Tensor queue_max;  // [B] largest queue logit

  // Moves the reference point to max(max, candidate); the sums keep their meaning.
  void RaiseMax(const at::Tensor& candidate) {
    const at::Tensor raised = at::maximum(max, candidate);
    const at::Tensor factor = at::exp(max - raised);
    sum.mul_(factor);
    if (direction.defined()) direction.mul_(factor.unsqueeze(1));
    max = raised;
  }
};

// Keeps, per row, the n largest of the similarities seen so far and their queue rows (any device
// and dtype; CPU float streams through StreamingRowTopN instead).
void MergeLargest(const at::Tensor& similarity, int64_t first_row, int64_t n, at::Tensor& values,
                  at::Tensor& rows) {
  const at::Tensor tile_rows =
      at::arange(first_row, first_row + similarity.size(1), similarity.options().dtype(at::kLong))
          .expand_as(similarity);
  if (values.defined()) {
    values = at::cat({values, similarity}, 1);
    rows = at::cat({rows, tile_rows}, 1);
  } else {
    values = similarity;
    rows = tile_rows;
  }
  if (values.size(1) > n) {
    const at::Tensor keep = RowTopN(values, n);
    values = values.gather(1, keep);
    rows = rows.gather(1, keep);
  }
}

// sum_e coefficient[b, e] queue[queue_index[b, e]]: [B, D]. CPU float: one loop per row;
// elsewhere gathered rows, a few rows of B at a time so the [rows, E, D] copy stays small.
at::Tensor SparseRowSum(const at::Tensor& coefficient, const at::Tensor& queue_index,
                        const at::Tensor& queue) {
  const int64_t batch = coefficient.size(0), terms = coefficient.size(1), dim = queue.size(1);
  if (!queue.device().is_cpu() || queue.scalar_type() != at::kFloat) {
    at::Tensor out = at::zeros({batch, dim}, queue.options());
    constexpr int64_t kRowsPerChunk = 16;
    for (int64_t first = 0; first < batch; first += kRowsPerChunk) {
      const int64_t rows = std::min(kRowsPerChunk, batch - first);
      const at::Tensor gathered =
          queue.index_select(0, queue_index.narrow(0, first, rows).reshape(-1))
              .view({rows, terms, dim});
      out.narrow(0, first, rows)
          .copy_(at::bmm(coefficient.narrow(0, first, rows).unsqueeze(1), gathered).squeeze(1));
    }
    return out;
  }
  const at::Tensor rows = queue.contiguous();
  const at::Tensor weights = coefficient.contiguous();
  const at::Tensor index = queue_index.contiguous();
  at::Tensor out = at::zeros({batch, dim}, queue.options());
  const float* queue_data = rows.data_ptr<float>();
  const float* weight_data = weights.data_ptr<float>();
  const int64_t* index_data = index.data_ptr<int64_t>();
  float* out_data = out.data_ptr<float>();
  constexpr int64_t kPrefetchTerms = 6;
  at::parallel_for(0, batch, 1, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      float* acc = out_data + b * dim;
      const int64_t* index_row = index_data + b * terms;
      for (int64_t e = 0; e < terms; ++e) {
        // The rows are scattered over the queue: fetch a few terms ahead so their cache misses
        // overlap instead of stalling one after another.
        if (e + kPrefetchTerms < terms) {
          const char* ahead =
              reinterpret_cast<const char*>(queue_data + index_row[e + kPrefetchTerms] * dim);
          for (int64_t byte = 0; byte < dim * static_cast<int64_t>(sizeof(float)); byte += 64) {
            __builtin_prefetch(ahead + byte);
          }
        }
        const float w = weight_data[b * terms + e];
        const float* __restrict__ row = queue_data + index_row[e] * dim;
        float* __restrict__ sum = acc;
        for (int64_t d = 0; d < dim; ++d) sum[d] += w * row[d];
      }
    }
  });
  return out;
}

}  // namespace

FusedInfoNce ComputeFusedInfoNce(const at::Tensor& q_input, const at::Tensor& k_input,
                                 const at::Tensor& queue_input, double temperature,
                                 const MixingOptions* mixing, MixingDraws* draws,
                                 int64_t tile_rows) {
  TORCH_CHECK(q_input.dim() == 2 && k_input.sizes() == q_input.sizes() && queue_input.dim() == 2 &&
                  queue_input.size(1) == q_input.size(1),
              "InfoNCE: q, k [B, D] and queue [K, D] expected, got ", q_input.sizes(), ", ",
              k_input.sizes(), ", ", queue_input.sizes());
  TORCH_CHECK(tile_rows >= 1, "InfoNCE: tile_rows = ", tile_rows, " must be >= 1");
  TORCH_CHECK(temperature > 0, "InfoNCE: temperature must be > 0, got ", temperature);
  TORCH_CHECK(mixing == nullptr || draws != nullptr, "InfoNCE: mixing needs its draws");
  TORCH_CHECK(mixing == nullptr || !mixing->gradient_through_synthetic,
              "InfoNCE: the fused head treats synthetic points as constants");
  const bool with_gradient = q_input.requires_grad() && at::GradMode::is_enabled();
  at::NoGradGuard no_grad;
  const at::Tensor q = q_input.detach();
  const at::Tensor k = k_input.detach();
  const at::Tensor queue = queue_input.detach();
  const int64_t batch = q.size(0), queue_size = queue.size(0);
  const bool hardest = mixing != nullptr && mixing->selection == MixingSelection::kHardest;
  const int64_t n = mixing != nullptr ? mixing->num_hardest : 0;
  TORCH_CHECK(mixing == nullptr || (n >= 1 && n <= queue_size), "mixing: N = ", n,
              " must be in [1, K = ", queue_size, "]");
  TORCH_CHECK(mixing == nullptr || hardest || draws->hardest.defined(),
              "InfoNCE: random selection needs draws->hardest");

  const at::Tensor positive = (q * k).sum(1) / temperature;
  Stream stream;
  stream.max = positive.clone();
  stream.sum = at::ones_like(positive);
  if (with_gradient) stream.direction = at::zeros_like(q);
  // kHardest: the N largest q.n so far.
  const bool cpu_float = q.device().is_cpu() && q.scalar_type() == at::kFloat;
  std::optional<StreamingRowTopN> streaming_top_n;
  if (hardest && cpu_float) streaming_top_n.emplace(batch, n);
  at::Tensor largest_similarity, largest_rows;
  at::Tensor selected_similarity;  // kRandom: q.n of draws->hardest
  if (mixing != nullptr && !hardest)
    selected_similarity = at::zeros(draws->hardest.sizes(), q.options());

  for (int64_t first = 0; first < queue_size; first += tile_rows) {
    const int64_t rows = std::min(tile_rows, queue_size - first);
    const at::Tensor tile = queue.narrow(0, first, rows);
    const at::Tensor similarity = at::mm(q, tile.t());  // [B, rows], q.n
    at::Tensor logits = similarity / temperature;
    const at::Tensor tile_max = std::get<0>(logits.max(1));
    stream.queue_max = first == 0 ? tile_max : at::maximum(stream.queue_max, tile_max);
    stream.RaiseMax(tile_max);
    const at::Tensor weight = logits.sub_(stream.max.unsqueeze(1)).exp_();  // in place
    stream.sum.add_(weight.sum(1));
    if (with_gradient) stream.direction.addmm_(weight, tile);
    if (streaming_top_n) {
      streaming_top_n->Add(similarity, first);
    } else if (hardest) {
      MergeLargest(similarity, first, n, largest_similarity, largest_rows);
    } else if (mixing != nullptr) {
      const at::Tensor local = draws->hardest - first;
      selected_similarity =
          at::where((local >= 0) & (local < rows), similarity.gather(1, local.clamp(0, rows - 1)),
                    selected_similarity);
    }
  }

  FusedInfoNce out;
  out.positive_is_top_real = positive >= stream.queue_max;
  out.positive_is_top = out.positive_is_top_real;
  if (mixing != nullptr) {
    TORCH_CHECK(!at::isnan(stream.queue_max).any().item<bool>(),
                "mixing: NaN in the similarities (has training diverged?)");
    if (streaming_top_n) {
      StreamingRowTopN::Result top = streaming_top_n->Finish();
      largest_rows = std::move(top.indices);
      largest_similarity = std::move(top.values);
    }
    if (hardest) {  // in increasing queue order, as DrawMixing
      const auto [sorted_rows, order] = at::sort(largest_rows, 1);
      draws->hardest = sorted_rows;
      selected_similarity = largest_similarity.gather(1, order);
    }
    const int64_t s = draws->pair_first.size(1), s_query = draws->query_partner.size(1);
    const MixingCoefficients c = ComputeMixingCoefficients(
        queue, selected_similarity.gather(1, draws->query_partner), *draws, temperature);
    // q.n at c.queue_index, read from the selected values by position.
    const at::Tensor indexed_similarity = selected_similarity.gather(
        1, at::cat({draws->pair_first, draws->pair_second, draws->query_partner}, 1));
    const at::Tensor synthetic =
        CombineSyntheticLogits(indexed_similarity, c.weight, c.self_weight, q, s);  // [B, s + s']
    if (synthetic.size(1) > 0) {
      const at::Tensor synthetic_max = std::get<0>(synthetic.max(1));
      out.positive_is_top = out.positive_is_top_real & (positive >= synthetic_max);
      stream.RaiseMax(synthetic_max);
      const at::Tensor weight = (synthetic - stream.max.unsqueeze(1)).exp();
      stream.sum.add_(weight.sum(1));
      if (with_gradient) {
        // d(pair logit)/dq = w_i n_i + w_j n_j; d(query logit)/dq = w_j' n_j' + w_q q. The w
        // already hold 1/tau, the stream's directions do not: hence the factor tau.
        const at::Tensor pair_weight = weight.narrow(1, 0, s);
        const at::Tensor query_weight = weight.narrow(1, s, s_query);
        const at::Tensor per_row =
            at::cat({pair_weight, pair_weight, query_weight}, 1) * c.weight * temperature;
        stream.direction.add_(SparseRowSum(per_row, c.queue_index, queue))
            .add_(q * ((query_weight * c.self_weight).sum(1, /*keepdim=*/true) * temperature));
      }
    }
  }
  const at::Tensor log_sum_exp = stream.max + stream.sum.log();
  const at::Tensor loss = (log_sum_exp - positive).mean();
  if (!with_gradient) {
    out.loss = loss;
    return out;
  }
  // (1/B) [ (sum_c p_c tau dl_c/dq) / tau + (p_0 - 1) k / tau ], p_c = exp(l_c - LSE).
  const at::Tensor inverse_sum = stream.sum.reciprocal().unsqueeze(1);
  const at::Tensor positive_probability = (positive - log_sum_exp).exp().unsqueeze(1);
  const at::Tensor gradient =
      (stream.direction * inverse_sum + k * (positive_probability - 1)) / (temperature * batch);
  const at::AutoGradMode restore(/*enabled=*/true);  // as on entry (with_gradient)
  out.loss = PrecomputedGradient::apply(q_input, loss, gradient);
  return out;
}

}  // namespace mochi::ssl
