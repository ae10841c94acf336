// Anchors for one feature map, as detectron2's DefaultAnchorGenerator (Faster R-CNN's RPN).
//
// Each feature-map cell (i, j) gets the same cell anchors, shifted to
// ((j + offset) * stride, (i + offset) * stride). A cell anchor of size s and aspect ratio a
// (height / width) has area s^2: width sqrt(s^2 / a), height a * width, centred at (0, 0). The
// C4 recipes use one map (res4, stride 16), sizes (32, 64, 128, 256, 512), ratios (0.5, 1, 2)
// and offset 0 (detectron2's MODEL.ANCHOR_GENERATOR defaults): 15 anchors per cell.
//
// Example:
//   MOCHI_ASSIGN_OR_RETURN(AnchorGenerator generator, AnchorGenerator::Create({}));
//   MOCHI_ASSIGN_OR_RETURN(at::Tensor anchors,
//                          generator.GridAnchors(res4.size(2), res4.size(3), res4.device()));
#ifndef EVAL_DETECTION_ANCHORS_H_
#define EVAL_DETECTION_ANCHORS_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "ATen/core/Tensor.h"
#include "absl/status/statusor.h"
#include "c10/core/Device.h"

namespace mochi::eval::detection {

struct AnchorGeneratorOptions {
  std::vector<double> sizes = {32, 64, 128, 256, 512};  // sqrt(area), in image pixels
  std::vector<double> aspect_ratios = {0.5, 1, 2};      // height / width
  double stride = 16;                                   // image pixels per feature-map cell
  double offset = 0;  // the first anchor centre is at (offset, offset) * stride; in [0, 1)
};

// AnchorGenerator: the cell anchors are computed once, by Create; GridAnchors tiles them.
class AnchorGenerator {
 public:
  // InvalidArgument on empty or non-positive sizes / aspect ratios, stride <= 0, or an offset
  // outside [0, 1).
  static absl::StatusOr<AnchorGenerator> Create(const AnchorGeneratorOptions& options);

  // Anchors per feature-map cell: |sizes| x |aspect_ratios|.
  int64_t num_cell_anchors() const { return cell_anchors_.size(0); }

  // The cell anchors: float32 [A, 4] XYXY centred at (0, 0) on the CPU, size-major (row
  // s * |aspect_ratios| + r has size s and ratio r).
  const at::Tensor& cell_anchors() const { return cell_anchors_; }

  // GridAnchors: float32 [H * W * A, 4] XYXY on `device` for a grid_height x grid_width map.
  // Rows are cell-major (cells row-major: y, then x), then cell anchor: row (i * W + j) * A + a
  // is cell anchor a at cell (i, j). That is the order of an RPN head's [N, A, H, W] output
  // permuted to [N, H, W, A] and flattened. InvalidArgument on a negative grid size.
  absl::StatusOr<at::Tensor> GridAnchors(int64_t grid_height, int64_t grid_width,
                                         c10::Device device = c10::kCPU) const;

  const AnchorGeneratorOptions& options() const { return options_; }

 private:
  AnchorGenerator(const AnchorGeneratorOptions& options, at::Tensor cell_anchors)
      : options_(options), cell_anchors_(std::move(cell_anchors)) {}

  AnchorGeneratorOptions options_;
  at::Tensor cell_anchors_;
};

}  // namespace mochi::eval::detection

#endif  // EVAL_DETECTION_ANCHORS_H_
