// Config validation: runs before any tensor is allocated, so a typo or an impossible value fails
// in seconds with a message naming the field and value (not mid-training on a GPU).
#ifndef MOCHI_CONFIG_VALIDATE_H_
#define MOCHI_CONFIG_VALIDATE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mochi/proto/detection.pb.h"
#include "mochi/proto/lincls.pb.h"
#include "mochi/proto/pretrain.pb.h"
#include "mochi/proto/segmentation.pb.h"

namespace mochi {

// Each returns InvalidArgument listing every violation, one per line, as
// "<field.path> = <value>: <why>".
absl::Status Validate(const proto::PretrainConfig& config);
absl::Status Validate(const proto::LinearEvalConfig& config);
absl::Status Validate(const proto::DetectionConfig& config);
absl::Status Validate(const proto::SegmentationConfig& config);

// Channels a transform with grayscale policy `policy` produces for input with `input_channels`
// (1 = gray, 3 = RGB): only KEEP_GRAY keeps gray input at one channel.
int TransformedChannels(proto::Augmentation::GrayscaleInput policy, int input_channels);

// Parses `path` (text proto), merges the optional `override_text` over it, and validates.
// Errors are prefixed with the path.
template <typename Config>
absl::StatusOr<Config> LoadConfig(const std::string& path, const std::string& override_text = "");

}  // namespace mochi

#endif  // MOCHI_CONFIG_VALIDATE_H_
