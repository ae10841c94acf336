#include "mochi/engine/builders.h"

#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "mochi/data/fashion_mnist.h"
#include "mochi/data/image_folder.h"
#include "mochi/data/rng.h"
#include "mochi/models/memory_format.h"
#include "mochi/port/status_macros.h"
#include "mochi/port/torch_status.h"

namespace mochi {

absl::StatusOr<std::unique_ptr<data::Dataset>> BuildDataset(const proto::Dataset& config) {
  switch (config.source_case()) {
    case proto::Dataset::kFashionMnist: {
      const proto::FashionMnist& c = config.fashion_mnist();
      data::FashionMnistOptions options;
      options.root = ResolvePath(c.root());
      options.split = c.split() == proto::FashionMnist::TEST
                          ? data::FashionMnistOptions::Split::kTest
                          : data::FashionMnistOptions::Split::kTrain;
      options.verify_checksums = c.verify_checksums();
      options.limit = c.limit();
      MOCHI_ASSIGN_OR_RETURN(std::unique_ptr<data::FashionMnist> dataset,
                             data::FashionMnist::Load(options));
      return std::unique_ptr<data::Dataset>(std::move(dataset));
    }
    case proto::Dataset::kImageFolder: {
      const proto::ImageFolder& c = config.image_folder();
      if (absl::StrContains(c.root(), "PATH_TO_BE_CONFIGURED")) {
        return absl::FailedPreconditionError(absl::StrCat(
            "dataset.image_folder.root = \"", c.root(),
            "\": point it at your ImageNet copy (edit the config, pass --override, or write "
            "$MOCHI_IMAGENET in the path and set that variable)"));
      }
      data::ImageFolderOptions options;
      options.root = ResolvePath(c.root());
      options.class_list_file = c.class_list().empty() ? "" : ResolvePath(c.class_list());
      MOCHI_ASSIGN_OR_RETURN(std::unique_ptr<data::ImageFolder> dataset,
                             data::ImageFolder::Load(options));
      return std::unique_ptr<data::Dataset>(std::move(dataset));
    }
    case proto::Dataset::SOURCE_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("dataset: set fashion_mnist or image_folder");
}

data::AugmentOptions BuildAugmentOptions(const proto::Augmentation& c) {
  data::AugmentOptions o;
  o.crop_size = c.crop_size();
  o.scale_min = c.crop_scale_min();
  o.scale_max = c.crop_scale_max();
  o.ratio_min = c.crop_ratio_min();
  o.ratio_max = c.crop_ratio_max();
  o.color_jitter_prob = c.color_jitter_prob();
  o.brightness = c.brightness();
  o.contrast = c.contrast();
  o.saturation = c.saturation();
  o.hue = c.hue();
  o.grayscale_prob = c.grayscale_prob();
  o.blur_prob = c.blur_prob();
  o.blur_sigma_min = c.blur_sigma_min();
  o.blur_sigma_max = c.blur_sigma_max();
  o.blur_kernel_fraction = c.blur_kernel_fraction();
  o.flip_prob = c.flip_prob();
  switch (c.grayscale_input()) {
    case proto::Augmentation::KEEP_GRAY:
      o.grayscale_input = data::GrayscaleInput::kKeepGray;
      break;
    case proto::Augmentation::RANDOM_TINT:
      o.grayscale_input = data::GrayscaleInput::kRandomTint;
      break;
    case proto::Augmentation::REPLICATE_RGB:
    case proto::Augmentation::GRAYSCALE_INPUT_UNSPECIFIED:  // only valid for RGB data
      o.grayscale_input = data::GrayscaleInput::kReplicateRgb;
      break;
  }
  o.mean.assign(c.mean().begin(), c.mean().end());
  o.std.assign(c.std().begin(), c.std().end());
  return o;
}

absl::StatusOr<data::SampleTransform> BuildViewTransform(const proto::Augmentation& config,
                                                         int input_channels, int num_views) {
  if (num_views < 1) {
    return absl::InvalidArgumentError(absl::StrCat("num_views = ", num_views, " must be >= 1"));
  }
  MOCHI_ASSIGN_OR_RETURN(data::Augmenter augmenter,
                         data::Augmenter::Create(BuildAugmentOptions(config), input_channels));
  return data::SampleTransform(
      [augmenter = std::move(augmenter), num_views](
          const data::Example& example, uint64_t seed) -> absl::StatusOr<std::vector<at::Tensor>> {
        std::vector<at::Tensor> views;
        for (int v = 0; v < num_views; ++v) {
          views.push_back(augmenter.Apply(example.image, data::MixSeed(seed, v)));
        }
        return views;
      });
}

models::ResNetOptions BuildResNetOptions(const proto::Backbone& c, int64_t num_classes) {
  int64_t depth = 0;
  switch (c.architecture()) {
    case proto::Backbone::RESNET18:
      depth = 18;
      break;
    case proto::Backbone::RESNET34:
      depth = 34;
      break;
    case proto::Backbone::RESNET50:
      depth = 50;
      break;
    case proto::Backbone::RESNET101:
      depth = 101;
      break;
    case proto::Backbone::ARCHITECTURE_UNSPECIFIED:
      break;  // rejected by MakeResNet
  }
  return models::ResNetOptions()
      .depth(depth)
      .width(c.width())
      .in_channels(c.in_channels())
      .small_input_stem(c.stem() == proto::Backbone::SMALL_INPUT ||
                        c.stem() == proto::Backbone::SMALL_INPUT_STRIDE2)
      .small_input_stem_stride(c.stem() == proto::Backbone::SMALL_INPUT_STRIDE2 ? 2 : 1)
      .num_classes(num_classes)
      .zero_init_residual(c.zero_init_residual());
}

absl::StatusOr<ssl::Moco> BuildMoco(const proto::PretrainConfig& config) {
  if (!config.has_moco()) {
    return absl::FailedPreconditionError("MoCo needs a config whose objective is moco");
  }
  auto make_encoder = [&]() -> absl::StatusOr<ssl::Encoder> {
    MOCHI_ASSIGN_OR_RETURN(models::ResNet backbone,
                           models::MakeResNet(BuildResNetOptions(config.backbone(), 0)));
    models::ProjectionHeadOptions head;
    head.in_dim = backbone->feature_dim();
    head.hidden_dim = config.head().hidden_dim();
    head.out_dim = config.head().output_dim();
    head.mlp = config.head().mlp();
    MOCHI_ASSIGN_OR_RETURN(models::ProjectionHead projection, models::MakeProjectionHead(head));
    return ssl::Encoder(backbone, projection);
  };
  MOCHI_ASSIGN_OR_RETURN(ssl::Encoder query, make_encoder());
  MOCHI_ASSIGN_OR_RETURN(ssl::Encoder key, make_encoder());
  ssl::MocoOptions options;
  options.queue_size = config.moco().queue_size();
  options.momentum = config.moco().momentum();
  options.temperature = config.moco().temperature();
  options.shuffle_bn = config.moco().shuffle_bn();
  options.bn_groups = config.moco().bn_groups();
  options.loss_head_tile_rows = config.moco().loss_head_tile_rows();
  options.autocast_bf16 = config.run().autocast_bf16();
  options.channels_last = config.run().channels_last();
  ssl::Moco moco{nullptr};
  MOCHI_RETURN_IF_ERROR(TorchToStatus("building MoCo", [&] {
    moco = ssl::Moco(query, key, options);
    // Conv weights in the images' layout, so no step converts them.
    if (options.channels_last) models::ToChannelsLast(*moco);
  }));
  return moco;
}

absl::StatusOr<models::Classifier> BuildSupervisedModel(const proto::PretrainConfig& config) {
  if (!config.has_supervised()) {
    return absl::FailedPreconditionError(
        "the supervised model needs a config whose objective is supervised");
  }
  MOCHI_ASSIGN_OR_RETURN(models::ResNet backbone,
                         models::MakeResNet(BuildResNetOptions(config.backbone(), 0)));
  models::Classifier model{nullptr};
  MOCHI_RETURN_IF_ERROR(TorchToStatus("building the supervised model", [&] {
    model = models::Classifier(backbone, config.supervised().num_classes());
    if (config.run().channels_last()) models::ToChannelsLast(*model);
  }));
  return model;
}

absl::StatusOr<PretrainModel> BuildPretrainModel(const proto::PretrainConfig& config) {
  // -Werror=switch: a new objective does not build until it names its model here.
  switch (config.objective_case()) {
    case proto::PretrainConfig::kMoco: {
      PretrainModel model;
      MOCHI_ASSIGN_OR_RETURN(model.moco, BuildMoco(config));
      model.module = model.moco.ptr();
      model.backbone = model.moco->encoder_q->backbone;
      return model;
    }
    case proto::PretrainConfig::kSupervised: {
      PretrainModel model;
      MOCHI_ASSIGN_OR_RETURN(model.classifier, BuildSupervisedModel(config));
      model.module = model.classifier.ptr();
      model.backbone = model.classifier->backbone;
      return model;
    }
    case proto::PretrainConfig::OBJECTIVE_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("the config has no objective (moco or supervised)");
}

std::unique_ptr<ssl::MixingOptions> BuildMixingOptions(const proto::MoCo& config) {
  if (!config.has_mixing()) return nullptr;
  const proto::HardNegativeMixing& m = config.mixing();
  auto options = std::make_unique<ssl::MixingOptions>();
  options->num_hardest = m.num_hardest();
  options->num_mixed_pairs = m.num_mixed_pairs();
  options->num_query_mixed = m.num_query_mixed();
  options->query_mix_max = m.query_mix_max();
  options->gradient_through_synthetic = m.gradient_through_synthetic();
  switch (m.selection()) {
    case proto::HardNegativeMixing::HARDEST:
      options->selection = ssl::MixingSelection::kHardest;
      break;
    case proto::HardNegativeMixing::RANDOM:
      options->selection = ssl::MixingSelection::kRandom;
      break;
  }
  return options;
}

}  // namespace mochi
