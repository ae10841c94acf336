#include "mochi/ssl/training_statistics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "ATen/ATen.h"
#include "c10/util/Exception.h"

namespace mochi::ssl {
namespace {

at::Tensor CpuDouble(const at::Tensor& t) {
  return t.detach().to(at::kCPU).to(at::kDouble).contiguous();
}

at::Tensor CpuLong(const at::Tensor& t) { return t.detach().to(at::kCPU).to(at::kLong).contiguous(); }

void CheckIntegral(const at::Tensor& t, const char* name) {
  TORCH_CHECK(at::isIntegralType(t.scalar_type(), /*includeBool=*/false), "statistics: ", name,
              " must be an integer tensor, got ", t.scalar_type());
}

// Checks that `positions` is an int64 [B, cols] tensor with values in [0, bound).
void CheckPositions(const at::Tensor& positions, int64_t batch, int64_t bound, const char* name,
                    const char* bound_name) {
  TORCH_CHECK(positions.defined() && positions.dim() == 2 && positions.size(0) == batch,
              "statistics: draws.", name, " must be [B = ", batch, ", *], got ",
              positions.defined() ? positions.sizes() : at::IntArrayRef{});
  CheckIntegral(positions, (std::string("draws.") + name).c_str());
  if (positions.numel() == 0) return;
  const int64_t lo = positions.min().item<int64_t>();
  const int64_t hi = positions.max().item<int64_t>();
  TORCH_CHECK(lo >= 0 && hi < bound, "statistics: draws.", name, " values must be in [0, ",
              bound_name, " = ", bound, "), got [", lo, ", ", hi, "]");
}

// L2-normalised CPU double rows of a [N, D] tensor; rejects zero rows.
at::Tensor NormalizedRows(const at::Tensor& x, const char* function, const char* name) {
  TORCH_CHECK(x.defined() && x.dim() == 2, function, ": ", name, " must be [N, D], got ",
              x.defined() ? x.sizes() : at::IntArrayRef{});
  TORCH_CHECK(at::isFloatingType(x.scalar_type()), function, ": ", name,
              " must be floating point, got ", x.scalar_type());
  const at::Tensor rows = CpuDouble(x);
  const at::Tensor norms = rows.norm(2, {1}, /*keepdim=*/true);
  TORCH_CHECK(rows.size(0) == 0 || norms.min().item<double>() > 0, function, ": ", name,
              " has a zero row (rows are L2-normalised)");
  return rows / norms;
}

}  // namespace

ContrastiveStatistics ComputeContrastiveStatistics(const at::Tensor& logits, int64_t queue_size,
                                                   const at::Tensor& query_labels,
                                                   const at::Tensor& queue_labels,
                                                   const MixingDraws* draws, int64_t top_k,
                                                   int64_t num_top_probabilities) {
  TORCH_CHECK(logits.defined() && logits.dim() == 2, "statistics: logits must be [B, 1 + K + s + s'], got ",
              logits.defined() ? logits.sizes() : at::IntArrayRef{});
  TORCH_CHECK(at::isFloatingType(logits.scalar_type()),
              "statistics: logits must be floating point, got ", logits.scalar_type());
  const int64_t batch = logits.size(0);
  const int64_t columns = logits.size(1);
  TORCH_CHECK(batch >= 1, "statistics: logits must have at least one query (B >= 1)");
  TORCH_CHECK(queue_size >= 1, "statistics: queue_size (K) = ", queue_size, " must be >= 1");
  TORCH_CHECK(top_k >= 1, "statistics: top_k = ", top_k, " must be >= 1");
  TORCH_CHECK(num_top_probabilities >= 1, "statistics: num_top_probabilities = ",
              num_top_probabilities, " must be >= 1");

  int64_t num_pair_mixed = 0;
  int64_t num_query_mixed = 0;
  int64_t num_hardest = 0;
  if (draws != nullptr) {
    TORCH_CHECK(draws->hardest.defined() && draws->hardest.dim() == 2 &&
                    draws->hardest.size(0) == batch,
                "statistics: draws.hardest must be [B = ", batch, ", N], got ",
                draws->hardest.defined() ? draws->hardest.sizes() : at::IntArrayRef{});
    num_hardest = draws->hardest.size(1);
    CheckPositions(draws->hardest, batch, queue_size, "hardest", "K");
    CheckPositions(draws->pair_first, batch, num_hardest, "pair_first", "N");
    CheckPositions(draws->pair_second, batch, num_hardest, "pair_second", "N");
    CheckPositions(draws->query_partner, batch, num_hardest, "query_partner", "N");
    TORCH_CHECK(draws->pair_first.sizes() == draws->pair_second.sizes(),
                "statistics: draws.pair_first ", draws->pair_first.sizes(),
                " and draws.pair_second ", draws->pair_second.sizes(), " must have the same shape");
    num_pair_mixed = draws->pair_first.size(1);
    num_query_mixed = draws->query_partner.size(1);
  }
  TORCH_CHECK(columns == 1 + queue_size + num_pair_mixed + num_query_mixed,
              "statistics: logits have ", columns, " columns, expected 1 + K + s + s' = 1 + ",
              queue_size, " + ", num_pair_mixed, " + ", num_query_mixed,
              draws == nullptr ? " (no draws given, so no synthetic columns)" : "");

  const bool have_labels = query_labels.defined() && queue_labels.defined();
  if (have_labels) {
    CheckIntegral(query_labels, "query_labels");
    CheckIntegral(queue_labels, "queue_labels");
    TORCH_CHECK(query_labels.dim() == 1 && query_labels.size(0) == batch,
                "statistics: query_labels must be [B = ", batch, "], got ", query_labels.sizes());
    TORCH_CHECK(queue_labels.dim() == 1 && queue_labels.size(0) == queue_size,
                "statistics: queue_labels must be [K = ", queue_size, "], got ",
                queue_labels.sizes());
  }

  ContrastiveStatistics stats;
  const at::Tensor all = CpuDouble(logits);
  const at::Tensor positive = all.select(1, 0);
  const at::Tensor real_negatives = all.narrow(1, 1, queue_size);  // q.n / tau, [B, K]

  // Proxy-task accuracy: the positive strictly beats every other column.
  stats.proxy_accuracy =
      (positive > all.narrow(1, 1, columns - 1).amax(1)).to(at::kDouble).mean().item<double>();
  stats.proxy_accuracy_without_synthetic =
      (positive > real_negatives.amax(1)).to(at::kDouble).mean().item<double>();

  // Hardness profile: softmax over [pos, K negatives], negatives' probabilities sorted.
  {
    const int64_t count = std::min(num_top_probabilities, queue_size);
    const at::Tensor probabilities =
        at::softmax(all.narrow(1, 0, 1 + queue_size), 1).narrow(1, 1, queue_size);
    const at::Tensor top = std::get<0>(at::topk(probabilities, count, 1, /*largest=*/true,
                                                /*sorted=*/true))
                               .mean(0)
                               .contiguous();
    const double* data = top.data_ptr<double>();
    stats.top_probabilities.assign(data, data + count);
  }

  if (!have_labels) return stats;
  const at::Tensor query_label = CpuLong(query_labels);
  const at::Tensor queue_label = CpuLong(queue_labels);
  const auto ql = query_label.accessor<int64_t, 1>();
  const auto kl = queue_label.accessor<int64_t, 1>();

  // Class-oracle false negatives among the top-k hardest queue negatives (ranked by q.n).
  {
    const int64_t k = std::min(top_k, queue_size);
    const at::Tensor hardest = std::get<1>(at::topk(real_negatives, k, 1, true, true)).contiguous();
    const auto h = hardest.accessor<int64_t, 2>();
    int64_t matches = 0;
    int64_t counted = 0;
    for (int64_t b = 0; b < batch; ++b) {
      if (ql[b] == -1) continue;
      for (int64_t r = 0; r < k; ++r) {
        const int64_t label = kl[h[b][r]];
        if (label == -1) continue;
        ++counted;
        matches += label == ql[b];
      }
    }
    if (counted > 0) stats.false_negative_share_topk = static_cast<double>(matches) / counted;
  }

  // Synthetic points built from a false negative.
  if (draws != nullptr && num_pair_mixed + num_query_mixed > 0) {
    const at::Tensor hardest_t = CpuLong(draws->hardest);
    const at::Tensor first_t = CpuLong(draws->pair_first);
    const at::Tensor second_t = CpuLong(draws->pair_second);
    const at::Tensor partner_t = CpuLong(draws->query_partner);
    const auto h = hardest_t.accessor<int64_t, 2>();
    const auto first = first_t.accessor<int64_t, 2>();
    const auto second = second_t.accessor<int64_t, 2>();
    const auto partner = partner_t.accessor<int64_t, 2>();
    int64_t from_false_negative = 0;
    int64_t counted = 0;
    for (int64_t b = 0; b < batch; ++b) {
      const int64_t label = ql[b];
      if (label == -1) continue;
      for (int64_t p = 0; p < num_pair_mixed; ++p) {
        const int64_t li = kl[h[b][first[b][p]]];
        const int64_t lj = kl[h[b][second[b][p]]];
        if (li == -1 || lj == -1) continue;
        ++counted;
        from_false_negative += (li == label || lj == label);
      }
      for (int64_t p = 0; p < num_query_mixed; ++p) {
        const int64_t lj = kl[h[b][partner[b][p]]];
        if (lj == -1) continue;
        ++counted;
        from_false_negative += lj == label;
      }
    }
    if (counted > 0) {
      stats.synthetic_from_false_negative_share =
          static_cast<double>(from_false_negative) / counted;
    }
  }
  return stats;
}

double Alignment(const at::Tensor& x, const at::Tensor& y, double alpha) {
  TORCH_CHECK(alpha > 0, "Alignment: alpha = ", alpha, " must be > 0");
  const at::Tensor a = NormalizedRows(x, "Alignment", "x");
  const at::Tensor b = NormalizedRows(y, "Alignment", "y");
  TORCH_CHECK(a.sizes() == b.sizes(), "Alignment: x ", a.sizes(), " and y ", b.sizes(),
              " must have the same shape");
  TORCH_CHECK(a.size(0) >= 1, "Alignment: needs at least one pair (N >= 1)");
  return (a - b).norm(2, {1}).pow(alpha).mean().item<double>();
}

double Uniformity(const at::Tensor& x, double t) {
  TORCH_CHECK(t > 0, "Uniformity: t = ", t, " must be > 0");
  const at::Tensor rows = NormalizedRows(x, "Uniformity", "x");
  const int64_t n = rows.size(0);
  TORCH_CHECK(n >= 2, "Uniformity: needs at least two rows (N >= 2), got N = ", n);
  // Row block i in [begin, end) against rows j in [begin, n); keep j > i. Each block holds at
  // most ~4M distances.
  const int64_t block = std::max<int64_t>(1, std::min<int64_t>(n, (int64_t{1} << 22) / n));
  std::vector<at::Tensor> partial;  // logsumexp of -t d^2 over each block's pairs
  for (int64_t begin = 0; begin < n - 1; begin += block) {
    const int64_t end = std::min(n - 1, begin + block);  // row n-1 has no j > i
    const at::Tensor left = rows.narrow(0, begin, end - begin);
    const at::Tensor right = rows.narrow(0, begin, n - begin);
    // Unit rows: ||x_i - x_j||^2 = 2 - 2 x_i.x_j.
    const at::Tensor squared = (2 - 2 * at::matmul(left, right.t())).clamp_min(0);
    const at::Tensor upper = at::ones_like(squared, at::kBool).triu(1);  // column c > row r
    const at::Tensor exponent =
        (-t * squared).masked_fill(upper.logical_not(), -std::numeric_limits<double>::infinity());
    partial.push_back(at::logsumexp(exponent.reshape(-1), 0));
  }
  const double pairs = static_cast<double>(n) * static_cast<double>(n - 1) / 2;
  return at::logsumexp(at::stack(partial), 0).item<double>() - std::log(pairs);
}

}  // namespace mochi::ssl
