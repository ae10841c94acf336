#include "mochi/config/validate.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mochi/port/status_macros.h"
#include "mochi/port/text_proto.h"

namespace mochi {
namespace {

// Collects violations with their field paths so one run reports all of them.
class Violations {
 public:
  template <typename V>
  void Check(bool ok, const std::string& field, const V& value, absl::string_view why) {
    if (!ok) errors_.push_back(absl::StrCat(field, " = ", value, ": ", why));
  }
  void Missing(bool present, const std::string& field) {
    if (!present) errors_.push_back(absl::StrCat(field, ": required but not set"));
  }
  absl::Status ToStatus() const {
    if (errors_.empty()) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrJoin(errors_, "\n"));
  }

 private:
  std::vector<std::string> errors_;
};

bool IsProbability(float p) { return p >= 0.f && p <= 1.f; }

void CheckRun(const proto::RunMetadata& run, const std::string& path, Violations& v) {
  v.Check(!run.name().empty(), path + ".name", "\"\"", "must name the run");
  v.Check(run.profile() != proto::PROFILE_UNSPECIFIED, path + ".profile",
          proto::Profile_Name(run.profile()), "set DEFAULT, CI or PAPER");
  v.Check(run.num_threads() >= 0, path + ".num_threads", run.num_threads(), "must be >= 0");
  v.Check(!run.device().empty(), path + ".device", "\"\"", "e.g. \"cpu\" or \"cuda\"");
  const proto::Placement& placement = run.placement();
  v.Check(placement.nodes() >= 1, path + ".placement.nodes", placement.nodes(), "must be >= 1");
  v.Check(placement.processes_per_node() >= 1, path + ".placement.processes_per_node",
          placement.processes_per_node(), "must be >= 1");
  v.Check(placement.cpus_per_process() >= 1, path + ".placement.cpus_per_process",
          placement.cpus_per_process(), "must be >= 1");
}

// Channels a dataset yields before augmentation, or 0 where it is only known at run time.
int DatasetChannels(const proto::Dataset& dataset) {
  return dataset.has_fashion_mnist() ? 1 : dataset.has_image_folder() ? 3 : 0;
}

void CheckDataset(const proto::Dataset& dataset, const std::string& path, Violations& v) {
  switch (dataset.source_case()) {
    case proto::Dataset::kFashionMnist:
      v.Check(!dataset.fashion_mnist().root().empty(), path + ".fashion_mnist.root", "\"\"",
              "must be a directory");
      v.Check(dataset.fashion_mnist().limit() >= 0, path + ".fashion_mnist.limit",
              dataset.fashion_mnist().limit(), "must be >= 0 (0 = all)");
      v.Check(dataset.fashion_mnist().split() != proto::FashionMnist::SPLIT_UNSPECIFIED,
              path + ".fashion_mnist.split", "SPLIT_UNSPECIFIED", "set TRAIN or TEST");
      return;
    case proto::Dataset::kImageFolder:
      v.Check(!dataset.image_folder().root().empty(), path + ".image_folder.root", "\"\"",
              "must be a directory");
      return;
    case proto::Dataset::SOURCE_NOT_SET:
      break;
  }
  v.Missing(false, path + " (fashion_mnist or image_folder)");
}

void CheckMeanStd(const google::protobuf::RepeatedField<float>& mean,
                  const google::protobuf::RepeatedField<float>& std, int channels,
                  const std::string& path, Violations& v) {
  v.Check(mean.size() == channels, path + ".mean",
          absl::StrCat("[", absl::StrJoin(mean, ", "), "]"),
          absl::StrCat("needs one value per output channel (", channels, ")"));
  v.Check(std.size() == channels, path + ".std", absl::StrCat("[", absl::StrJoin(std, ", "), "]"),
          absl::StrCat("needs one value per output channel (", channels, ")"));
  for (int i = 0; i < std.size(); ++i) {
    v.Check(std.Get(i) > 0.f, absl::StrCat(path, ".std[", i, "]"), std.Get(i), "must be > 0");
  }
}

void CheckGrayscalePolicy(proto::Augmentation::GrayscaleInput policy, int input_channels,
                          const std::string& path, Violations& v) {
  if (input_channels == 1) {
    v.Check(policy != proto::Augmentation::GRAYSCALE_INPUT_UNSPECIFIED, path + ".grayscale_input",
            "GRAYSCALE_INPUT_UNSPECIFIED",
            "the dataset is grayscale: choose KEEP_GRAY, REPLICATE_RGB or RANDOM_TINT");
  }
}

void CheckAugmentation(const proto::Augmentation& a, int input_channels, const std::string& path,
                       Violations& v) {
  v.Check(a.crop_size() > 0, path + ".crop_size", a.crop_size(), "must be > 0");
  v.Check(a.crop_scale_min() > 0.f && a.crop_scale_min() <= a.crop_scale_max() &&
              a.crop_scale_max() <= 1.f,
          path + ".crop_scale_min/max", absl::StrCat(a.crop_scale_min(), "/", a.crop_scale_max()),
          "need 0 < min <= max <= 1");
  v.Check(a.crop_ratio_min() > 0.f && a.crop_ratio_min() <= a.crop_ratio_max(),
          path + ".crop_ratio_min/max", absl::StrCat(a.crop_ratio_min(), "/", a.crop_ratio_max()),
          "need 0 < min <= max");
  const std::pair<const char*, float> probabilities[] = {
      {".color_jitter_prob", a.color_jitter_prob()},
      {".grayscale_prob", a.grayscale_prob()},
      {".blur_prob", a.blur_prob()},
      {".flip_prob", a.flip_prob()}};
  for (const auto& [name, p] : probabilities) {
    v.Check(IsProbability(p), path + name, p, "must be a probability in [0, 1]");
  }
  v.Check(a.brightness() >= 0.f && a.brightness() <= 1.f, path + ".brightness", a.brightness(),
          "must be in [0, 1]");
  v.Check(a.contrast() >= 0.f && a.contrast() <= 1.f, path + ".contrast", a.contrast(),
          "must be in [0, 1]");
  v.Check(a.saturation() >= 0.f && a.saturation() <= 1.f, path + ".saturation", a.saturation(),
          "must be in [0, 1]");
  v.Check(a.hue() >= 0.f && a.hue() <= 0.5f, path + ".hue", a.hue(), "must be in [0, 0.5]");
  v.Check(a.blur_sigma_min() > 0.f && a.blur_sigma_min() <= a.blur_sigma_max(),
          path + ".blur_sigma_min/max", absl::StrCat(a.blur_sigma_min(), "/", a.blur_sigma_max()),
          "need 0 < min <= max");
  v.Check(a.blur_kernel_fraction() > 0.f && a.blur_kernel_fraction() <= 1.f,
          path + ".blur_kernel_fraction", a.blur_kernel_fraction(), "must be in (0, 1]");
  CheckGrayscalePolicy(a.grayscale_input(), input_channels, path, v);
  if (input_channels == 1 && a.grayscale_input() == proto::Augmentation::KEEP_GRAY) {
    // On one channel these are identities; a non-zero value would silently do nothing.
    v.Check(a.saturation() == 0.f, path + ".saturation", a.saturation(),
            "has no effect with grayscale_input KEEP_GRAY; set 0 or use RANDOM_TINT");
    v.Check(a.hue() == 0.f, path + ".hue", a.hue(),
            "has no effect with grayscale_input KEEP_GRAY; set 0 or use RANDOM_TINT");
    v.Check(a.grayscale_prob() == 0.f, path + ".grayscale_prob", a.grayscale_prob(),
            "has no effect with grayscale_input KEEP_GRAY; set 0 or use RANDOM_TINT");
  }
  if (input_channels > 0) {
    CheckMeanStd(a.mean(), a.std(), TransformedChannels(a.grayscale_input(), input_channels), path,
                 v);
  }
}

void CheckEvalTransform(const proto::EvalTransform& t, int input_channels, const std::string& path,
                        Violations& v) {
  v.Check(t.crop_size() > 0, path + ".crop_size", t.crop_size(), "must be > 0");
  v.Check(t.resize() >= t.crop_size(), path + ".resize", t.resize(), "must be >= crop_size");
  CheckGrayscalePolicy(t.grayscale_input(), input_channels, path, v);
  if (input_channels > 0) {
    CheckMeanStd(t.mean(), t.std(), TransformedChannels(t.grayscale_input(), input_channels), path,
                 v);
  }
}

void CheckLoader(const proto::Loader& loader, const std::string& path, Violations& v) {
  v.Check(loader.num_workers() >= 0, path + ".num_workers", loader.num_workers(), "must be >= 0");
  v.Check(loader.prefetch_batches() >= 1, path + ".prefetch_batches", loader.prefetch_batches(),
          "must be >= 1");
}

void CheckBackbone(const proto::Backbone& b, const std::string& path, Violations& v) {
  v.Check(b.architecture() != proto::Backbone::ARCHITECTURE_UNSPECIFIED, path + ".architecture",
          "ARCHITECTURE_UNSPECIFIED", "set RESNET18, RESNET34, RESNET50 or RESNET101");
  v.Check(b.width() > 0, path + ".width", b.width(), "must be > 0");
  v.Check(b.in_channels() == 1 || b.in_channels() == 3, path + ".in_channels", b.in_channels(),
          "must be 1 or 3");
}

void CheckOptimizer(const proto::Optimizer& o, int epochs, const std::string& path, Violations& v) {
  v.Check(o.base_lr() > 0.f, path + ".base_lr", o.base_lr(), "must be > 0");
  v.Check(o.momentum() >= 0.f && o.momentum() < 1.f, path + ".momentum", o.momentum(),
          "must be in [0, 1)");
  v.Check(o.weight_decay() >= 0.f, path + ".weight_decay", o.weight_decay(), "must be >= 0");
  switch (o.schedule_case()) {
    case proto::Optimizer::kCosine:
      v.Check(o.cosine().warmup_epochs() >= 0 && o.cosine().warmup_epochs() < epochs,
              path + ".cosine.warmup_epochs", o.cosine().warmup_epochs(),
              absl::StrCat("must be in [0, epochs = ", epochs, ")"));
      return;
    case proto::Optimizer::kStep: {
      int previous = 0;
      for (int i = 0; i < o.step().milestones_size(); ++i) {
        const int m = o.step().milestones(i);
        v.Check(m > previous && m < epochs, absl::StrCat(path, ".step.milestones[", i, "]"), m,
                absl::StrCat("must increase and lie in (0, epochs = ", epochs, ")"));
        previous = m;
      }
      v.Check(o.step().gamma() > 0.f && o.step().gamma() <= 1.f, path + ".step.gamma",
              o.step().gamma(), "must be in (0, 1]");
      return;
    }
    case proto::Optimizer::SCHEDULE_NOT_SET:
      break;
  }
  v.Missing(false, path + ".schedule (cosine or step)");
}

void CheckMixing(const proto::HardNegativeMixing& x, int queue_size, int epochs,
                 const std::string& path, Violations& v) {
  v.Missing(x.has_num_hardest(), path + ".num_hardest (N)");
  v.Missing(x.has_num_mixed_pairs(), path + ".num_mixed_pairs (s)");
  v.Missing(x.has_num_query_mixed(), path + ".num_query_mixed (s')");
  const int n = x.num_hardest();
  v.Check(n >= 1 && n <= queue_size, path + ".num_hardest (N)", n,
          absl::StrCat("must be in [1, queue_size K = ", queue_size, "]"));
  v.Check(x.num_mixed_pairs() >= 0, path + ".num_mixed_pairs (s)", x.num_mixed_pairs(),
          "must be >= 0");
  v.Check(x.num_query_mixed() >= 0, path + ".num_query_mixed (s')", x.num_query_mixed(),
          "must be >= 0");
  v.Check(
      x.num_mixed_pairs() == 0 || n >= 2, path + ".num_hardest (N)", n,
      absl::StrCat("mixing pairs of hard negatives (s = ", x.num_mixed_pairs(), ") needs N >= 2"));
  v.Check(x.num_mixed_pairs() + x.num_query_mixed() > 0,
          path + ".num_mixed_pairs + num_query_mixed", 0,
          "MoCHi with no synthetic negatives is MoCo-v2: remove `mixing` instead");
  v.Check(x.query_mix_max() > 0.f && x.query_mix_max() <= 0.5f, path + ".query_mix_max (beta max)",
          x.query_mix_max(), "must be in (0, 0.5] so the query's share stays below the negative's");
  v.Check(x.start_epoch() >= 0 && x.start_epoch() < epochs, path + ".start_epoch", x.start_epoch(),
          absl::StrCat("must be in [0, epochs = ", epochs, ")"));
}

void CheckMoco(const proto::MoCo& m, int batch_size, int epochs, const std::string& path,
               Violations& v) {
  v.Check(m.queue_size() > 0, path + ".queue_size (K)", m.queue_size(), "must be > 0");
  if (batch_size > 0) {
    v.Check(m.queue_size() % batch_size == 0, path + ".queue_size (K)", m.queue_size(),
            absl::StrCat("must be a multiple of the global batch size ", batch_size,
                         " (each step enqueues a whole batch of keys)"));
  }
  v.Check(m.momentum() >= 0.f && m.momentum() < 1.f, path + ".momentum (m)", m.momentum(),
          "must be in [0, 1)");
  v.Check(m.temperature() > 0.f, path + ".temperature (tau)", m.temperature(), "must be > 0");
  v.Check(m.bn_groups() >= 1, path + ".bn_groups", m.bn_groups(), "must be >= 1");
  if (batch_size > 0 && m.bn_groups() >= 1) {
    v.Check(batch_size % m.bn_groups() == 0, path + ".bn_groups", m.bn_groups(),
            absl::StrCat("must divide the batch size ", batch_size));
  }
  v.Check(m.loss_head_tile_rows() >= 0, path + ".loss_head_tile_rows", m.loss_head_tile_rows(),
          "must be >= 0 (0 = materialised logits)");
  if (m.has_mixing()) CheckMixing(m.mixing(), m.queue_size(), epochs, path + ".mixing", v);
}

}  // namespace

namespace {

// OK unless merging `override_text` changed the objective the config file at `path` had.
absl::Status CheckObjectiveKept(const std::string& path, const std::string& override_text,
                                proto::PretrainConfig::ObjectiveCase in_file,
                                const proto::PretrainConfig& merged) {
  if (in_file == merged.objective_case() || in_file == proto::PretrainConfig::OBJECTIVE_NOT_SET) {
    return absl::OkStatus();
  }
  const auto name = [](proto::PretrainConfig::ObjectiveCase objective) {
    return proto::PretrainConfig::descriptor()->FindFieldByNumber(objective)->name();
  };
  return absl::InvalidArgumentError(absl::StrCat(
      path, ": the override '", override_text, "' sets `", name(merged.objective_case()),
      "`, but the config's objective is `", name(in_file),
      "`: an override cannot change what is trained (use a config of that objective)"));
}

}  // namespace

int TransformedChannels(proto::Augmentation::GrayscaleInput policy, int input_channels) {
  return input_channels == 1 && policy == proto::Augmentation::KEEP_GRAY ? 1 : 3;
}

absl::Status Validate(const proto::PretrainConfig& c) {
  Violations v;
  v.Missing(c.has_run(), "run");
  v.Missing(c.has_dataset(), "dataset");
  v.Missing(c.has_augmentation(), "augmentation");
  v.Missing(c.has_backbone(), "backbone");
  v.Missing(c.objective_case() != proto::PretrainConfig::OBJECTIVE_NOT_SET,
            "the objective (moco or supervised)");
  v.Missing(c.has_optimizer(), "optimizer");
  v.Check(c.epochs() > 0, "epochs", c.epochs(), "must be > 0");
  v.Check(c.batch_size() > 0, "batch_size", c.batch_size(), "must be > 0");
  v.Check(c.checkpoint_every_epochs() > 0, "checkpoint_every_epochs", c.checkpoint_every_epochs(),
          "must be > 0");
  v.Check(c.log_every_steps() > 0, "log_every_steps", c.log_every_steps(), "must be > 0");
  v.Check(c.stats_queries() >= 0, "stats_queries", c.stats_queries(), "must be >= 0");
  if (c.has_run()) CheckRun(c.run(), "run", v);
  if (c.has_dataset()) CheckDataset(c.dataset(), "dataset", v);
  const int input_channels = DatasetChannels(c.dataset());
  if (c.has_augmentation()) CheckAugmentation(c.augmentation(), input_channels, "augmentation", v);
  CheckLoader(c.loader(), "loader", v);
  if (c.has_backbone()) {
    CheckBackbone(c.backbone(), "backbone", v);
    if (c.has_augmentation() && input_channels > 0) {
      const int channels = TransformedChannels(c.augmentation().grayscale_input(), input_channels);
      v.Check(c.backbone().in_channels() == channels, "backbone.in_channels",
              c.backbone().in_channels(),
              absl::StrCat("must equal the augmentation's output channels (", channels, ")"));
    }
  }
  if (c.has_moco()) {
    v.Check(c.head().output_dim() > 0, "head.output_dim", c.head().output_dim(), "must be > 0");
    v.Check(c.head().hidden_dim() >= 0, "head.hidden_dim", c.head().hidden_dim(),
            "must be >= 0 (0 = backbone feature dim)");
    CheckMoco(c.moco(), c.batch_size(), c.epochs(), "moco", v);
  }
  if (c.has_supervised()) {
    v.Check(c.supervised().num_classes() > 0, "supervised.num_classes",
            c.supervised().num_classes(), "must be > 0");
    v.Check(!c.has_head(), "head", "set",
            "the supervised baseline has no projection head (MoCo's): remove it");
  }
  if (c.has_optimizer()) CheckOptimizer(c.optimizer(), c.epochs(), "optimizer", v);
  return v.ToStatus();
}

absl::Status Validate(const proto::LinearEvalConfig& c) {
  Violations v;
  v.Missing(c.has_run(), "run");
  v.Missing(c.has_train_dataset(), "train_dataset");
  v.Missing(c.has_test_dataset(), "test_dataset");
  v.Missing(c.has_test_transform(), "test_transform");
  v.Missing(c.has_optimizer(), "optimizer");
  v.Check(c.epochs() > 0, "epochs", c.epochs(), "must be > 0");
  v.Check(c.batch_size() > 0, "batch_size", c.batch_size(), "must be > 0");
  if (c.has_run()) CheckRun(c.run(), "run", v);
  if (c.has_train_dataset()) CheckDataset(c.train_dataset(), "train_dataset", v);
  if (c.has_test_dataset()) CheckDataset(c.test_dataset(), "test_dataset", v);
  const int input_channels = DatasetChannels(c.train_dataset());
  if (c.has_train_augmentation()) {
    CheckAugmentation(c.train_augmentation(), input_channels, "train_augmentation", v);
  }
  if (c.has_test_transform()) {
    CheckEvalTransform(c.test_transform(), input_channels, "test_transform", v);
  }
  v.Check(!(c.cache_features() && c.has_train_augmentation()), "cache_features", "true",
          "cached features are computed once, so train_augmentation must be absent");
  v.Check(c.cache_features() || c.has_train_augmentation(), "cache_features", "false",
          "training on augmented images needs train_augmentation (main_lincls: crop + flip)");
  CheckLoader(c.loader(), "loader", v);
  if (c.has_optimizer()) CheckOptimizer(c.optimizer(), c.epochs(), "optimizer", v);
  if (c.has_knn()) {
    v.Check(c.knn().k() > 0, "knn.k", c.knn().k(), "must be > 0");
    v.Check(c.knn().temperature() > 0.f, "knn.temperature", c.knn().temperature(), "must be > 0");
    v.Check(c.knn().chunk_size() > 0, "knn.chunk_size", c.knn().chunk_size(), "must be > 0");
  }
  return v.ToStatus();
}

namespace {
void CheckDetection(const proto::DetectionConfig& c, const std::string& prefix, Violations& v) {
  v.Missing(c.has_backbone(), prefix + "backbone");
  v.Missing(c.has_init(), prefix + "init (checkpoint or random)");
  v.Missing(c.has_train(), prefix + "train");
  v.Missing(c.has_test(), prefix + "test");
  if (c.has_backbone()) CheckBackbone(c.backbone(), prefix + "backbone", v);
  if (c.has_init()) {
    v.Check(c.init().source_case() != proto::BackboneInit::SOURCE_NOT_SET, prefix + "init", "{}",
            "set checkpoint or random");
  }
  for (const auto* split : {&c.train(), &c.test()}) {
    const std::string name = prefix + (split == &c.train() ? "train" : "test");
    if (split->format_case() == proto::DetectionDataset::FORMAT_NOT_SET) {
      v.Missing(false, name + " (voc_root or coco)");
    }
    if (split->has_voc_root()) {
      v.Check(split->image_sets_size() > 0, name + ".image_sets", "[]",
              "VOC needs image sets, e.g. \"2007_trainval\"");
    }
  }
  v.Check(c.num_classes() > 0, prefix + "num_classes", c.num_classes(), "must be > 0");
  v.Check(c.norm() != proto::DetectionConfig::NORM_UNSPECIFIED, prefix + "norm", "NORM_UNSPECIFIED",
          "set FROZEN_BN, BN or SYNC_BN");
  v.Check(c.base_lr() > 0.f, prefix + "base_lr", c.base_lr(), "must be > 0");
  v.Check(c.ims_per_batch() > 0, prefix + "ims_per_batch", c.ims_per_batch(), "must be > 0");
  v.Check(c.max_iter() > 0, prefix + "max_iter", c.max_iter(), "must be > 0");
  int previous = 0;
  for (int i = 0; i < c.steps_size(); ++i) {
    v.Check(c.steps(i) > previous && c.steps(i) < c.max_iter(),
            absl::StrCat(prefix, "steps[", i, "]"), c.steps(i),
            absl::StrCat("must increase and lie in (0, max_iter = ", c.max_iter(), ")"));
    previous = c.steps(i);
  }
  v.Check(c.warmup_iters() >= 0 && c.warmup_iters() < std::max(1, c.max_iter()),
          prefix + "warmup_iters", c.warmup_iters(), "must be in [0, max_iter)");
  v.Check(c.min_size_train_size() > 0, prefix + "min_size_train", "[]", "needs at least one size");
  for (int i = 0; i < c.min_size_train_size(); ++i) {
    v.Check(c.min_size_train(i) > 0, absl::StrCat(prefix, "min_size_train[", i, "]"),
            c.min_size_train(i), "must be > 0");
  }
  v.Check(c.min_size_test() > 0, prefix + "min_size_test", c.min_size_test(), "must be > 0");
  v.Check(c.max_size() > 0, prefix + "max_size", c.max_size(), "must be > 0");
  v.Check(c.pixel_mean_size() == c.backbone().in_channels(), prefix + "pixel_mean",
          c.pixel_mean_size(), "needs one value per backbone input channel");
  v.Check(c.pixel_std_size() == c.backbone().in_channels(), prefix + "pixel_std",
          c.pixel_std_size(), "needs one value per backbone input channel");
  for (int i = 0; i < c.pixel_std_size(); ++i) {
    v.Check(c.pixel_std(i) > 0.f, absl::StrCat(prefix, "pixel_std[", i, "]"), c.pixel_std(i),
            "must be > 0");
  }
  // Empty class_names: the dataset's (the 20 PASCAL VOC classes for VOC, the annotations' for
  // COCO); //eval:detect checks that case at run time.
  if (c.class_names_size() > 0) {
    v.Check(c.class_names_size() == c.num_classes(), prefix + "class_names", c.class_names_size(),
            "needs one name per class (num_classes)");
    for (int i = 0; i < c.class_names_size(); ++i) {
      const std::string& name = c.class_names(i);
      v.Check(!name.empty() && name.find_first_of(" \t/") == std::string::npos &&
                  std::count(c.class_names().begin(), c.class_names().end(), name) == 1,
              absl::StrCat(prefix, "class_names[", i, "]"), absl::StrCat("\"", name, "\""),
              "must be unique, non-empty and free of spaces and '/' (it names a results file)");
    }
  }
  for (int i = 0; i < c.anchor_sizes_size(); ++i) {
    v.Check(c.anchor_sizes(i) > 0.f, absl::StrCat(prefix, "anchor_sizes[", i, "]"),
            c.anchor_sizes(i), "must be > 0");
  }
  for (int i = 0; i < c.anchor_aspect_ratios_size(); ++i) {
    v.Check(c.anchor_aspect_ratios(i) > 0.f, absl::StrCat(prefix, "anchor_aspect_ratios[", i, "]"),
            c.anchor_aspect_ratios(i), "must be > 0");
  }
  const std::pair<const char*, int> positive_counts[] = {
      {"rpn_pre_nms_topk_train", c.rpn_pre_nms_topk_train()},
      {"rpn_post_nms_topk_train", c.rpn_post_nms_topk_train()},
      {"rpn_pre_nms_topk_test", c.rpn_pre_nms_topk_test()},
      {"rpn_post_nms_topk_test", c.rpn_post_nms_topk_test()},
      {"rpn_batch_size_per_image", c.rpn_batch_size_per_image()},
      {"roi_batch_size_per_image", c.roi_batch_size_per_image()},
      {"detections_per_image", c.detections_per_image()},
      {"log_every_iters", c.log_every_iters()}};
  for (const auto& [name, count] : positive_counts) {
    v.Check(count > 0, prefix + name, count, "must be > 0");
  }
  v.Check(c.checkpoint_every_iters() >= 0, prefix + "checkpoint_every_iters",
          c.checkpoint_every_iters(), "must be >= 0 (0 = only at the end and on a signal)");
  const std::pair<const char*, float> unit_interval[] = {
      {"test_score_thresh", c.test_score_thresh()}, {"flip_prob", c.flip_prob()}};
  for (const auto& [name, value] : unit_interval) {
    v.Check(IsProbability(value), prefix + name, value, "must be in [0, 1]");
  }
  // As the detector itself requires: an NMS IoU threshold of 0
  // would suppress every box that overlaps a kept one at all.
  const std::pair<const char*, float> positive_fractions[] = {
      {"rpn_nms_thresh", c.rpn_nms_thresh()},
      {"test_nms_thresh", c.test_nms_thresh()},
      {"roi_positive_fraction", c.roi_positive_fraction()},
      {"gamma", c.gamma()},
      {"warmup_factor", c.warmup_factor()}};
  for (const auto& [name, value] : positive_fractions) {
    v.Check(value > 0.f && value <= 1.f, prefix + name, value, "must be in (0, 1]");
  }
  v.Check(c.momentum() >= 0.f && c.momentum() < 1.f, prefix + "momentum", c.momentum(),
          "must be in [0, 1)");
  v.Check(c.weight_decay() >= 0.f, prefix + "weight_decay", c.weight_decay(), "must be >= 0");
}
}  // namespace

absl::Status Validate(const proto::DetectionConfig& c) {
  Violations v;
  v.Missing(c.has_run(), "run");
  if (c.has_run()) CheckRun(c.run(), "run", v);
  CheckDetection(c, "", v);
  return v.ToStatus();
}

absl::Status Validate(const proto::SegmentationConfig& c) {
  Violations v;
  v.Missing(c.has_run(), "run");
  if (c.has_run()) CheckRun(c.run(), "run", v);
  v.Missing(c.has_detection(), "detection");
  if (c.has_detection()) CheckDetection(c.detection(), "detection.", v);
  v.Check(c.mask_resolution() > 0, "mask_resolution", c.mask_resolution(), "must be > 0");
  return v.ToStatus();
}

template <typename Config>
absl::StatusOr<Config> LoadConfig(const std::string& path, const std::string& override_text) {
  Config config;
  MOCHI_RETURN_IF_ERROR(ParseTextProtoFile(path, &config));
  if (!override_text.empty()) {
    if constexpr (std::is_same_v<Config, proto::PretrainConfig>) {
      // Merging `moco { ... }` into a supervised config would silently make it a MoCo run.
      const proto::PretrainConfig::ObjectiveCase in_file = config.objective_case();
      MOCHI_RETURN_IF_ERROR(MergeTextProto(override_text, "--override", &config));
      MOCHI_RETURN_IF_ERROR(CheckObjectiveKept(path, override_text, in_file, config));
    } else {
      MOCHI_RETURN_IF_ERROR(MergeTextProto(override_text, "--override", &config));
    }
  }
  absl::Status status = Validate(config);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, override_text.empty() ? "" : " (with --override)", ": invalid config:\n",
                     status.message()));
  }
  return config;
}

template absl::StatusOr<proto::PretrainConfig> LoadConfig(const std::string&, const std::string&);
template absl::StatusOr<proto::LinearEvalConfig> LoadConfig(const std::string&, const std::string&);
template absl::StatusOr<proto::DetectionConfig> LoadConfig(const std::string&, const std::string&);
template absl::StatusOr<proto::SegmentationConfig> LoadConfig(const std::string&,
                                                              const std::string&);

}  // namespace mochi
