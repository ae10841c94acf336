#include "eval/detection/nms.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "ATen/ATen.h"
#include "ATen/Dispatch.h"
#include "absl/strings/str_cat.h"
#include "c10/util/StringUtil.h"
#include "eval/detection/boxes.h"
#include "mochi/port/status_macros.h"

namespace mochi::eval::detection {
namespace {

// The greedy loop over boxes already sorted by decreasing score. `categories` is null for plain
// NMS. Returns positions in the sorted order.
template <typename T>
std::vector<int64_t> GreedySuppress(const T* boxes, const int64_t* categories, int64_t count,
                                    double iou_threshold) {
  std::vector<T> area(count);
  for (int64_t i = 0; i < count; ++i) {
    const T* b = boxes + 4 * i;
    area[i] = (b[2] - b[0]) * (b[3] - b[1]);
  }
  std::vector<uint8_t> suppressed(count, 0);
  std::vector<int64_t> kept;
  for (int64_t i = 0; i < count; ++i) {
    if (suppressed[i]) continue;
    kept.push_back(i);
    const T* a = boxes + 4 * i;
    for (int64_t j = i + 1; j < count; ++j) {
      if (suppressed[j] || (categories != nullptr && categories[j] != categories[i])) continue;
      const T* b = boxes + 4 * j;
      const T width = std::max<T>(0, std::min(a[2], b[2]) - std::max(a[0], b[0]));
      const T height = std::max<T>(0, std::min(a[3], b[3]) - std::max(a[1], b[1]));
      const T intersection = width * height;
      // 0 / 0 for two empty boxes is NaN, which compares false: they do not suppress.
      const T iou = intersection / (area[i] + area[j] - intersection);
      if (iou > iou_threshold) suppressed[j] = 1;
    }
  }
  return kept;
}

absl::StatusOr<at::Tensor> RunNms(const at::Tensor& boxes, const at::Tensor& scores,
                                  const at::Tensor* categories, double iou_threshold) {
  MOCHI_RETURN_IF_ERROR(ValidateBoxes(boxes, "Nms"));
  const int64_t n = boxes.size(0);
  if (!scores.defined() || scores.dim() != 1 || scores.size(0) != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("Nms: scores must be [", n, "], got ",
                     scores.defined() ? c10::str(scores.sizes()) : "undefined"));
  }
  if (categories != nullptr &&
      (!categories->defined() || categories->dim() != 1 || categories->size(0) != n ||
       !at::isIntegralType(categories->scalar_type(), /*includeBool=*/false))) {
    return absl::InvalidArgumentError(
        absl::StrCat("BatchedNms: categories must be integer [", n, "]"));
  }
  if (scores.device() != boxes.device() ||
      (categories != nullptr && categories->device() != boxes.device())) {
    return absl::InvalidArgumentError("Nms: boxes, scores and categories on different devices");
  }
  const at::Device device = boxes.device();
  // Stable: equal scores keep increasing index order.
  const at::Tensor order =
      std::get<1>(at::sort(scores.detach().cpu(), /*stable=*/true, /*dim=*/0, /*descending=*/true));
  const at::ScalarType dtype = boxes.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  const at::Tensor sorted_boxes =
      boxes.detach().cpu().to(dtype).index_select(0, order).contiguous();
  at::Tensor sorted_categories;
  if (categories != nullptr) {
    sorted_categories = categories->cpu().to(at::kLong).index_select(0, order).contiguous();
  }
  std::vector<int64_t> kept;
  AT_DISPATCH_FLOATING_TYPES(dtype, "Nms", [&] {
    kept = GreedySuppress<scalar_t>(
        sorted_boxes.data_ptr<scalar_t>(),
        categories != nullptr ? sorted_categories.data_ptr<int64_t>() : nullptr, n, iou_threshold);
  });
  const at::Tensor positions = at::tensor(kept, at::kLong);
  return order.index_select(0, positions).to(device);
}

}  // namespace

absl::StatusOr<at::Tensor> Nms(const at::Tensor& boxes, const at::Tensor& scores,
                               double iou_threshold) {
  return RunNms(boxes, scores, nullptr, iou_threshold);
}

absl::StatusOr<at::Tensor> BatchedNms(const at::Tensor& boxes, const at::Tensor& scores,
                                      const at::Tensor& categories, double iou_threshold) {
  return RunNms(boxes, scores, &categories, iou_threshold);
}

}  // namespace mochi::eval::detection
