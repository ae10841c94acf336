// The smallest MoCo encoder the tests train: a width-4 ResNet-18 with the small-input stem on
// one-channel images, and the MoCo-v2 projection head to `out_dim`. Weights come from the global
// generator (seed it first for the same weights).
#ifndef TESTS_TESTING_TINY_ENCODER_H_
#define TESTS_TESTING_TINY_ENCODER_H_

#include <cstdint>

#include "mochi/models/projection_head.h"
#include "mochi/models/resnet.h"
#include "mochi/ssl/moco.h"

namespace mochi::testing {

inline ssl::Encoder TinyEncoder(int64_t out_dim) {
  auto backbone = models::ResNet(
      models::ResNetOptions().depth(18).width(4).in_channels(1).small_input_stem(true).num_classes(
          0));
  models::ProjectionHeadOptions head;
  head.in_dim = backbone->feature_dim();
  head.out_dim = out_dim;
  return ssl::Encoder(backbone, models::ProjectionHead(head));
}

}  // namespace mochi::testing

#endif  // TESTS_TESTING_TINY_ENCODER_H_
