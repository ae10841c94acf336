#include "eval/knn/knn_monitor.h"

#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_format.h"
#include "eval/knn/knn.h"
#include "mochi/data/fashion_mnist.h"
#include "mochi/engine/features.h"
#include "mochi/port/paths.h"
#include "mochi/port/status_macros.h"
#include "mochi/port/text_proto.h"

namespace mochi::eval {
namespace {

class KnnMonitorHook : public HookBase {
 public:
  explicit KnnMonitorHook(const PretrainContext& context) : context_(context) {}

  absl::Status AfterTrain(TrainerState&) override {
    const proto::PretrainConfig& config = *context_.config;
    const data::Dataset& train_set = *context_.train_set;
    data::FashionMnistOptions test_options;
    test_options.root = ResolvePath(config.dataset().fashion_mnist().root());
    test_options.split = data::FashionMnistOptions::Split::kTest;
    MOCHI_ASSIGN_OR_RETURN(std::unique_ptr<data::FashionMnist> test_set,
                           data::FashionMnist::Load(test_options));
    // Normalised as in training, without random augmentation.
    EvalGeometry geometry;
    geometry.output_channels = config.backbone().in_channels();
    geometry.mean.assign(config.augmentation().mean().begin(), config.augmentation().mean().end());
    geometry.std.assign(config.augmentation().std().begin(), config.augmentation().std().end());
    std::fprintf(stderr, "kNN eval: features of %lld train and %lld test images...\n",
                 static_cast<long long>(train_set.size()),
                 static_cast<long long>(test_set->size()));
    models::ResNet backbone = context_.moco->encoder_q->backbone;
    MOCHI_ASSIGN_OR_RETURN(Features train,
                           ExtractFeatures(backbone, train_set, geometry, context_.device));
    MOCHI_ASSIGN_OR_RETURN(Features test,
                           ExtractFeatures(backbone, *test_set, geometry, context_.device));
    KnnOptions knn;  // k = 200, tau = 0.07, cosine
    MOCHI_ASSIGN_OR_RETURN(KnnResult result,
                           KnnClassify(train.features, train.labels, test.features, test.labels,
                                       test_set->num_classes(), knn));
    // The same protocol on raw pixels: the baseline a useful representation has to beat.
    MOCHI_ASSIGN_OR_RETURN(Features train_pixels, PixelFeatures(train_set, geometry));
    MOCHI_ASSIGN_OR_RETURN(Features test_pixels, PixelFeatures(*test_set, geometry));
    MOCHI_ASSIGN_OR_RETURN(
        KnnResult raw, KnnClassify(train_pixels.features, train_pixels.labels, test_pixels.features,
                                   test_pixels.labels, test_set->num_classes(), knn));
    const std::string json = absl::StrFormat(
        "{\"metric\": \"knn_top1\", \"value\": %.6f, \"raw_pixels_value\": %.6f, \"k\": %d, "
        "\"temperature\": %g, \"train\": %d, \"test\": %d}",
        result.top1, raw.top1, knn.k, knn.temperature, train_set.size(), test_set->size());
    if (context_.metrics != nullptr) MOCHI_RETURN_IF_ERROR(context_.metrics->Append(json));
    std::fprintf(stderr,
                 "kNN top-1 (k=200, tau=0.07, cosine) on the test split: %.4f (raw pixels: %.4f)\n",
                 result.top1, raw.top1);
    return WriteFileAtomically(context_.output_dir + "/knn.json", json + "\n");
  }

 private:
  const PretrainContext context_;
};

}  // namespace

PretrainHookFactory KnnMonitor() {
  return [](const PretrainContext& context) -> absl::StatusOr<std::unique_ptr<HookBase>> {
    if (!context.is_chief || !context.config->dataset().has_fashion_mnist()) return nullptr;
    return std::make_unique<KnnMonitorHook>(context);
  };
}

}  // namespace mochi::eval
