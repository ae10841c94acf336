#include "mochi/ssl/row_top_n.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "ATen/ATen.h"
#include "ATen/Parallel.h"
#include "c10/util/Exception.h"

namespace mochi::ssl {
namespace {

// Rows shorter than this, or with n above this share of K, are partially sorted whole: the
// sample cannot cut much work there.
constexpr int64_t kMinSampledRow = 512;
constexpr int64_t kMaxSampledShare = 4;  // n <= K / 4
constexpr int64_t kMaxSample = 1024;

using row_top_n_internal::Candidate;

bool Larger(const Candidate& x, const Candidate& y) { return x.value > y.value; }

// Moves the n largest of `candidates` to the front (any order).
void PartitionLargest(std::vector<Candidate>& candidates, int64_t n) {
  std::nth_element(candidates.begin(), candidates.begin() + (n - 1), candidates.end(), Larger);
}

// Keeps the n largest of `candidates` in front (any order) and writes their indices.
void TakeLargest(std::vector<Candidate>& candidates, int64_t n, int64_t* out) {
  PartitionLargest(candidates, n);
  for (int64_t i = 0; i < n; ++i) out[i] = candidates[i].index;
}

// NaN has no place in a ranking, and std::nth_element's behaviour with it is undefined.
bool HasNaN(const float* row, int64_t k) {
  bool nan = false;
  for (int64_t i = 0; i < k; ++i) nan |= std::isnan(row[i]);
  return nan;
}

// One row. `sample` and `candidates` are per-thread scratch.
void SelectRow(const float* row, int64_t k, int64_t n, int64_t* out, std::vector<float>& sample,
               std::vector<Candidate>& candidates) {
  candidates.clear();
  if (k >= kMinSampledRow && n * kMaxSampledShare <= k) {
    // A strided sample; its r-th largest value leaves, in expectation, about (r + 1) / (m + 1) * K
    // values above it. Aim for 1.5 n (plus a margin for small n) so that fewer than n is rare.
    const int64_t m = std::min(k, kMaxSample);
    const int64_t stride = k / m;
    sample.resize(m);
    for (int64_t i = 0; i < m; ++i) sample[i] = row[i * stride];
    const int64_t rank = std::min(m - 1, (3 * n * (m + 1)) / (2 * k) + 3);
    std::nth_element(sample.begin(), sample.begin() + rank, sample.end(), std::greater<float>());
    const float threshold = sample[rank];
    candidates.resize(k);
    int64_t kept = 0;
    for (int64_t i = 0; i < k; ++i) {  // branch-free: write always, advance when kept
      candidates[kept] = {row[i], i};
      kept += row[i] >= threshold;
    }
    candidates.resize(kept);
    if (kept >= n) {
      TakeLargest(candidates, n, out);
      return;
    }
    candidates.clear();  // the sample misjudged; partially sort the whole row
  }
  candidates.resize(k);
  for (int64_t i = 0; i < k; ++i) candidates[i] = {row[i], i};
  TakeLargest(candidates, n, out);
}

}  // namespace

at::Tensor RowTopN(const at::Tensor& values, int64_t n) {
  TORCH_CHECK(values.dim() == 2, "top-N: [B, K] expected, got ", values.sizes());
  const int64_t batch = values.size(0);
  const int64_t k = values.size(1);
  TORCH_CHECK(n >= 1 && n <= k, "top-N: N = ", n, " must be in [1, K = ", k, "]");
  const at::Tensor detached = values.detach();
  if (!detached.device().is_cpu() || detached.scalar_type() != at::kFloat) {
    TORCH_CHECK(!at::isnan(detached).any().item<bool>(),
                "top-N: NaN in the similarities (has training diverged?)");
    return std::get<1>(at::topk(detached, n, /*dim=*/1, /*largest=*/true, /*sorted=*/false));
  }
  const at::Tensor rows = detached.contiguous();
  at::Tensor out = at::empty({batch, n}, rows.options().dtype(at::kLong));
  const float* base = rows.data_ptr<float>();
  int64_t* result = out.data_ptr<int64_t>();
  std::atomic<bool> saw_nan{false};
  at::parallel_for(0, batch, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> sample;
    std::vector<Candidate> candidates;
    for (int64_t b = begin; b < end; ++b) {
      const float* row = base + b * k;
      if (HasNaN(row, k)) {
        saw_nan = true;
        return;
      }
      SelectRow(row, k, n, result + b * n, sample, candidates);
    }
  });
  TORCH_CHECK(!saw_nan, "top-N: NaN in the similarities (has training diverged?)");
  return out;
}

StreamingRowTopN::StreamingRowTopN(int64_t rows, int64_t n)
    : n_(n), kept_(rows), threshold_(rows, -std::numeric_limits<float>::infinity()) {
  TORCH_CHECK(n >= 1, "top-N: N = ", n, " must be >= 1");
  for (std::vector<Candidate>& row : kept_) row.reserve(2 * n);
}

void StreamingRowTopN::Add(const at::Tensor& block_input, int64_t first_column) {
  const int64_t rows = static_cast<int64_t>(kept_.size());
  TORCH_CHECK(block_input.dim() == 2 && block_input.size(0) == rows &&
                  block_input.device().is_cpu() && block_input.scalar_type() == at::kFloat,
              "top-N: a float CPU block [", rows, ", C] expected, got ", block_input.sizes(), " ",
              block_input.scalar_type());
  const at::Tensor block = block_input.detach().contiguous();
  const int64_t columns = block.size(1);
  const float* base = block.data_ptr<float>();
  at::parallel_for(0, rows, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> sample;
    std::vector<Candidate> candidates;
    std::vector<int64_t> first_n;
    for (int64_t r = begin; r < end; ++r) {
      const float* row = base + r * columns;
      std::vector<Candidate>& kept = kept_[r];
      if (kept.empty() && columns >= n_ && !HasNaN(row, columns)) {
        // A first block that holds N values: RowTopN's sampled selection sets the threshold at
        // once. (With a NaN, the loop below skips it and Finish() reports the short row.)
        first_n.resize(n_);
        SelectRow(row, columns, n_, first_n.data(), sample, candidates);
        for (const int64_t c : first_n) kept.push_back({row[c], first_column + c});
        float smallest = kept[0].value;
        for (const Candidate& candidate : kept) smallest = std::min(smallest, candidate.value);
        threshold_[r] = smallest;
        continue;
      }
      for (int64_t c = 0; c < columns; ++c) {
        if (!(row[c] >= threshold_[r])) continue;
        kept.push_back({row[c], first_column + c});
        if (static_cast<int64_t>(kept.size()) == 2 * n_) {
          PartitionLargest(kept, n_);
          kept.resize(n_);
          threshold_[r] = kept[n_ - 1].value;
        }
      }
    }
  });
  columns_ += columns;
}

StreamingRowTopN::Result StreamingRowTopN::Finish() {
  TORCH_CHECK(columns_ >= n_, "top-N: N = ", n_, " but only ", columns_, " columns were added");
  const int64_t rows = static_cast<int64_t>(kept_.size());
  Result out{at::empty({rows, n_}, at::kLong), at::empty({rows, n_}, at::kFloat)};
  int64_t* indices = out.indices.data_ptr<int64_t>();
  float* values = out.values.data_ptr<float>();
  std::atomic<bool> short_row{false};
  at::parallel_for(0, rows, 1, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      std::vector<Candidate>& kept = kept_[r];
      if (static_cast<int64_t>(kept.size()) < n_) {  // NaN values were skipped
        short_row = true;
        continue;
      }
      PartitionLargest(kept, n_);
      for (int64_t i = 0; i < n_; ++i) {
        indices[r * n_ + i] = kept[i].index;
        values[r * n_ + i] = kept[i].value;
      }
    }
  });
  TORCH_CHECK(!short_row, "top-N: NaN in the similarities (has training diverged?)");
  return out;
}

}  // namespace mochi::ssl
