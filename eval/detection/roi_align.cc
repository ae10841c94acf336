#include "eval/detection/roi_align.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ATen/ATen.h"
#include "ATen/Dispatch.h"
#include "ATen/Parallel.h"
#include "absl/strings/str_cat.h"
#include "c10/util/StringUtil.h"
#include "torch/csrc/autograd/custom_function.h"

namespace mochi::eval::detection {
namespace {

// One bilinear sample: its four neighbours as offsets into an H x W plane, with their weights.
template <typename T>
struct Sample {
  bool inside = false;  // false: the sample reads 0 (more than one pixel off the map)
  int64_t offset[4] = {0, 0, 0, 0};
  T weight[4] = {0, 0, 0, 0};
};

// Where one region's bins and samples lie on the feature map (feature-pixel units).
template <typename T>
struct RegionGrid {
  int64_t batch_index = 0;
  T start_y = 0, start_x = 0;
  T bin_height = 0, bin_width = 0;
  int64_t samples_y = 0, samples_x = 0;  // per bin side
  T count = 1;                           // samples per bin, at least 1 (the mean's divisor)
};

template <typename T>
RegionGrid<T> MakeGrid(const T* roi, const RoiAlignOptions& options) {
  const T offset = options.aligned ? T(0.5) : T(0);
  const T scale = static_cast<T>(options.spatial_scale);
  RegionGrid<T> grid;
  grid.batch_index = static_cast<int64_t>(roi[0]);
  grid.start_x = roi[1] * scale - offset;
  grid.start_y = roi[2] * scale - offset;
  T width = roi[3] * scale - offset - grid.start_x;
  T height = roi[4] * scale - offset - grid.start_y;
  if (!options.aligned) {  // the original layer's minimum region size
    width = std::max(width, T(1));
    height = std::max(height, T(1));
  }
  grid.bin_height = height / static_cast<T>(options.output_height);
  grid.bin_width = width / static_cast<T>(options.output_width);
  // !(bin > 0) also catches NaN, whose conversion to an integer is undefined.
  const auto adaptive = [](T bin) { return bin > 0 ? static_cast<int64_t>(std::ceil(bin)) : 0; };
  grid.samples_y = options.sampling_ratio > 0 ? options.sampling_ratio : adaptive(grid.bin_height);
  grid.samples_x = options.sampling_ratio > 0 ? options.sampling_ratio : adaptive(grid.bin_width);
  grid.count = static_cast<T>(std::max<int64_t>(grid.samples_y * grid.samples_x, 1));
  return grid;
}

template <typename T>
Sample<T> Bilinear(T y, T x, int64_t height, int64_t width) {
  Sample<T> sample;
  if (y < -1 || y > height || x < -1 || x > width) return sample;
  // Within one pixel of the map: read the border.
  y = std::max(y, T(0));
  x = std::max(x, T(0));
  int64_t y_low = static_cast<int64_t>(y);
  int64_t x_low = static_cast<int64_t>(x);
  int64_t y_high = y_low + 1;
  int64_t x_high = x_low + 1;
  if (y_low >= height - 1) {
    y_low = y_high = height - 1;
    y = static_cast<T>(y_low);
  }
  if (x_low >= width - 1) {
    x_low = x_high = width - 1;
    x = static_cast<T>(x_low);
  }
  const T ly = y - y_low, lx = x - x_low;
  const T hy = 1 - ly, hx = 1 - lx;
  sample.inside = true;
  sample.offset[0] = y_low * width + x_low;
  sample.offset[1] = y_low * width + x_high;
  sample.offset[2] = y_high * width + x_low;
  sample.offset[3] = y_high * width + x_high;
  sample.weight[0] = hy * hx;
  sample.weight[1] = hy * lx;
  sample.weight[2] = ly * hx;
  sample.weight[3] = ly * lx;
  return sample;
}

// All samples of one region, bin-major (bins row-major), then sub-grid row-major.
template <typename T>
void FillSamples(const RegionGrid<T>& grid, int64_t height, int64_t width,
                 const RoiAlignOptions& options, std::vector<Sample<T>>* samples) {
  samples->clear();
  for (int64_t by = 0; by < options.output_height; ++by) {
    for (int64_t bx = 0; bx < options.output_width; ++bx) {
      for (int64_t iy = 0; iy < grid.samples_y; ++iy) {
        const T y = grid.start_y + by * grid.bin_height +
                    static_cast<T>(iy + 0.5) * grid.bin_height / static_cast<T>(grid.samples_y);
        for (int64_t ix = 0; ix < grid.samples_x; ++ix) {
          const T x = grid.start_x + bx * grid.bin_width +
                      static_cast<T>(ix + 0.5) * grid.bin_width / static_cast<T>(grid.samples_x);
          samples->push_back(Bilinear(y, x, height, width));
        }
      }
    }
  }
}

// parallel_for grain (tasks per thread) for tasks of `bins_per_task` output bins each: about
// 32k bins (ATen's GRAIN_SIZE) per thread, so small problems (tests, tiny maps) stay on one
// thread, where starting a parallel region would cost more than the work.
int64_t GrainSize(int64_t bins_per_task) {
  constexpr int64_t kMinBinsPerThread = 32768;
  return std::max<int64_t>(1, kMinBinsPerThread / std::max<int64_t>(bins_per_task, 1));
}

struct FeatureShape {
  int64_t batch, channels, height, width;
};

// output [R, C, oh, ow] (contiguous) from input [N, C, H, W] (contiguous). Parallel over regions:
// each output element is written by exactly one thread.
template <typename T>
void ForwardKernel(const T* input, const FeatureShape& shape, const T* rois, int64_t num_rois,
                   const RoiAlignOptions& options, T* output) {
  const int64_t bins = options.output_height * options.output_width;
  const int64_t plane = shape.height * shape.width;
  const int64_t grain = GrainSize(shape.channels * bins);
  at::parallel_for(0, num_rois, grain, [&](int64_t begin, int64_t end) {
    std::vector<Sample<T>> samples;
    for (int64_t r = begin; r < end; ++r) {
      const RegionGrid<T> grid = MakeGrid(rois + 5 * r, options);
      FillSamples(grid, shape.height, shape.width, options, &samples);
      const int64_t per_bin = grid.samples_y * grid.samples_x;
      for (int64_t c = 0; c < shape.channels; ++c) {
        const T* in = input + (grid.batch_index * shape.channels + c) * plane;
        T* out = output + (r * shape.channels + c) * bins;
        for (int64_t bin = 0; bin < bins; ++bin) {
          T sum = 0;
          for (int64_t k = bin * per_bin; k < (bin + 1) * per_bin; ++k) {
            const Sample<T>& s = samples[k];
            if (!s.inside) continue;
            sum += s.weight[0] * in[s.offset[0]] + s.weight[1] * in[s.offset[1]] +
                   s.weight[2] * in[s.offset[2]] + s.weight[3] * in[s.offset[3]];
          }
          out[bin] = sum / grid.count;
        }
      }
    }
  });
}

// grad_input [N, C, H, W] (zeroed, contiguous) += the transpose of ForwardKernel applied to
// grad_output [R, C, oh, ow]. Parallel over channels, not regions: regions of one image overlap,
// channels never do, so no two threads write the same element and the summation order (region
// by region) does not depend on the thread count.
template <typename T>
void BackwardKernel(const T* grad_output, const FeatureShape& shape, const T* rois,
                    int64_t num_rois, const RoiAlignOptions& options, T* grad_input) {
  const int64_t bins = options.output_height * options.output_width;
  const int64_t plane = shape.height * shape.width;
  const int64_t grain = GrainSize(num_rois * bins);
  at::parallel_for(0, shape.channels, grain, [&](int64_t begin, int64_t end) {
    std::vector<Sample<T>> samples;
    for (int64_t r = 0; r < num_rois; ++r) {
      const RegionGrid<T> grid = MakeGrid(rois + 5 * r, options);
      FillSamples(grid, shape.height, shape.width, options, &samples);
      const int64_t per_bin = grid.samples_y * grid.samples_x;
      for (int64_t c = begin; c < end; ++c) {
        T* grad_in = grad_input + (grid.batch_index * shape.channels + c) * plane;
        const T* grad_out = grad_output + (r * shape.channels + c) * bins;
        for (int64_t bin = 0; bin < bins; ++bin) {
          const T g = grad_out[bin];
          for (int64_t k = bin * per_bin; k < (bin + 1) * per_bin; ++k) {
            const Sample<T>& s = samples[k];
            if (!s.inside) continue;
            for (int corner = 0; corner < 4; ++corner) {
              grad_in[s.offset[corner]] += g * s.weight[corner] / grid.count;
            }
          }
        }
      }
    }
  });
}

// The kernels run on host memory; other devices round-trip through it.
at::Tensor Forward(const at::Tensor& features, const at::Tensor& rois,
                   const RoiAlignOptions& options) {
  const at::Tensor input = features.cpu().contiguous();
  const at::Tensor boxes = rois.cpu().to(input.scalar_type()).contiguous();
  const FeatureShape shape{input.size(0), input.size(1), input.size(2), input.size(3)};
  at::Tensor output =
      at::empty({boxes.size(0), shape.channels, options.output_height, options.output_width},
                input.options());
  AT_DISPATCH_FLOATING_TYPES(input.scalar_type(), "RoiAlignForward", [&] {
    ForwardKernel<scalar_t>(input.data_ptr<scalar_t>(), shape, boxes.data_ptr<scalar_t>(),
                            boxes.size(0), options, output.data_ptr<scalar_t>());
  });
  return output.to(features.device());
}

at::Tensor Backward(const at::Tensor& grad_output, const at::Tensor& rois,
                    at::IntArrayRef feature_sizes, const RoiAlignOptions& options) {
  const at::Tensor grad_out = grad_output.cpu().contiguous();
  const at::Tensor boxes = rois.cpu().to(grad_out.scalar_type()).contiguous();
  const FeatureShape shape{feature_sizes[0], feature_sizes[1], feature_sizes[2], feature_sizes[3]};
  at::Tensor grad_input = at::zeros(feature_sizes, grad_out.options());
  AT_DISPATCH_FLOATING_TYPES(grad_out.scalar_type(), "RoiAlignBackward", [&] {
    BackwardKernel<scalar_t>(grad_out.data_ptr<scalar_t>(), shape, boxes.data_ptr<scalar_t>(),
                             boxes.size(0), options, grad_input.data_ptr<scalar_t>());
  });
  return grad_input.to(grad_output.device());
}

class RoiAlignFunction : public torch::autograd::Function<RoiAlignFunction> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& features,
                            const at::Tensor& rois, const RoiAlignOptions& options) {
    ctx->save_for_backward({rois});
    ctx->saved_data["feature_sizes"] = features.sizes().vec();
    ctx->saved_data["output_height"] = options.output_height;
    ctx->saved_data["output_width"] = options.output_width;
    ctx->saved_data["spatial_scale"] = options.spatial_scale;
    ctx->saved_data["sampling_ratio"] = options.sampling_ratio;
    ctx->saved_data["aligned"] = options.aligned;
    return Forward(features, rois, options);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    RoiAlignOptions options;
    options.output_height = ctx->saved_data["output_height"].toInt();
    options.output_width = ctx->saved_data["output_width"].toInt();
    options.spatial_scale = ctx->saved_data["spatial_scale"].toDouble();
    options.sampling_ratio = ctx->saved_data["sampling_ratio"].toInt();
    options.aligned = ctx->saved_data["aligned"].toBool();
    const std::vector<int64_t> feature_sizes = ctx->saved_data["feature_sizes"].toIntVector();
    const at::Tensor rois = ctx->get_saved_variables()[0];
    const at::Tensor grad_features = Backward(grad_outputs[0], rois, feature_sizes, options);
    // One gradient per forward argument: features, rois (none, as detectron2), options.
    return {grad_features, at::Tensor(), at::Tensor()};
  }
};

bool IsFloatOrDouble(const at::Tensor& t) {
  return t.scalar_type() == at::kFloat || t.scalar_type() == at::kDouble;
}

}  // namespace

absl::StatusOr<at::Tensor> RoiAlign(const at::Tensor& features, const at::Tensor& rois,
                                    const RoiAlignOptions& options) {
  if (!features.defined() || features.dim() != 4 || !IsFloatOrDouble(features)) {
    return absl::InvalidArgumentError(
        absl::StrCat("RoiAlign: features must be float or double [N, C, H, W], got ",
                     features.defined() ? c10::str(features.sizes(), " ", features.scalar_type())
                                        : "undefined"));
  }
  if (!rois.defined() || rois.dim() != 2 || rois.size(1) != 5 ||
      !at::isFloatingType(rois.scalar_type())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RoiAlign: rois must be floating [R, 5] (batch index, x1, y1, x2, y2), got ",
        rois.defined() ? c10::str(rois.sizes(), " ", rois.scalar_type()) : "undefined"));
  }
  if (rois.device() != features.device()) {
    return absl::InvalidArgumentError("RoiAlign: features and rois on different devices");
  }
  if (options.output_height <= 0 || options.output_width <= 0 || !(options.spatial_scale > 0) ||
      options.sampling_ratio < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("RoiAlign: need output size > 0, spatial_scale > 0, sampling_ratio >= 0; got ",
                     options.output_height, "x", options.output_width, ", ", options.spatial_scale,
                     ", ", options.sampling_ratio));
  }
  if (rois.size(0) > 0) {
    const at::Tensor batch_index = rois.select(1, 0);
    const double lowest = batch_index.min().item<double>();
    const double highest = batch_index.max().item<double>();
    if (!(lowest >= 0 && highest < features.size(0))) {  // negated: NaN fails too
      return absl::InvalidArgumentError(absl::StrCat("RoiAlign: batch indices in [", lowest, ", ",
                                                     highest, "] but N = ", features.size(0)));
    }
  }
  return RoiAlignFunction::apply(features, rois.detach(), options);
}

}  // namespace mochi::eval::detection
