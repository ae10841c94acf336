#include "eval/detection/matcher.h"

#include <algorithm>
#include <limits>
#include <string>
#include <tuple>
#include <utility>

#include "ATen/ATen.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "c10/util/StringUtil.h"

namespace mochi::eval::detection {

absl::StatusOr<Matcher> Matcher::Create(std::vector<double> thresholds, std::vector<int> labels,
                                        bool allow_low_quality_matches) {
  const std::string description =
      absl::StrCat("Matcher: thresholds {", absl::StrJoin(thresholds, ", "), "}, labels {",
                   absl::StrJoin(labels, ", "), "}: ");
  if (thresholds.empty() || !(thresholds[0] > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat(description, "need at least one threshold, the first > 0"));
  }
  for (size_t i = 1; i < thresholds.size(); ++i) {
    if (!(thresholds[i - 1] <= thresholds[i])) {
      return absl::InvalidArgumentError(absl::StrCat(description, "thresholds must not decrease"));
    }
  }
  if (labels.size() != thresholds.size() + 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(description, "need one label more than thresholds"));
  }
  for (int label : labels) {
    if (label < -1 || label > 1) {
      return absl::InvalidArgumentError(absl::StrCat(description, "labels must be -1, 0 or 1"));
    }
  }
  return Matcher(std::move(thresholds), std::move(labels), allow_low_quality_matches);
}

absl::StatusOr<Matcher::Result> Matcher::Match(const at::Tensor& quality) const {
  if (!quality.defined() || quality.dim() != 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("Matcher: quality must be [M, N] (ground truths x predictions), got ",
                     quality.defined() ? c10::str(quality.sizes()) : "undefined"));
  }
  const int64_t num_predictions = quality.size(1);
  const auto long_options = quality.options().dtype(at::kLong);
  const auto label_options = quality.options().dtype(at::kChar);
  Result result;
  if (quality.numel() == 0) {
    // No ground truth: IoU 0 everywhere, i.e. the lowest interval (usually background).
    result.matches = at::zeros({num_predictions}, long_options);
    result.labels = at::full({num_predictions}, labels_[0], label_options);
    return result;
  }
  if (!(quality >= 0).all().item<bool>()) {
    return absl::InvalidArgumentError("Matcher: quality values must be >= 0 (and not NaN)");
  }
  // max over dim 0 returns the first maximal index on ties.
  auto [best_quality, best_index] = quality.max(/*dim=*/0);
  result.matches = best_index;
  result.labels = at::ones({num_predictions}, label_options);
  const double infinity = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < labels_.size(); ++i) {
    const double low = i == 0 ? -infinity : thresholds_[i - 1];
    const double high = i == thresholds_.size() ? infinity : thresholds_[i];
    result.labels.masked_fill_((best_quality >= low) & (best_quality < high), labels_[i]);
  }
  if (allow_low_quality_matches_) {
    // [M, 1]: each ground truth's best quality; a prediction reaching it for any ground truth
    // (ties included) is positive.
    const at::Tensor best_per_truth = std::get<0>(quality.max(/*dim=*/1, /*keepdim=*/true));
    result.labels.masked_fill_((quality == best_per_truth).any(/*dim=*/0), 1);
  }
  return result;
}

absl::StatusOr<SampledIndices> SubsampleLabels(const at::Tensor& labels, int64_t num_samples,
                                               double positive_fraction, int64_t background_label,
                                               const at::Generator& generator) {
  if (!labels.defined() || labels.dim() != 1 ||
      !at::isIntegralType(labels.scalar_type(), /*includeBool=*/false)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SubsampleLabels: labels must be integer [N], got ",
        labels.defined() ? c10::str(labels.sizes(), " ", labels.scalar_type()) : "undefined"));
  }
  if (num_samples < 0 || !(positive_fraction >= 0 && positive_fraction <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("SubsampleLabels: num_samples = ", num_samples, " must be >= 0 and ",
                     "positive_fraction = ", positive_fraction, " in [0, 1]"));
  }
  if (!generator.defined()) {
    return absl::InvalidArgumentError("SubsampleLabels: undefined generator");
  }
  const at::Tensor positive =
      at::nonzero((labels != -1) & (labels != background_label)).reshape(-1);
  const at::Tensor negative = at::nonzero(labels == background_label).reshape(-1);
  // C++ truncation, as Python's int() of the (non-negative) product.
  const int64_t num_positive =
      std::min(positive.numel(), static_cast<int64_t>(num_samples * positive_fraction));
  const int64_t num_negative = std::min(negative.numel(), num_samples - num_positive);
  const auto on_generator = at::TensorOptions().dtype(at::kLong).device(generator.device());
  auto draw = [&](const at::Tensor& candidates, int64_t count) {
    const at::Tensor order = at::randperm(candidates.numel(), generator, on_generator);
    return candidates.index_select(0, order.slice(0, 0, count).to(candidates.device()));
  };
  // Positives first, then negatives: the same order of draws as detectron2.
  SampledIndices sampled;
  sampled.positive = draw(positive, num_positive);
  sampled.negative = draw(negative, num_negative);
  return sampled;
}

}  // namespace mochi::eval::detection
