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
#include "mochi/models/classifier.h"
#include "mochi/models/resnet.h"
#include "mochi/port/paths.h"
#include "mochi/proto/pretrain.pb.h"
#include "mochi/ssl/hard_negative_mixing.h"
#include "mochi/ssl/moco.h"
#include "torch/nn/module.h"

namespace mochi {

absl::StatusOr<std::unique_ptr<data::Dataset>> BuildDataset(const proto::Dataset& config);

data::AugmentOptions BuildAugmentOptions(const proto::Augmentation& config);

// `num_views` augmented views of one sample (MoCo: 2; the supervised baseline: 1), view v seeded
// with MixSeed(sample seed, v), so view 0 is the same whatever the number of views.
absl::StatusOr<data::SampleTransform> BuildViewTransform(const proto::Augmentation& config,
                                                         int input_channels, int num_views);

models::ResNetOptions BuildResNetOptions(const proto::Backbone& config, int64_t num_classes);

// MoCo's encoders (backbone + projection head) and queue. FailedPrecondition unless the config's
// objective is moco.
absl::StatusOr<ssl::Moco> BuildMoco(const proto::PretrainConfig& config);

// The supervised baseline's backbone and linear classifier. FailedPrecondition unless the config's
// objective is supervised.
absl::StatusOr<models::Classifier> BuildSupervisedModel(const proto::PretrainConfig& config);

// What a pretraining trains, as its checkpoint holds it: MoCo or the supervised classifier, by
// the config's objective. `backbone` (inside `module`) is the representation evaluations read:
// MoCo's query backbone, or the classifier's.
struct PretrainModel {
  std::shared_ptr<torch::nn::Module> module;
  models::ResNet backbone{nullptr};
  ssl::Moco moco{nullptr};                   // set for the moco objective (it is `module`)
  models::Classifier classifier{nullptr};    // set for the supervised objective (it is `module`)
};
absl::StatusOr<PretrainModel> BuildPretrainModel(const proto::PretrainConfig& config);

// Null when the config has no mixing.
std::unique_ptr<ssl::MixingOptions> BuildMixingOptions(const proto::MoCo& config);

}  // namespace mochi

#endif  // MOCHI_ENGINE_BUILDERS_H_
