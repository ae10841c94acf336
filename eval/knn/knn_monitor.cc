#include "eval/knn/knn_monitor.h"

#include <cstdio>
#include <memory>
#include <string>

#include "eval/knn/knn_evaluator.h"
#include "mochi/data/fashion_mnist.h"
#include "mochi/engine/features.h"
#include "mochi/port/json_proto.h"
#include "mochi/port/paths.h"
#include "mochi/port/status_macros.h"

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
    models::ResNet backbone = context_.backbone;
    MOCHI_ASSIGN_OR_RETURN(Features train,
                           ExtractFeatures(backbone, train_set, geometry, context_.device));
    MOCHI_ASSIGN_OR_RETURN(Features test,
                           ExtractFeatures(backbone, *test_set, geometry, context_.device));
    KnnEvaluator knn(KnnOptions{}, test_set->num_classes());  // k = 200, tau = 0.07, cosine
    MOCHI_ASSIGN_OR_RETURN(proto::EvaluationResult result, knn.Evaluate({&train, &test}));
    // The same protocol on raw pixels: the baseline a useful representation has to beat.
    MOCHI_ASSIGN_OR_RETURN(Features train_pixels, PixelFeatures(train_set, geometry));
    MOCHI_ASSIGN_OR_RETURN(Features test_pixels, PixelFeatures(*test_set, geometry));
    MOCHI_ASSIGN_OR_RETURN(const proto::EvaluationResult raw,
                           knn.Evaluate({&train_pixels, &test_pixels}));
    proto::KnnResult& out = *result.mutable_knn();
    out.set_raw_pixels_top1(raw.knn().top1());
    std::fprintf(stderr,
                 "kNN top-1 (k=200, tau=0.07, cosine) on the test split: %.4f (raw pixels: %.4f)\n",
                 out.top1(), out.raw_pixels_top1());
    return WriteJsonProto(context_.output_dir + "/knn.json", out);
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
