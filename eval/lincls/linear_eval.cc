#include "eval/lincls/linear_eval.h"

#include <cstdio>
#include <fstream>
#include <memory>
#include <thread>

#include "ATen/ATen.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "eval/knn/knn.h"
#include "eval/lincls/linear_probe.h"
#include "mochi/config/validate.h"
#include "mochi/data/idx_reader.h"
#include "mochi/engine/builders.h"
#include "mochi/engine/checkpoint.h"
#include "mochi/engine/features.h"
#include "mochi/port/status_macros.h"
#include "mochi/port/text_proto.h"

namespace mochi::eval {
namespace {

const char* SourceName(FeatureSource source) {
  switch (source) {
    case FeatureSource::kCheckpoint: return "checkpoint";
    case FeatureSource::kRandomInit: return "random_init";
    case FeatureSource::kRawPixels: return "raw_pixels";
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

}  // namespace

absl::Status RunLinearEval(const proto::LinearEvalConfig& config, const LinearEvalRun& run) {
  if (!config.cache_features()) {
    return absl::UnimplementedError(
        "linear eval with train-time augmentation is not implemented yet; set cache_features: "
        "true (features extracted once, main_lincls without crops)");
  }
  at::set_num_threads(config.run().num_threads() > 0 ? config.run().num_threads()
                                                     : static_cast<int>(std::thread::hardware_concurrency()));
  const at::Device device(config.run().device());
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
  Features train, test;
  if (run.source == FeatureSource::kRawPixels) {
    MOCHI_ASSIGN_OR_RETURN(train, PixelFeatures(*train_set, geometry));
    MOCHI_ASSIGN_OR_RETURN(test, PixelFeatures(*test_set, geometry));
  } else {
    if (pretrain.backbone().in_channels() != geometry.output_channels) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the backbone of ", run.run_dir, " takes ", pretrain.backbone().in_channels(),
          " channels but test_transform produces ", geometry.output_channels));
    }
    at::manual_seed(config.run().seed());
    MOCHI_ASSIGN_OR_RETURN(ssl::Moco moco, BuildMoco(pretrain));
    if (run.source == FeatureSource::kCheckpoint) {
      const std::string path = run.run_dir + "/checkpoint.pt";
      MOCHI_RETURN_IF_ERROR(LoadCheckpoint(path, *moco, nullptr, {}).status());
      MOCHI_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
      checkpoint_md5 = data::Md5Hex(bytes);
    }
    moco->to(device);
    std::fprintf(stderr, "Extracting features (%lld train, %lld test)...\n",
                 static_cast<long long>(train_set->size()), static_cast<long long>(test_set->size()));
    MOCHI_ASSIGN_OR_RETURN(train, ExtractFeatures(moco->encoder_q->backbone, *train_set, geometry, device));
    MOCHI_ASSIGN_OR_RETURN(test, ExtractFeatures(moco->encoder_q->backbone, *test_set, geometry, device));
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
  std::fprintf(stderr, "Training the linear classifier (%lld epochs)...\n",
               static_cast<long long>(probe.epochs));
  MOCHI_ASSIGN_OR_RETURN(LinearProbeResult linear,
                         TrainLinearProbe(train.features, train.labels, test.features,
                                          test.labels, train_set->num_classes(), probe));
  double knn_top1 = -1;
  if (config.has_knn()) {
    KnnOptions knn{config.knn().k(), config.knn().temperature(), config.knn().chunk_size()};
    MOCHI_ASSIGN_OR_RETURN(KnnResult result, KnnClassify(train.features, train.labels,
                                                         test.features, test.labels,
                                                         train_set->num_classes(), knn));
    knn_top1 = result.top1;
  }
  const std::string json = absl::StrFormat(
      "{\"features\": \"%s\", \"top1\": %.6f, \"top5\": %.6f, \"per_class_top1\": [%s], "
      "\"knn_top1\": %.6f, \"final_train_loss\": %.6f, \"run_dir\": \"%s\", "
      "\"checkpoint_md5\": \"%s\", \"train\": \"%s\", \"test\": \"%s\"}",
      SourceName(run.source), linear.top1, linear.top5,
      absl::StrJoin(linear.per_class_top1, ", ",
                    [](std::string* out, double v) { absl::StrAppendFormat(out, "%.4f", v); }),
      knn_top1, linear.epoch_loss.back(), run.run_dir, checkpoint_md5, train_set->Describe(),
      test_set->Describe());
  const std::string output = run.output.empty()
                                 ? absl::StrCat(run.run_dir, "/lincls_", SourceName(run.source), ".json")
                                 : run.output;
  std::ofstream out(output, std::ios::trunc);
  out << json << "\n";
  if (!out) return absl::InternalError(absl::StrCat(output, ": cannot write"));
  std::printf("copypaste: features=%s top1=%.4f top5=%.4f knn_top1=%.4f\n", SourceName(run.source),
              linear.top1, linear.top5, knn_top1);
  std::fprintf(stderr, "Wrote %s\n", output.c_str());
  return absl::OkStatus();
}

}  // namespace mochi::eval
