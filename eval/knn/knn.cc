#include "eval/knn/knn.h"

#include <algorithm>

#include "ATen/ATen.h"
#include "absl/strings/str_cat.h"

namespace mochi::eval {
namespace {

at::Tensor Normalized(const at::Tensor& x) {
  return x.to(at::kFloat) / x.to(at::kFloat).norm(2, 1, true).clamp_min(1e-12);
}

std::string Shape(const at::Tensor& t) {
  std::string out = "[";
  for (int64_t i = 0; i < t.dim(); ++i) absl::StrAppend(&out, i ? ", " : "", t.size(i));
  return out + "]";
}

}  // namespace

absl::StatusOr<KnnResult> KnnClassify(const at::Tensor& train_features,
                                      const at::Tensor& train_labels,
                                      const at::Tensor& test_features,
                                      const at::Tensor& test_labels, int64_t num_classes,
                                      const KnnOptions& options) {
  if (train_features.dim() != 2 || test_features.dim() != 2 ||
      train_features.size(1) != test_features.size(1)) {
    return absl::InvalidArgumentError(absl::StrCat("knn: features must be [N, D] and [M, D], got ",
                                                   Shape(train_features), " and ",
                                                   Shape(test_features)));
  }
  if (train_labels.numel() != train_features.size(0) ||
      test_labels.numel() != test_features.size(0)) {
    return absl::InvalidArgumentError("knn: one label per feature row required");
  }
  if (train_features.size(0) == 0) return absl::InvalidArgumentError("knn: empty train set");
  if (options.k <= 0 || options.temperature <= 0 || options.chunk_size <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("knn: k = ", options.k, ", temperature = ",
                                                   options.temperature, ", chunk_size = ",
                                                   options.chunk_size, " must all be > 0"));
  }
  const at::Tensor train_y = train_labels.to(train_features.device(), at::kLong).reshape(-1);
  const at::Tensor test_y = test_labels.to(at::kLong).reshape(-1).to(train_y.device());
  for (const at::Tensor* y : {&train_y, &test_y}) {
    if (y->numel() > 0 && (y->min().item<int64_t>() < 0 || y->max().item<int64_t>() >= num_classes)) {
      return absl::InvalidArgumentError(
          absl::StrCat("knn: labels must lie in [0, ", num_classes, ")"));
    }
  }
  const at::Tensor train = Normalized(train_features);
  const at::Tensor test = Normalized(test_features).to(train.device());
  const int64_t k = std::min<int64_t>(options.k, train.size(0));
  std::vector<at::Tensor> predictions;
  for (int64_t start = 0; start < test.size(0); start += options.chunk_size) {
    const at::Tensor chunk = test.slice(0, start, start + options.chunk_size);
    auto [similarity, neighbour] = at::matmul(chunk, train.t()).topk(k, 1);
    const at::Tensor votes = at::zeros({chunk.size(0), num_classes}, similarity.options())
                                 .scatter_add_(1, train_y.index_select(0, neighbour.reshape(-1))
                                                      .reshape(neighbour.sizes()),
                                               (similarity / options.temperature).exp());
    predictions.push_back(votes.argmax(1));
  }
  KnnResult result;
  result.predictions = predictions.empty() ? at::empty({0}, at::kLong) : at::cat(predictions);
  const at::Tensor correct = result.predictions.eq(test_y).to(at::kDouble);
  result.top1 = correct.numel() ? correct.mean().item<double>() : 0.0;
  for (int64_t c = 0; c < num_classes; ++c) {
    const at::Tensor mask = test_y.eq(c);
    const int64_t count = mask.sum().item<int64_t>();
    result.per_class_top1.push_back(
        count ? correct.masked_select(mask).mean().item<double>() : -1.0);
  }
  return result;
}

}  // namespace mochi::eval
