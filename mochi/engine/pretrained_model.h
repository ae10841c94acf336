// A pretraining run read back: its model rebuilt from the run's config.pbtxt and, unless asked
// not to, checkpoint.pt's weights in it. Every evaluator and transfer starts from here.
#ifndef MOCHI_ENGINE_PRETRAINED_MODEL_H_
#define MOCHI_ENGINE_PRETRAINED_MODEL_H_

#include <string>

#include "absl/status/statusor.h"
#include "mochi/engine/builders.h"
#include "mochi/proto/pretrain.pb.h"

namespace mochi {

struct PretrainedModel {
  proto::PretrainConfig config;  // the run's config.pbtxt, validated
  // The run's model (MoCo, or the supervised classifier) and the representation inside it.
  PretrainModel model;
  std::string checkpoint_path;  // the file the weights came from (set even when not loaded)
};

// `run` is a //tools:pretrain output directory or a checkpoint file in one. With
// `load_weights` false the model keeps its initialisation (drawn from LibTorch's default
// generator): a random-init baseline with the run's architecture.
absl::StatusOr<PretrainedModel> LoadPretrainedModel(const std::string& run, bool load_weights);

}  // namespace mochi

#endif  // MOCHI_ENGINE_PRETRAINED_MODEL_H_
