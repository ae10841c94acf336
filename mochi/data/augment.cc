#include "mochi/data/augment.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "ATen/Functions.h"
#include "ATen/TensorOperators.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "c10/util/Exception.h"

namespace mochi::data {
namespace {

// Stage ids for the per-stage generators Rng(MixSeed(seed, stage)).
enum Stage : uint64_t {
  kStageCrop = 1,
  kStageTint = 2,
  kStageJitter = 3,
  kStageGrayscale = 4,
  kStageBlur = 5,
  kStageFlip = 6,
};

constexpr double kLumaR = 0.299;
constexpr double kLumaG = 0.587;
constexpr double kLumaB = 0.114;

// torchvision _blend: (factor * a + (1 - factor) * b).clamp(0, 1).
at::Tensor Blend(const at::Tensor& a, const at::Tensor& b, double factor) {
  return (a * factor).add_(b, 1.0 - factor).clamp_(0.0, 1.0);
}

absl::Status Invalid(absl::string_view name, double value, absl::string_view requirement) {
  return absl::InvalidArgumentError(
      absl::StrCat("AugmentOptions.", name, " = ", value, ": must be ", requirement));
}

absl::Status CheckProbability(absl::string_view name, double p) {
  if (!(p >= 0.0 && p <= 1.0)) return Invalid(name, p, "in [0, 1]");
  return absl::OkStatus();
}

at::Tensor ChannelTensor(const std::vector<float>& values) {
  at::Tensor t = at::empty({static_cast<int64_t>(values.size()), 1, 1}, at::kFloat);
  float* data = t.data_ptr<float>();
  for (size_t i = 0; i < values.size(); ++i) data[i] = values[i];
  return t;
}

// uint8 [C, H, W] (any strides) -> float [C, H, W] in [0, 1], as convert_image_dtype.
at::Tensor ToUnitFloat(const at::Tensor& image_uint8) {
  return image_uint8.to(at::kFloat).div_(255.0);
}

// Bilinear resize of float [C, H, W] to [C, out_h, out_w] (align_corners=false, no antialias).
at::Tensor Resize(const at::Tensor& img, int64_t out_h, int64_t out_w) {
  if (img.size(1) == out_h && img.size(2) == out_w) return img;
  return at::upsample_bilinear2d(img.unsqueeze(0), {out_h, out_w}, /*align_corners=*/false)
      .squeeze(0);
}

void CheckImage(const at::Tensor& image, const char* what) {
  TORCH_CHECK(image.defined() && image.dim() == 3, what, ": expected a [C, H, W] image, got ",
              image.defined() ? image.sizes() : at::IntArrayRef{});
  TORCH_CHECK(image.scalar_type() == at::kByte, what, ": expected uint8, got ",
              image.scalar_type());
  TORCH_CHECK(image.size(1) > 0 && image.size(2) > 0, what, ": empty image ", image.sizes());
}

// Index of sample `i` in [0, n) under torch's "reflect" padding (the edge is not repeated);
// valid for -n < i < 2n - 1.
int64_t Reflect(int64_t i, int64_t n) {
  if (i < 0) return -i;
  if (i >= n) return 2 * (n - 1) - i;
  return i;
}

// One channel plane [h, w], blurred by `kernel` along rows then columns, reflect padding.
// Each tap is an axpy over a contiguous row, so the inner loops vectorise (the library builds
// with -O3): K multiply-adds per pixel and pass, against h + w for the banded-matrix GEMMs this
// replaced (224 px, K = 23: 0.7 against 1.4 ms per 3-channel image on one core). Each output
// sums its taps in kernel order, whatever the vector width.
void BlurPlane(const float* in, float* out, int64_t h, int64_t w, const std::vector<float>& kernel,
               std::vector<float>& padded, std::vector<float>& rows) {
  const int64_t taps = static_cast<int64_t>(kernel.size());
  const int64_t pad = taps / 2;
  padded.resize(w + 2 * pad);
  rows.resize(h * w);
  for (int64_t y = 0; y < h; ++y) {
    const float* src = in + y * w;
    for (int64_t x = -pad; x < w + pad; ++x) padded[x + pad] = src[Reflect(x, w)];
    float* dst = rows.data() + y * w;
    std::fill(dst, dst + w, 0.f);
    for (int64_t t = 0; t < taps; ++t) {
      const float k = kernel[t];
      const float* __restrict__ shifted = padded.data() + t;
      float* __restrict__ acc = dst;
      for (int64_t x = 0; x < w; ++x) acc[x] += k * shifted[x];
    }
  }
  for (int64_t y = 0; y < h; ++y) {
    float* dst = out + y * w;
    std::fill(dst, dst + w, 0.f);
    for (int64_t t = 0; t < taps; ++t) {
      const float k = kernel[t];
      const float* __restrict__ src = rows.data() + Reflect(y + t - pad, h) * w;
      float* __restrict__ acc = dst;
      for (int64_t x = 0; x < w; ++x) acc[x] += k * src[x];
    }
  }
}

}  // namespace

int OutputChannels(const AugmentOptions& options, int input_channels) {
  if (input_channels == 1 && options.grayscale_input != GrayscaleInput::kKeepGray) return 3;
  return input_channels;
}

int BlurKernelSize(double fraction, int crop_size) {
  const double target = fraction * crop_size;
  // Odd numbers are 2m + 1; the nearest to target has m = floor(target / 2).
  int size = 2 * static_cast<int>(std::floor(target / 2.0)) + 1;
  return size < 3 ? 3 : size;
}

CropBox SampleResizedCropBox(int64_t height, int64_t width, const AugmentOptions& options,
                             Rng& rng) {
  const double area = static_cast<double>(height) * static_cast<double>(width);
  const double log_ratio_min = std::log(options.ratio_min);
  const double log_ratio_max = std::log(options.ratio_max);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target_area = area * rng.Uniform(options.scale_min, options.scale_max);
    const double aspect_ratio = std::exp(rng.Uniform(log_ratio_min, log_ratio_max));
    const int64_t w = std::llround(std::sqrt(target_area * aspect_ratio));
    const int64_t h = std::llround(std::sqrt(target_area / aspect_ratio));
    if (0 < w && w <= width && 0 < h && h <= height) {
      CropBox box;
      box.height = h;
      box.width = w;
      box.top = rng.UniformInt(height - h + 1);
      box.left = rng.UniformInt(width - w + 1);
      return box;
    }
  }
  // Fallback: the whole image, centre-cropped to the ratio range.
  const double in_ratio = static_cast<double>(width) / static_cast<double>(height);
  CropBox box;
  if (in_ratio < options.ratio_min) {
    box.width = width;
    box.height = std::llround(static_cast<double>(width) / options.ratio_min);
  } else if (in_ratio > options.ratio_max) {
    box.height = height;
    box.width = std::llround(static_cast<double>(height) * options.ratio_max);
  } else {
    box.width = width;
    box.height = height;
  }
  box.top = (height - box.height) / 2;
  box.left = (width - box.width) / 2;
  return box;
}

absl::StatusOr<Augmenter> Augmenter::Create(AugmentOptions options, int input_channels) {
  if (input_channels != 1 && input_channels != 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("Augmenter: input_channels = ", input_channels, ": must be 1 or 3"));
  }
  const AugmentOptions& o = options;
  if (o.crop_size <= 0) return Invalid("crop_size", o.crop_size, "> 0");
  if (!(o.scale_min > 0.0)) return Invalid("scale_min", o.scale_min, "> 0");
  if (!(o.scale_max >= o.scale_min && o.scale_max <= 1.0)) {
    return Invalid("scale_max", o.scale_max, "in [scale_min, 1]");
  }
  if (!(o.ratio_min > 0.0)) return Invalid("ratio_min", o.ratio_min, "> 0");
  if (!(o.ratio_max >= o.ratio_min && std::isfinite(o.ratio_max))) {
    return Invalid("ratio_max", o.ratio_max, ">= ratio_min and finite");
  }
  if (absl::Status s = CheckProbability("color_jitter_prob", o.color_jitter_prob); !s.ok()) {
    return s;
  }
  if (!(o.brightness >= 0.0 && std::isfinite(o.brightness))) {
    return Invalid("brightness", o.brightness, ">= 0");
  }
  if (!(o.contrast >= 0.0 && std::isfinite(o.contrast))) {
    return Invalid("contrast", o.contrast, ">= 0");
  }
  if (!(o.saturation >= 0.0 && std::isfinite(o.saturation))) {
    return Invalid("saturation", o.saturation, ">= 0");
  }
  if (!(o.hue >= 0.0 && o.hue <= 0.5)) return Invalid("hue", o.hue, "in [0, 0.5]");
  if (absl::Status s = CheckProbability("grayscale_prob", o.grayscale_prob); !s.ok()) return s;
  if (absl::Status s = CheckProbability("blur_prob", o.blur_prob); !s.ok()) return s;
  if (!(o.blur_sigma_min > 0.0)) return Invalid("blur_sigma_min", o.blur_sigma_min, "> 0");
  if (!(o.blur_sigma_max >= o.blur_sigma_min && std::isfinite(o.blur_sigma_max))) {
    return Invalid("blur_sigma_max", o.blur_sigma_max, ">= blur_sigma_min and finite");
  }
  if (!(o.blur_kernel_fraction >= 0.0 && o.blur_kernel_fraction <= 1.0)) {
    return Invalid("blur_kernel_fraction", o.blur_kernel_fraction, "in [0, 1]");
  }
  const int kernel_size = BlurKernelSize(o.blur_kernel_fraction, o.crop_size);
  if (o.blur_prob > 0.0 && kernel_size / 2 >= o.crop_size) {
    return Invalid("crop_size", o.crop_size,
                   absl::StrCat("> blur kernel half-width ", kernel_size / 2,
                                " (reflect padding); lower blur_prob or enlarge the crop"));
  }
  if (absl::Status s = CheckProbability("flip_prob", o.flip_prob); !s.ok()) return s;
  switch (o.grayscale_input) {
    case GrayscaleInput::kKeepGray:
    case GrayscaleInput::kReplicateRgb:
    case GrayscaleInput::kRandomTint:
      break;
    default:
      return Invalid("grayscale_input", static_cast<int>(o.grayscale_input), "a GrayscaleInput");
  }
  const int out_channels = OutputChannels(o, input_channels);
  if (static_cast<int>(o.mean.size()) != out_channels) {
    return Invalid("mean.size()", static_cast<double>(o.mean.size()),
                   absl::StrCat("the output channel count ", out_channels));
  }
  if (static_cast<int>(o.std.size()) != out_channels) {
    return Invalid("std.size()", static_cast<double>(o.std.size()),
                   absl::StrCat("the output channel count ", out_channels));
  }
  for (size_t i = 0; i < o.std.size(); ++i) {
    if (!(o.std[i] > 0.0f)) {
      return Invalid(absl::StrCat("std[", i, "]"), o.std[i], "> 0");
    }
  }
  at::Tensor mean = ChannelTensor(o.mean);
  at::Tensor std = ChannelTensor(o.std);
  return Augmenter(std::move(options), input_channels, std::move(mean), std::move(std));
}

Augmenter::Augmenter(AugmentOptions options, int input_channels, at::Tensor mean,
                     at::Tensor std)
    : options_(std::move(options)),
      input_channels_(input_channels),
      output_channels_(OutputChannels(options_, input_channels)),
      blur_kernel_size_(BlurKernelSize(options_.blur_kernel_fraction, options_.crop_size)),
      mean_(std::move(mean)),
      std_(std::move(std)) {}

at::Tensor Augmenter::Apply(const at::Tensor& image, uint64_t seed) const {
  CheckImage(image, "Augmenter::Apply");
  TORCH_CHECK(image.size(0) == input_channels_, "Augmenter::Apply: expected ", input_channels_,
              " channels, got image of shape ", image.sizes());
  const AugmentOptions& o = options_;
  const int64_t size = o.crop_size;

  // RandomResizedCrop: slice the uint8 image, convert only the crop, resize.
  at::Tensor x;
  {
    Rng rng(MixSeed(seed, kStageCrop));
    const CropBox box = SampleResizedCropBox(image.size(1), image.size(2), o, rng);
    at::Tensor crop = image.slice(1, box.top, box.top + box.height)
                          .slice(2, box.left, box.left + box.width);
    x = Resize(ToUnitFloat(crop), size, size);
  }

  // Single-channel input policy.
  if (input_channels_ == 1) {
    if (o.grayscale_input == GrayscaleInput::kReplicateRgb) {
      x = x.expand({3, size, size}).contiguous();
    } else if (o.grayscale_input == GrayscaleInput::kRandomTint) {
      Rng rng(MixSeed(seed, kStageTint));
      std::vector<float> tint(3);
      for (float& t : tint) t = static_cast<float>(rng.Uniform(0.5, 1.0));
      x = x * ChannelTensor(tint);
    }
  }
  const bool rgb = x.size(0) == 3;

  // ColorJitter in a random order; brightness, contrast, saturation, hue.
  {
    Rng rng(MixSeed(seed, kStageJitter));
    if (rng.Bernoulli(o.color_jitter_prob)) {
      std::array<int, 4> order = {0, 1, 2, 3};
      for (int i = 3; i > 0; --i) std::swap(order[i], order[rng.UniformInt(i + 1)]);
      const double b = rng.Uniform(std::max(0.0, 1.0 - o.brightness), 1.0 + o.brightness);
      const double c = rng.Uniform(std::max(0.0, 1.0 - o.contrast), 1.0 + o.contrast);
      const double s = rng.Uniform(std::max(0.0, 1.0 - o.saturation), 1.0 + o.saturation);
      const double h = rng.Uniform(-o.hue, o.hue);
      for (int op : order) {
        if (op == 0 && o.brightness > 0.0) x = AdjustBrightness(x, b);
        if (op == 1 && o.contrast > 0.0) x = AdjustContrast(x, c);
        if (op == 2 && o.saturation > 0.0 && rgb) x = AdjustSaturation(x, s);
        if (op == 3 && o.hue > 0.0 && rgb) x = AdjustHue(x, h);
      }
    }
  }

  // RandomGrayscale (keeps the channel count; identity on 1-channel images).
  if (rgb) {
    Rng rng(MixSeed(seed, kStageGrayscale));
    if (rng.Bernoulli(o.grayscale_prob)) x = RgbToGrayscale(x).expand({3, size, size});
  }

  // GaussianBlur.
  {
    Rng rng(MixSeed(seed, kStageBlur));
    if (rng.Bernoulli(o.blur_prob)) {
      const double sigma = rng.Uniform(o.blur_sigma_min, o.blur_sigma_max);
      x = GaussianBlur(x, blur_kernel_size_, sigma);
    }
  }

  // RandomHorizontalFlip.
  {
    Rng rng(MixSeed(seed, kStageFlip));
    if (rng.Bernoulli(o.flip_prob)) x = at::flip(x, {2});
  }

  // Normalize (out of place when x may still alias the input or be an expanded view).
  return (x - mean_).div_(std_);
}

at::Tensor CenterCropNormalize(const at::Tensor& image, int resize_short_side, int crop_size,
                               int output_channels, const std::vector<float>& mean,
                               const std::vector<float>& std) {
  CheckImage(image, "CenterCropNormalize");
  const int64_t channels = image.size(0);
  TORCH_CHECK(output_channels == channels || (channels == 1 && output_channels == 3),
              "CenterCropNormalize: cannot make ", output_channels, " channels from ", channels);
  TORCH_CHECK(static_cast<int>(mean.size()) == output_channels &&
                  static_cast<int>(std.size()) == output_channels,
              "CenterCropNormalize: mean/std sizes (", mean.size(), ", ", std.size(),
              ") must equal output_channels ", output_channels);
  TORCH_CHECK(resize_short_side > 0 && crop_size > 0 && crop_size <= resize_short_side,
              "CenterCropNormalize: need 0 < crop_size (", crop_size, ") <= resize_short_side (",
              resize_short_side, ")");
  const int64_t h = image.size(1);
  const int64_t w = image.size(2);
  // torchvision Resize(int): the short side becomes resize_short_side, the long side
  // int(resize_short_side * long / short).
  int64_t new_h = resize_short_side;
  int64_t new_w = resize_short_side;
  if (h < w) {
    new_w = static_cast<int64_t>(static_cast<double>(resize_short_side) * w / h);
  } else if (w < h) {
    new_h = static_cast<int64_t>(static_cast<double>(resize_short_side) * h / w);
  }
  at::Tensor x = Resize(ToUnitFloat(image), new_h, new_w);
  // torchvision CenterCrop: top = int(round((H - S) / 2)).
  const int64_t top = std::llround((new_h - crop_size) / 2.0);
  const int64_t left = std::llround((new_w - crop_size) / 2.0);
  x = x.slice(1, top, top + crop_size).slice(2, left, left + crop_size);
  if (channels == 1 && output_channels == 3) x = x.expand({3, crop_size, crop_size});
  return (x - ChannelTensor(mean)).div_(ChannelTensor(std));
}

at::Tensor RgbToGrayscale(const at::Tensor& rgb) {
  TORCH_CHECK(rgb.dim() == 3 && rgb.size(0) == 3, "RgbToGrayscale: expected [3, H, W], got ",
              rgb.sizes());
  return (rgb[0] * kLumaR).add_(rgb[1], kLumaG).add_(rgb[2], kLumaB).clamp_(0.0, 1.0)
      .unsqueeze(0);
}

at::Tensor AdjustBrightness(const at::Tensor& img, double factor) {
  return (img * factor).clamp_(0.0, 1.0);
}

at::Tensor AdjustContrast(const at::Tensor& img, double factor) {
  TORCH_CHECK(img.dim() == 3 && (img.size(0) == 1 || img.size(0) == 3),
              "AdjustContrast: expected [1 or 3, H, W], got ", img.sizes());
  const double mean = (img.size(0) == 3 ? RgbToGrayscale(img) : img).mean().item<double>();
  // factor * img + (1 - factor) * mean, clamped.
  return (img * factor).add_(mean * (1.0 - factor)).clamp_(0.0, 1.0);
}

at::Tensor AdjustSaturation(const at::Tensor& img, double factor) {
  return Blend(img, RgbToGrayscale(img), factor);
}

at::Tensor AdjustHue(const at::Tensor& img, double hue_factor) {
  TORCH_CHECK(hue_factor >= -0.5 && hue_factor <= 0.5, "AdjustHue: hue_factor ", hue_factor,
              " not in [-0.5, 0.5]");
  at::Tensor hsv = RgbToHsv(img);
  at::Tensor h = hsv[0];
  h.add_(hue_factor);
  h.sub_(at::floor(h));  // (h + hue_factor) mod 1, as torch.remainder

  return HsvToRgb(hsv);
}

at::Tensor RgbToHsv(const at::Tensor& rgb) {
  TORCH_CHECK(rgb.dim() == 3 && rgb.size(0) == 3, "RgbToHsv: expected [3, H, W], got ",
              rgb.sizes());
  // torchvision _rgb2hsv.
  at::Tensor r = rgb[0];
  at::Tensor g = rgb[1];
  at::Tensor b = rgb[2];
  at::Tensor maxc = rgb.amax(0);
  at::Tensor minc = rgb.amin(0);
  at::Tensor eqc = maxc.eq(minc);
  at::Tensor cr = maxc - minc;
  // torch.where(eqc, 1, x) without where(): when eqc, cr == 0 and x + 1 > 0 (s stays 0).
  at::Tensor s = cr / (maxc + eqc);
  at::Tensor cr_divisor = cr + eqc;
  at::Tensor rc = (maxc - r).div_(cr_divisor);
  at::Tensor gc = (maxc - g).div_(cr_divisor);
  at::Tensor bc = (maxc - b).div_(cr_divisor);
  at::Tensor max_is_r = maxc.eq(r);
  at::Tensor max_is_g = maxc.eq(g).logical_and_(max_is_r.logical_not());
  at::Tensor max_is_b = max_is_r.logical_or(max_is_g).logical_not_();
  at::Tensor h = (bc - gc).mul_(max_is_r);
  h.add_((rc - bc).add_(2.0).mul_(max_is_g));
  h.add_((gc - rc).add_(4.0).mul_(max_is_b));
  h.div_(6.0).add_(1.0);
  h = at::frac(h);  // fmod(h / 6 + 1, 1); the argument is positive
  return at::stack({h, s, maxc}, 0);
}

at::Tensor HsvToRgb(const at::Tensor& hsv) {
  TORCH_CHECK(hsv.dim() == 3 && hsv.size(0) == 3, "HsvToRgb: expected [3, H, W], got ",
              hsv.sizes());
  // Channel n in {R: 5, G: 3, B: 1}: v - v s max(0, min(k, 4 - k, 1)), k = (n + 6 h) mod 6.
  // Equal to torchvision's sector table (_hsv2rgb) without materialising six candidates.
  at::Tensor h6 = (hsv[0] * 6.0).unsqueeze(0);                          // [1, H, W]
  at::Tensor offsets = ChannelTensor({5.0f, 3.0f, 1.0f});               // [3, 1, 1]
  at::Tensor k = h6 + offsets;                                          // [3, H, W]
  k.sub_(at::floor(k / 6.0).mul_(6.0));                                 // mod 6
  at::Tensor ramp = at::minimum(k, 4.0 - k).clamp_(0.0, 1.0);
  at::Tensor v = hsv[2].unsqueeze(0);
  at::Tensor vs = v * hsv[1].unsqueeze(0);
  return (v - vs * ramp).clamp_(0.0, 1.0);
}

at::Tensor GaussianBlur(const at::Tensor& img, int kernel_size, double sigma) {
  TORCH_CHECK(kernel_size > 0 && kernel_size % 2 == 1, "GaussianBlur: kernel_size ",
              kernel_size, " must be odd and positive");
  TORCH_CHECK(sigma > 0.0, "GaussianBlur: sigma ", sigma, " must be > 0");
  TORCH_CHECK(img.dim() == 3, "GaussianBlur: expected [C, H, W], got ", img.sizes());
  const int64_t pad = kernel_size / 2;
  TORCH_CHECK(pad < img.size(1) && pad < img.size(2), "GaussianBlur: kernel ", kernel_size,
              " too large for reflect padding of ", img.sizes());
  // torchvision _get_gaussian_kernel1d: x = linspace(-(k-1)/2, (k-1)/2, k).
  std::vector<double> kernel(kernel_size);
  double sum = 0.0;
  for (int i = 0; i < kernel_size; ++i) {
    const double t = (i - pad) / sigma;
    kernel[i] = std::exp(-0.5 * t * t);
    sum += kernel[i];
  }
  for (double& k : kernel) k /= sum;
  const at::Tensor x = (img.scalar_type() == at::kFloat ? img : img.to(at::kFloat)).contiguous();
  const int64_t channels = x.size(0), h = x.size(1), w = x.size(2);
  const std::vector<float> taps(kernel.begin(), kernel.end());
  at::Tensor out = at::empty_like(x);
  std::vector<float> padded, rows;
  for (int64_t c = 0; c < channels; ++c) {
    BlurPlane(x.data_ptr<float>() + c * h * w, out.data_ptr<float>() + c * h * w, h, w, taps,
              padded, rows);
  }
  return out;
}

}  // namespace mochi::data
