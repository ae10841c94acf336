#include "eval/detection/mask_ops.h"

#include "ATen/ATen.h"
#include "absl/strings/str_cat.h"
#include "eval/detection/roi_align.h"
#include "mochi/port/status_macros.h"
#include "mochi/port/torch_status.h"

namespace mochi::eval::detection {
namespace {

absl::Status CheckBoxes(const at::Tensor& boxes, int64_t count, const char* what) {
  if (boxes.dim() != 2 || boxes.size(1) != 4 || boxes.size(0) != count) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": boxes must be [", count, ", 4], got ", c10::str(boxes.sizes())));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<at::Tensor> CropAndResizeMasks(const at::Tensor& masks, const at::Tensor& mask_index,
                                              const at::Tensor& boxes, int64_t side) {
  if (masks.dim() != 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("CropAndResizeMasks: masks must be [G, H, W], got ", c10::str(masks.sizes())));
  }
  if (mask_index.dim() != 1) {
    return absl::InvalidArgumentError("CropAndResizeMasks: mask_index must be [S]");
  }
  MOCHI_RETURN_IF_ERROR(CheckBoxes(boxes, mask_index.size(0), "CropAndResizeMasks"));
  if (side <= 0) return absl::InvalidArgumentError("CropAndResizeMasks: side must be > 0");
  if (mask_index.size(0) == 0) return at::zeros({0, side, side}, masks.options().dtype(at::kFloat));
  // RoiAlign checks that every index lies in [0, G) and names the bad one.
  RoiAlignOptions options;
  options.output_height = side;
  options.output_width = side;
  options.spatial_scale = 1;
  options.sampling_ratio = 0;
  options.aligned = true;
  at::Tensor rois;
  MOCHI_RETURN_IF_ERROR(TorchToStatus("CropAndResizeMasks", [&] {
    rois =
        at::cat({mask_index.to(boxes.device(), at::kFloat).unsqueeze(1), boxes.to(at::kFloat)}, 1);
  }));
  MOCHI_ASSIGN_OR_RETURN(at::Tensor pooled,
                         RoiAlign(masks.to(at::kFloat).unsqueeze(1).detach(), rois, options));
  return (pooled.squeeze(1) >= 0.5).to(at::kFloat);
}

absl::StatusOr<at::Tensor> PasteMasks(const at::Tensor& masks, const at::Tensor& boxes,
                                      int64_t height, int64_t width, double threshold) {
  if (masks.dim() != 3 || masks.size(1) != masks.size(2)) {
    return absl::InvalidArgumentError(
        absl::StrCat("PasteMasks: masks must be [D, M, M], got ", c10::str(masks.sizes())));
  }
  MOCHI_RETURN_IF_ERROR(CheckBoxes(boxes, masks.size(0), "PasteMasks"));
  if (height <= 0 || width <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("PasteMasks: image size ", height, " x ", width, " is empty"));
  }
  if (masks.size(0) == 0) return at::zeros({0, height, width}, masks.options().dtype(at::kByte));
  at::Tensor out;
  MOCHI_RETURN_IF_ERROR(TorchToStatus("PasteMasks", [&] {
    const int64_t d = masks.size(0);
    const at::Tensor b = boxes.to(masks.device(), at::kFloat);
    const at::Tensor x0 = b.select(1, 0).view({d, 1});
    const at::Tensor y0 = b.select(1, 1).view({d, 1});
    const at::Tensor box_w = (b.select(1, 2) - b.select(1, 0)).view({d, 1});
    const at::Tensor box_h = (b.select(1, 3) - b.select(1, 1)).view({d, 1});
    const at::TensorOptions f = masks.options().dtype(at::kFloat);
    // Pixel centres in the box frame's [-1, 1] (grid_sample, align_corners = false).
    const at::Tensor grid_x =
        ((at::arange(width, f).view({1, width}) + 0.5 - x0) / box_w.clamp_min(1e-6)) * 2 - 1;
    const at::Tensor grid_y =
        ((at::arange(height, f).view({1, height}) + 0.5 - y0) / box_h.clamp_min(1e-6)) * 2 - 1;
    const at::Tensor grid = at::stack({grid_x.view({d, 1, width}).expand({d, height, width}),
                                       grid_y.view({d, height, 1}).expand({d, height, width})},
                                      3);
    const at::Tensor resampled =
        at::grid_sampler(masks.to(at::kFloat).unsqueeze(1), grid, /*interpolation_mode=*/0,
                         /*padding_mode=*/0, /*align_corners=*/false)
            .squeeze(1);
    const at::Tensor non_empty = ((box_w > 0) & (box_h > 0)).view({d, 1, 1});
    out = ((resampled >= threshold) & non_empty).to(at::kByte);
  }));
  return out;
}

}  // namespace mochi::eval::detection
