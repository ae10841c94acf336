// Builders: the only code that turns config protos into datasets, transforms and modules
// (modules themselves never see a proto).
#ifndef MOCHI_ENGINE_BUILDERS_H_
#define MOCHI_ENGINE_BUILDERS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "mochi/data/augment.h"
#include "mochi/data/dataset.h"
#include "mochi/data/loader.h"
#include "mochi/models/resnet.h"
#include "mochi/port/paths.h"
#include "mochi/proto/pretrain.pb.h"
#include "mochi/ssl/hard_negative_mixing.h"
#include "mochi/ssl/moco.h"
#include "torch/nn/modules/linear.h"

namespace mochi {

absl::StatusOr<std::unique_ptr<data::Dataset>> BuildDataset(const proto::Dataset& config);

data::AugmentOptions BuildAugmentOptions(const proto::Augmentation& config);

// `num_views` augmented views of one sample (MoCo: 2; the supervised baseline: 1), view v seeded
// with MixSeed(sample seed, v), so view 0 is the same whatever the number of views.
absl::StatusOr<data::SampleTransform> BuildViewTransform(const proto::Augmentation& config,
                                                         int input_channels, int num_views);

models::ResNetOptions BuildResNetOptions(const proto::Backbone& config, int64_t num_classes);

// MoCo's encoders and queue; for a supervised config also its linear classifier, registered in
// the module as "supervised_classifier" so both objectives' checkpoints load the same way.
absl::StatusOr<ssl::Moco> BuildMoco(const proto::PretrainConfig& config);

// The supervised classifier BuildMoco registered; null for a MoCo config.
torch::nn::Linear SupervisedClassifier(ssl::MocoImpl& moco);

// Null when the config has no mixing.
std::unique_ptr<ssl::MixingOptions> BuildMixingOptions(const proto::MoCo& config);

}  // namespace mochi

#endif  // MOCHI_ENGINE_BUILDERS_H_
