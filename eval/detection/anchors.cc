#include "eval/detection/anchors.h"

#include <cmath>
#include <utility>

#include "ATen/ATen.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace mochi::eval::detection {

absl::StatusOr<AnchorGenerator> AnchorGenerator::Create(const AnchorGeneratorOptions& options) {
  auto all_positive = [](const std::vector<double>& values) {
    if (values.empty()) return false;
    for (double v : values) {
      if (!(v > 0)) return false;  // negated: NaN fails too
    }
    return true;
  };
  if (!all_positive(options.sizes) || !all_positive(options.aspect_ratios)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "AnchorGenerator: sizes {", absl::StrJoin(options.sizes, ", "), "} and aspect_ratios {",
        absl::StrJoin(options.aspect_ratios, ", "), "} must be non-empty and > 0"));
  }
  if (!(options.stride > 0) || !(options.offset >= 0 && options.offset < 1)) {
    return absl::InvalidArgumentError(absl::StrCat("AnchorGenerator: stride = ", options.stride,
                                                   " must be > 0 and offset = ", options.offset,
                                                   " in [0, 1)"));
  }
  // Computed in double and stored as float32, as detectron2 (Python floats, then .float()).
  std::vector<double> corners;
  for (double size : options.sizes) {
    for (double ratio : options.aspect_ratios) {
      const double width = std::sqrt(size * size / ratio);
      const double height = ratio * width;
      corners.insert(corners.end(), {-width / 2, -height / 2, width / 2, height / 2});
    }
  }
  const int64_t count = static_cast<int64_t>(corners.size() / 4);
  at::Tensor cell_anchors = at::tensor(corners, at::kDouble).reshape({count, 4}).to(at::kFloat);
  return AnchorGenerator(options, std::move(cell_anchors));
}

absl::StatusOr<at::Tensor> AnchorGenerator::GridAnchors(int64_t grid_height, int64_t grid_width,
                                                        c10::Device device) const {
  if (grid_height < 0 || grid_width < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("GridAnchors: grid ", grid_height, "x", grid_width, " must be non-negative"));
  }
  // Cell centres computed in double and rounded once to float32, as detectron2's
  // arange(offset * stride, cells * stride, step=stride, dtype=float32).
  const auto double_options = at::TensorOptions().dtype(at::kDouble).device(device);
  auto centres = [&](int64_t cells) {
    return (at::arange(cells, double_options) * options_.stride + options_.offset * options_.stride)
        .to(at::kFloat);
  };
  const at::Tensor x = centres(grid_width).unsqueeze(0).expand({grid_height, grid_width});
  const at::Tensor y = centres(grid_height).unsqueeze(1).expand({grid_height, grid_width});
  const at::Tensor shift_x = x.reshape(-1);
  const at::Tensor shift_y = y.reshape(-1);
  const at::Tensor shifts = at::stack({shift_x, shift_y, shift_x, shift_y}, 1);  // [H * W, 4]
  return (shifts.unsqueeze(1) + cell_anchors_.to(device).unsqueeze(0)).reshape({-1, 4});
}

}  // namespace mochi::eval::detection
