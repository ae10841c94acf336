// MoCo-v2 "aug-plus" augmentations on single images ([C, H, W] tensors), with torchvision
// (tensor path) semantics and all randomness drawn from an Rng seeded per sample, so the
// output depends only on (image, seed):
//
//   RandomResizedCrop(S, scale, ratio) -> [tint or replicate gray] -> ColorJitter p=0.8
//   -> RandomGrayscale p=0.2 -> GaussianBlur p=0.5 -> HorizontalFlip p=0.5 -> Normalize
//
// Each stage draws from its own Rng(MixSeed(seed, stage)), so changing one stage's options
// (say blur_prob) does not change the random decisions of the others.
//
// Two deliberate differences from torchvision: grayscale uses ITU-R 601-2 luma weights
// (0.299, 0.587, 0.114; PIL's, torchvision tensors use 0.2989) and the blur kernel size is the
// odd number nearest to blur_kernel_fraction * crop_size (SimCLR's 10%; MoCo uses PIL's blur).
#ifndef MOCHI_DATA_AUGMENT_H_
#define MOCHI_DATA_AUGMENT_H_

#include <cstdint>
#include <vector>

#include "ATen/core/Tensor.h"
#include "absl/status/statusor.h"
#include "mochi/data/rng.h"

namespace mochi::data {

// How single-channel (grayscale) input is handled; ignored for 3-channel input.
enum class GrayscaleInput {
  // Output has 1 channel. Brightness and contrast apply; saturation, hue and random grayscale
  // are identities on gray images and are skipped.
  kKeepGray,
  // Gray is copied to 3 channels first; every op runs (hue and saturation stay no-ops).
  kReplicateRgb,
  // Gray is multiplied by a random RGB colour per sample (each channel factor ~ U(0.5, 1)), so
  // colour jitter and random grayscale change the image. Output has 3 channels.
  kRandomTint,
};

// Options of the MoCo-v2 augmentation; defaults are MoCo-v2's, which the paper uses.
struct AugmentOptions {
  int crop_size = 224;  // S: output is S x S
  // RandomResizedCrop: area fraction ~ U(scale), aspect ratio log-uniform in [ratio].
  double scale_min = 0.2;
  double scale_max = 1.0;
  double ratio_min = 3.0 / 4;
  double ratio_max = 4.0 / 3;
  // ColorJitter(brightness, contrast, saturation, hue), applied with color_jitter_prob.
  double color_jitter_prob = 0.8;
  double brightness = 0.4;
  double contrast = 0.4;
  double saturation = 0.4;
  double hue = 0.1;
  double grayscale_prob = 0.2;
  // GaussianBlur: sigma ~ U(blur_sigma_min, blur_sigma_max), applied with blur_prob.
  double blur_prob = 0.5;
  double blur_sigma_min = 0.1;
  double blur_sigma_max = 2.0;
  double blur_kernel_fraction = 0.1;
  double flip_prob = 0.5;
  GrayscaleInput grayscale_input = GrayscaleInput::kKeepGray;
  // Per output channel; sizes must equal OutputChannels().
  std::vector<float> mean;
  std::vector<float> std;
};

// Channels of the augmented image for `input_channels` (1 or 3) of input.
int OutputChannels(const AugmentOptions& options, int input_channels);

// Odd Gaussian kernel size nearest to fraction * crop_size, at least 3.
int BlurKernelSize(double fraction, int crop_size);

// A crop box in pixels: rows [top, top + height), columns [left, left + width).
struct CropBox {
  int64_t top = 0;
  int64_t left = 0;
  int64_t height = 0;
  int64_t width = 0;
};

// torchvision's RandomResizedCrop.get_params: 10 attempts with area fraction ~ U(scale) and
// log-uniform aspect ratio; otherwise the whole image centre-cropped to the ratio range.
CropBox SampleResizedCropBox(int64_t height, int64_t width, const AugmentOptions& options,
                             Rng& rng);

class Augmenter {
 public:
  // Validates the options for images with `input_channels` (1 or 3) channels. InvalidArgument
  // names the offending option and its value.
  static absl::StatusOr<Augmenter> Create(AugmentOptions options, int input_channels);

  // image: uint8 [C, H, W] with C = input_channels. Returns float [C', S, S], normalised.
  // Thread-safe (const, no shared mutable state). Throws c10::Error on a bad input shape.
  at::Tensor Apply(const at::Tensor& image, uint64_t seed) const;

  const AugmentOptions& options() const { return options_; }
  int input_channels() const { return input_channels_; }
  int output_channels() const { return output_channels_; }

 private:
  Augmenter(AugmentOptions options, int input_channels, at::Tensor mean, at::Tensor std);

  AugmentOptions options_;
  int input_channels_;
  int output_channels_;
  int blur_kernel_size_;
  at::Tensor mean_;  // float [C', 1, 1]
  at::Tensor std_;   // float [C', 1, 1]
};

// The evaluation transform (torchvision Resize(resize_short_side) + CenterCrop(crop_size) +
// Normalize): bilinear resize of the shorter side (align_corners=false, no antialias), centre
// crop, normalise. `output_channels` is the input's channel count, or 3 for 1-channel input
// (gray replicated, as kReplicateRgb and kRandomTint evaluate). For a 28x28 image with
// resize == crop == 28 the geometry is the identity. Returns float [output_channels, S, S];
// throws c10::Error on bad arguments (image smaller than the crop, wrong mean/std sizes).
at::Tensor CenterCropNormalize(const at::Tensor& image, int resize_short_side, int crop_size,
                               int output_channels, const std::vector<float>& mean,
                               const std::vector<float>& std);

// Tensor ops on float images in [0, 1], [C, H, W]; torchvision functional_tensor semantics.
// Exposed for tests and other transforms.
at::Tensor RgbToGrayscale(const at::Tensor& rgb);  // [3, H, W] -> [1, H, W]
at::Tensor AdjustBrightness(const at::Tensor& img, double factor);
at::Tensor AdjustContrast(const at::Tensor& img, double factor);    // C = 1 or 3
at::Tensor AdjustSaturation(const at::Tensor& img, double factor);  // C = 3
at::Tensor AdjustHue(const at::Tensor& img, double hue_factor);     // C = 3, |hue| <= 0.5
at::Tensor RgbToHsv(const at::Tensor& rgb);                         // h, s, v in [0, 1]
at::Tensor HsvToRgb(const at::Tensor& hsv);
// Separable Gaussian blur with reflect padding; kernel_size odd, kernel_size / 2 < H, W.
at::Tensor GaussianBlur(const at::Tensor& img, int kernel_size, double sigma);

}  // namespace mochi::data

#endif  // MOCHI_DATA_AUGMENT_H_
