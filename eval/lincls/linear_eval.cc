#include "eval/lincls/linear_eval.h"

#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "ATen/ATen.h"
#include "absl/strings/str_cat.h"
#include "eval/knn/knn_evaluator.h"
#include "eval/lincls/linear_evaluator.h"
#include "eval/lincls/linear_probe.h"
#include "mochi/config/validate.h"
#include "mochi/data/augment.h"
#include "mochi/data/idx_reader.h"
#include "mochi/data/loader.h"
#include "mochi/engine/builders.h"
#include "mochi/engine/features.h"
#include "mochi/engine/pretrained_model.h"
#include "mochi/port/cpu_threads.h"
#include "mochi/port/device.h"
#include "mochi/port/json_proto.h"
#include "mochi/port/status_macros.h"
#include "mochi/port/text_proto.h"
#include "mochi/port/torch_status.h"
#include "torch/autograd.h"

namespace mochi::eval {
namespace {

const char* SourceName(FeatureSource source) {
  switch (source) {
    case FeatureSource::kCheckpoint:
      return "checkpoint";
    case FeatureSource::kRandomInit:
      return "random_init";
    case FeatureSource::kRawPixels:
      return "raw_pixels";
  }
  return "?";
}

EvalGeometry GeometryOf(const proto::EvalTransform& t, int dataset_channels) {
  EvalGeometry g;
  g.resize = t.resize();
  g.crop_size = t.crop_size();
  g.output_channels = TransformedChannels(t.grayscale_input(), dataset_channels);
  g.mean.assign(t.mean().begin(), t.mean().end());
  g.std.assign(t.std().begin(), t.std().end());
  return g;
}

// main_lincls's training input: each epoch, freshly augmented images (RandomResizedCrop + flip)
// through a frozen featurizer (the backbone in eval mode, or the raw-pixel flattening).
class AugmentedBatches : public BatchSource {
 public:
  using Featurizer = std::function<at::Tensor(const at::Tensor& images)>;

  AugmentedBatches(std::unique_ptr<data::DataLoader> loader, Featurizer featurizer)
      : loader_(std::move(loader)), featurizer_(std::move(featurizer)) {}

  absl::Status StartEpoch(int64_t epoch) override { return loader_->StartEpoch(epoch); }

  // The batch with its images replaced by their features.
  absl::StatusOr<std::optional<data::Batch>> Next() override {
    MOCHI_ASSIGN_OR_RETURN(std::optional<data::Batch> batch, loader_->Next());
    if (!batch) return std::nullopt;
    MOCHI_RETURN_IF_ERROR(TorchToStatus("feature extraction", [&] {
      torch::NoGradGuard no_grad;
      batch->views[0] = featurizer_(batch->views[0]);
    }));
    return batch;
  }

 private:
  std::unique_ptr<data::DataLoader> loader_;
  Featurizer featurizer_;
};

absl::StatusOr<std::unique_ptr<BatchSource>> MakeAugmentedBatches(
    const proto::LinearEvalConfig& config, const data::Dataset* train_set,
    AugmentedBatches::Featurizer featurizer) {
  MOCHI_ASSIGN_OR_RETURN(data::Augmenter augmenter,
                         data::Augmenter::Create(BuildAugmentOptions(config.train_augmentation()),
                                                 train_set->channels()));
  data::SampleTransform one_view = [augmenter = std::move(augmenter)](
                                       const data::Example& example,
                                       uint64_t seed) -> absl::StatusOr<std::vector<at::Tensor>> {
    return std::vector<at::Tensor>{augmenter.Apply(example.image, seed)};
  };
  data::LoaderOptions options;
  options.batch_size = config.batch_size();
  options.num_workers = config.loader().num_workers();
  options.prefetch_batches = config.loader().prefetch_batches();
  options.shuffle = true;
  options.drop_last = false;
  options.seed = config.run().seed();
  MOCHI_ASSIGN_OR_RETURN(std::unique_ptr<data::DataLoader> loader,
                         data::DataLoader::Create(train_set, std::move(one_view), options));
  return std::unique_ptr<BatchSource>(
      std::make_unique<AugmentedBatches>(std::move(loader), std::move(featurizer)));
}

}  // namespace

absl::Status RunLinearEval(const proto::LinearEvalConfig& config, const LinearEvalRun& run) {
  ConfigureCpuThreads(config.run().num_threads());
  MOCHI_ASSIGN_OR_RETURN(const at::Device device, ResolveDevice(config.run().device()));
  MOCHI_ASSIGN_OR_RETURN(proto::PretrainConfig pretrain,
                         LoadConfig<proto::PretrainConfig>(run.run_dir + "/config.pbtxt"));
  MOCHI_ASSIGN_OR_RETURN(std::unique_ptr<data::Dataset> train_set,
                         BuildDataset(config.train_dataset()));
  MOCHI_ASSIGN_OR_RETURN(std::unique_ptr<data::Dataset> test_set,
                         BuildDataset(config.test_dataset()));
  if (train_set->num_classes() != test_set->num_classes()) {
    return absl::InvalidArgumentError(absl::StrCat("train_dataset has ", train_set->num_classes(),
                                                   " classes but test_dataset ",
                                                   test_set->num_classes()));
  }
  const EvalGeometry geometry = GeometryOf(config.test_transform(), train_set->channels());
  std::string checkpoint_md5 = "none";
  // Frozen featurizer for the augmented path; test (and cached train) features below.
  AugmentedBatches::Featurizer featurizer;
  Features train, test;
  if (run.source == FeatureSource::kRawPixels) {
    featurizer = [](const at::Tensor& images) { return images.reshape({images.size(0), -1}); };
    if (config.cache_features()) {
      MOCHI_ASSIGN_OR_RETURN(train, PixelFeatures(*train_set, geometry));
    }
    MOCHI_ASSIGN_OR_RETURN(test, PixelFeatures(*test_set, geometry));
  } else {
    if (pretrain.backbone().in_channels() != geometry.output_channels) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the backbone of ", run.run_dir, " takes ", pretrain.backbone().in_channels(),
          " channels but test_transform produces ", geometry.output_channels));
    }
    at::manual_seed(config.run().seed());
    const bool trained = run.source == FeatureSource::kCheckpoint;
    MOCHI_ASSIGN_OR_RETURN(PretrainedModel pretrained, LoadPretrainedModel(run.run_dir, trained));
    if (trained) {
      MOCHI_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(pretrained.checkpoint_path));
      checkpoint_md5 = data::Md5Hex(bytes);
    }
    models::ResNet backbone = pretrained.model.backbone;
    backbone->to(device);
    backbone->eval();  // frozen BN statistics, as main_lincls
    featurizer = [backbone, device](const at::Tensor& images) mutable {
      return backbone->forward_features(images.to(device));  // the probe trains on `device`
    };
    std::fprintf(stderr, "Extracting features (%s%lld test)...\n",
                 config.cache_features() ? absl::StrCat(train_set->size(), " train, ").c_str() : "",
                 static_cast<long long>(test_set->size()));
    if (config.cache_features()) {
      MOCHI_ASSIGN_OR_RETURN(train, ExtractFeatures(backbone, *train_set, geometry, device));
    }
    MOCHI_ASSIGN_OR_RETURN(test, ExtractFeatures(backbone, *test_set, geometry, device));
    backbone->eval();  // ExtractFeatures restores the mode it found; keep it frozen for training
  }
  LinearProbeOptions probe;
  probe.epochs = config.epochs();
  probe.batch_size = config.batch_size();
  probe.lr = config.optimizer().base_lr();
  probe.momentum = config.optimizer().momentum();
  probe.weight_decay = config.optimizer().weight_decay();
  probe.milestones.assign(config.optimizer().step().milestones().begin(),
                          config.optimizer().step().milestones().end());
  probe.gamma = config.optimizer().step().gamma();
  probe.seed = config.run().seed();
  probe.device = device;
  std::unique_ptr<BatchSource> augmented;  // null: the probe trains on the cached features
  if (!config.cache_features()) {
    MOCHI_ASSIGN_OR_RETURN(augmented, MakeAugmentedBatches(config, train_set.get(), featurizer));
  }
  std::fprintf(stderr, "Training the linear classifier (%lld epochs, %s)...\n",
               static_cast<long long>(probe.epochs),
               config.cache_features() ? "cached features" : "augmented images");
  const ModelOutputs outputs{config.cache_features() ? &train : nullptr, &test};
  LinearEvaluator linear(probe, train_set->num_classes(), std::move(augmented));
  MOCHI_ASSIGN_OR_RETURN(proto::EvaluationResult evaluated, linear.Evaluate(outputs));
  proto::LinearEvalResult result = evaluated.linear();
  if (config.has_knn() && config.cache_features()) {  // kNN needs a fixed bank: cached features
    KnnEvaluator knn({config.knn().k(), config.knn().temperature(), config.knn().chunk_size()},
                     train_set->num_classes());
    MOCHI_ASSIGN_OR_RETURN(proto::EvaluationResult knn_result, knn.Evaluate(outputs));
    *result.mutable_knn() = knn_result.knn();
  }
  result.set_features(SourceName(run.source));
  result.set_run_dir(run.run_dir);
  result.set_checkpoint_md5(checkpoint_md5);
  result.set_train(train_set->Describe());
  result.set_test(test_set->Describe());
  result.set_config(ToTextProto(config));
  result.set_pretrain_config(ToTextProto(pretrain));
  const std::string output =
      run.output.empty() ? absl::StrCat(run.run_dir, "/lincls_", SourceName(run.source), ".json")
                         : run.output;
  MOCHI_RETURN_IF_ERROR(WriteJsonProto(output, result));
  std::printf("copypaste: features=%s top1=%.4f top5=%.4f knn_top1=%s\n", SourceName(run.source),
              result.top1(), result.top5(),
              result.has_knn() ? absl::StrCat(result.knn().top1()).c_str() : "none");
  std::fprintf(stderr, "Wrote %s\n", output.c_str());
  return absl::OkStatus();
}

}  // namespace mochi::eval
