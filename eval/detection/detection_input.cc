#include "eval/detection/detection_input.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "ATen/ATen.h"
#include "absl/strings/str_cat.h"
#include "eval/coco/mask.h"
#include "eval/detection/voc_dataset.h"
#include "mochi/port/status_macros.h"
#include "mochi/port/torch_status.h"

namespace mochi::eval::detection {
namespace {

// detectron2 ResizeShortestEdge.get_output_shape.
std::pair<int64_t, int64_t> ResizedShape(int64_t height, int64_t width, int min_size,
                                         int max_size) {
  double scale = static_cast<double>(min_size) / std::min(height, width);
  if (std::max(height, width) * scale > max_size) {
    scale = static_cast<double>(max_size) / std::max(height, width);
  }
  return {static_cast<int64_t>(height * scale + 0.5), static_cast<int64_t>(width * scale + 0.5)};
}

// Mask of `rle` as a float [H, W] tensor of 0 / 1.
at::Tensor MaskTensor(const coco::Rle& rle) {
  coco::BinaryMask mask = coco::DecodeRle(rle);
  return at::from_blob(mask.pixels.data(),
                       {static_cast<int64_t>(mask.height), static_cast<int64_t>(mask.width)},
                       at::kByte)
      .to(at::kFloat);
}

}  // namespace

absl::StatusOr<DetectionInput> LoadDetectionInput(const DetectionRecord& record, int channels,
                                                  int min_size, int max_size, bool flip) {
  MOCHI_ASSIGN_OR_RETURN(DecodedImage decoded, DecodeImageFile(record.image_path, channels));
  for (const coco::Rle& rle : record.masks) {
    if (rle.height != static_cast<uint32_t>(decoded.height) ||
        rle.width != static_cast<uint32_t>(decoded.width)) {
      return absl::InvalidArgumentError(absl::StrCat(record.image_path, ": a mask of ", rle.height,
                                                     " x ", rle.width, " on an image of ",
                                                     decoded.height, " x ", decoded.width));
    }
  }
  DetectionInput input;
  MOCHI_RETURN_IF_ERROR(TorchToStatus(record.image_path, [&] {
    at::Tensor image = at::from_blob(decoded.pixels.data(),
                                     {decoded.height, decoded.width, decoded.channels}, at::kByte)
                           .permute({2, 0, 1})
                           .to(at::kFloat);  // [C, H, W], owns its memory
    const auto [height, width] = ResizedShape(decoded.height, decoded.width, min_size, max_size);
    if (height != decoded.height || width != decoded.width) {
      // PIL's bilinear resize (detectron2) antialiases when shrinking; so does this.
      image = at::_upsample_bilinear2d_aa(image.unsqueeze(0), {height, width},
                                          /*align_corners=*/false)
                  .squeeze(0)
                  .clamp(0, 255);
    }
    input.scale_x = static_cast<double>(width) / decoded.width;
    input.scale_y = static_cast<double>(height) / decoded.height;
    input.original_height = decoded.height;
    input.original_width = decoded.width;
    const int64_t g = static_cast<int64_t>(record.boxes.size());
    std::vector<float> flat;
    for (const std::array<float, 4>& box : record.boxes)
      flat.insert(flat.end(), box.begin(), box.end());
    at::Tensor boxes =
        at::tensor(flat, at::kFloat).view({g, 4}) *
        at::tensor({input.scale_x, input.scale_y, input.scale_x, input.scale_y}, at::kDouble)
            .to(at::kFloat);
    at::Tensor masks;
    if (!record.masks.empty()) {
      std::vector<at::Tensor> planes;
      for (const coco::Rle& rle : record.masks) planes.push_back(MaskTensor(rle));
      // detectron2 resizes bitmask annotations with PIL's NEAREST, i.e. nearest-exact.
      masks =
          at::_upsample_nearest_exact2d(at::stack(planes).unsqueeze(0), {height, width}).squeeze(0);
    }
    if (flip) {
      image = image.flip({2});
      if (masks.defined()) masks = masks.flip({2});
      boxes = at::stack({width - boxes.select(1, 2), boxes.select(1, 1), width - boxes.select(1, 0),
                         boxes.select(1, 3)},
                        1);
    }
    input.image = image.contiguous();
    input.targets.boxes = boxes;
    input.targets.classes = at::tensor(record.classes, at::kLong);
    if (masks.defined()) input.targets.masks = masks.contiguous();
  }));
  return input;
}

}  // namespace mochi::eval::detection
