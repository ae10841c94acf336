#include "eval/detection/detection_inference.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "ATen/ATen.h"
#include "ATen/core/grad_mode.h"
#include "eval/coco/mask.h"
#include "eval/detection/detection_input.h"
#include "eval/detection/mask_ops.h"
#include "mochi/port/status_macros.h"

namespace mochi::eval::detection {
namespace {

// The COCO compressed RLE string of a uint8 [H, W] mask.
std::string MaskCounts(const at::Tensor& pixels) {
  const at::Tensor contiguous = pixels.to(at::kCPU, at::kByte).contiguous();
  coco::BinaryMask mask;
  mask.height = static_cast<uint32_t>(contiguous.size(0));
  mask.width = static_cast<uint32_t>(contiguous.size(1));
  mask.pixels.assign(contiguous.data_ptr<uint8_t>(),
                     contiguous.data_ptr<uint8_t>() + contiguous.numel());
  return coco::EncodeRleCounts(coco::EncodeMask(mask));
}

}  // namespace

absl::StatusOr<std::vector<ImageDetections>> DetectRecords(
    FasterRcnn& model, const std::vector<DetectionRecord>& records, int channels, int min_size,
    int max_size, int batch_size) {
  torch::NoGradGuard no_grad;
  std::vector<ImageDetections> out;
  for (size_t start = 0; start < records.size(); start += batch_size) {
    const size_t end = std::min(records.size(), start + static_cast<size_t>(batch_size));
    std::vector<at::Tensor> images;
    std::vector<DetectionInput> inputs;
    for (size_t i = start; i < end; ++i) {
      // Test images are scored by the evaluator's reader, not by their in-memory masks.
      DetectionRecord record = records[i];
      record.masks.clear();
      MOCHI_ASSIGN_OR_RETURN(DetectionInput input,
                             LoadDetectionInput(record, channels, min_size, max_size, false));
      images.push_back(input.image);
      inputs.push_back(std::move(input));
    }
    MOCHI_ASSIGN_OR_RETURN(std::vector<Detections> detections, model->Detect(images));
    for (size_t i = start; i < end; ++i) {
      const Detections& d = detections[i - start];
      const at::Tensor boxes = d.boxes.to(at::kCPU, at::kFloat).contiguous();
      const at::Tensor scores = d.scores.to(at::kCPU, at::kFloat).contiguous();
      const at::Tensor classes = d.classes.to(at::kCPU, at::kLong).contiguous();
      const DetectionInput& input = inputs[i - start];
      ImageDetections image{records[i].image_id, {}, input.original_height, input.original_width};
      const double sx = input.scale_x;
      const double sy = input.scale_y;
      for (int64_t k = 0; k < boxes.size(0); ++k) {
        const float* b = boxes.data_ptr<float>() + 4 * k;
        image.boxes.push_back({classes.data_ptr<int64_t>()[k], scores.data_ptr<float>()[k],
                               static_cast<float>(b[0] / sx), static_cast<float>(b[1] / sy),
                               static_cast<float>(b[2] / sx), static_cast<float>(b[3] / sy)});
      }
      if (d.masks.defined()) {
        // detector_postprocess: boxes back to the original image, masks pasted there.
        const at::Tensor original_boxes =
            boxes / at::tensor({sx, sy, sx, sy}, at::kDouble).to(at::kFloat);
        MOCHI_ASSIGN_OR_RETURN(at::Tensor pasted,
                               PasteMasks(d.masks.to(at::kCPU), original_boxes,
                                          input.original_height, input.original_width));
        for (int64_t k = 0; k < pasted.size(0); ++k) {
          image.boxes[k].mask_counts = MaskCounts(pasted[k]);
        }
      }
      out.push_back(std::move(image));
    }
  }
  return out;
}

}  // namespace mochi::eval::detection
