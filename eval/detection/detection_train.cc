#include "eval/detection/detection_train.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <utility>

#include "ATen/ATen.h"
#include "ATen/CPUGeneratorImpl.h"
#include "absl/strings/str_cat.h"
#include "eval/detection/coco_dataset.h"
#include "eval/detection/detection_builders.h"
#include "eval/detection/detection_evaluators.h"
#include "eval/detection/detection_inference.h"
#include "eval/detection/detection_objective.h"
#include "eval/detection/detection_results.h"
#include "eval/detection/voc_dataset.h"
#include "eval/evaluator.h"
#include "eval/voc/voc_eval.h"
#include "mochi/config/validate.h"
#include "mochi/dist/communicator.h"
#include "mochi/engine/checkpoint.h"
#include "mochi/engine/builders.h"
#include "mochi/engine/hooks.h"
#include "mochi/engine/trainer.h"
#include "mochi/port/cpu_threads.h"
#include "mochi/port/device.h"
#include "mochi/port/json_proto.h"
#include "mochi/port/paths.h"
#include "mochi/port/status_macros.h"
#include "mochi/port/text_proto.h"
#include "mochi/port/torch_status.h"
#include "mochi/proto/results.pb.h"
#include "torch/optim/sgd.h"
#include "torch/serialize.h"
#include "torch/utils.h"

namespace mochi::eval::detection {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// SGD over the trainable parameters; norm layers get no weight decay (detectron2
// SOLVER.WEIGHT_DECAY_NORM = 0).
std::unique_ptr<torch::optim::SGD> MakeOptimizer(FasterRcnn& model,
                                                 const proto::DetectionConfig& config) {
  std::vector<const at::TensorImpl*> norm_params;
  for (const auto& module : model->modules(/*include_self=*/false)) {
    if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      norm_params.push_back(bn->weight.unsafeGetTensorImpl());
      norm_params.push_back(bn->bias.unsafeGetTensorImpl());
    }
  }
  std::vector<at::Tensor> decayed;
  std::vector<at::Tensor> not_decayed;
  for (const at::Tensor& p : model->parameters()) {
    if (!p.requires_grad()) continue;
    const bool is_norm = std::find(norm_params.begin(), norm_params.end(),
                                   p.unsafeGetTensorImpl()) != norm_params.end();
    (is_norm ? not_decayed : decayed).push_back(p);
  }
  const auto options = [&](double weight_decay) {
    return std::make_unique<torch::optim::SGDOptions>(torch::optim::SGDOptions(config.base_lr())
                                                          .momentum(config.momentum())
                                                          .weight_decay(weight_decay));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decayed, options(config.weight_decay()));
  if (!not_decayed.empty()) groups.emplace_back(not_decayed, options(0));
  return std::make_unique<torch::optim::SGD>(
      groups, torch::optim::SGDOptions(config.base_lr()).momentum(config.momentum()));
}

// A train or test split in either format, with what the results files need.
struct LoadedSplit {
  std::vector<DetectionRecord> records;
  std::vector<std::string> class_names;
  std::vector<int64_t> category_ids;  // COCO results ids: the categories' (COCO), 1..K (VOC)
  std::string coco_annotations;       // COCO only: the ground truth to evaluate against
};

// VOC reads the classes the config names; COCO brings its own, which must agree with the config
// (num_classes, and class_names when given) so a checkpointed head means the same classes.
absl::StatusOr<LoadedSplit> LoadSplit(const proto::DetectionConfig& config,
                                      const proto::DetectionDataset& dataset, bool with_masks) {
  LoadedSplit split;
  if (dataset.has_voc_root()) {
    if (with_masks) {
      return absl::InvalidArgumentError(
          "instance segmentation needs masks: use COCO-format datasets (coco { annotations "
          "images }), not voc_root");
    }
    if (config.class_names_size() == 0 && config.num_classes() != 20) {
      return absl::InvalidArgumentError(absl::StrCat(
          "class_names is empty, which means the 20 PASCAL VOC classes, but num_classes is ",
          config.num_classes(), ": list the dataset's class names"));
    }
    split.class_names = DetectionClassNames(config);
    MOCHI_ASSIGN_OR_RETURN(
        split.records, LoadVocRecords(ResolvePath(dataset.voc_root()),
                                      {dataset.image_sets().begin(), dataset.image_sets().end()},
                                      split.class_names));
    split.category_ids.resize(split.class_names.size());
    std::iota(split.category_ids.begin(), split.category_ids.end(), 1);
    return split;
  }
  split.coco_annotations = ResolvePath(dataset.coco().annotations());
  MOCHI_ASSIGN_OR_RETURN(
      CocoDataset coco,
      LoadCocoDataset(split.coco_annotations, ResolvePath(dataset.coco().images()), with_masks));
  if (static_cast<int>(coco.class_names.size()) != config.num_classes()) {
    return absl::InvalidArgumentError(
        absl::StrCat(split.coco_annotations, " has ", coco.class_names.size(),
                     " categories but num_classes is ", config.num_classes()));
  }
  if (config.class_names_size() > 0 &&
      !std::equal(coco.class_names.begin(), coco.class_names.end(), config.class_names().begin())) {
    return absl::InvalidArgumentError(
        absl::StrCat(split.coco_annotations,
                     ": the category names (in increasing id order) differ from class_names"));
  }
  split.records = std::move(coco.records);
  split.class_names = std::move(coco.class_names);
  split.category_ids = std::move(coco.category_ids);
  return split;
}

// --coco_root: <root>/annotations/<annotation file name> and <root>/<image directory name>.
void ReplaceCocoRoot(const std::string& root, proto::CocoFiles& files) {
  files.set_annotations(absl::StrCat(
      root, "/annotations/", std::filesystem::path(files.annotations()).filename().string()));
  std::string images = files.images();
  while (images.size() > 1 && images.back() == '/') images.pop_back();  // "coco/train/"
  files.set_images(absl::StrCat(root, "/", std::filesystem::path(images).filename().string()));
}



// The test split's evaluator: VOC AP for a VOC test set, COCO box (and, with masks, mask) AP for
// a COCO one. Each writes the detections in its reference tool's format into the run directory.
absl::StatusOr<std::unique_ptr<Evaluator>> MakeTestEvaluator(const proto::DetectionConfig& config,
                                                             const LoadedSplit& test, bool mask_on,
                                                             const std::string& output_dir) {
  if (!config.test().has_voc_root()) {
    return std::unique_ptr<Evaluator>(std::make_unique<CocoDetectionEvaluator>(
        test.coco_annotations, output_dir + "/coco_results.json", test.category_ids, mask_on));
  }
  MOCHI_ASSIGN_OR_RETURN(
      VocImageSet test_set,
      ParseVocImageSet(ResolvePath(config.test().voc_root()), config.test().image_sets(0)));
  voc::VocEvalOptions options;
  options.voc_root = test_set.year_root;
  options.split = test_set.split;
  options.results_dir = output_dir + "/voc_results";
  options.class_names = test.class_names;
  options.metric = voc::VocMetric::kVoc07ElevenPoint;
  return std::unique_ptr<Evaluator>(std::make_unique<VocDetectionEvaluator>(std::move(options)));
}

// The scores of `evaluated` into the run's result, printed as detectron2 prints them.
void RecordScores(const proto::EvaluationResult& evaluated, proto::TransferResult& result) {
  if (evaluated.has_voc()) {
    const proto::VocMetrics& voc = evaluated.voc();
    std::printf("copypaste: AP50,AP,AP75\ncopypaste: %.4f,%.4f,%.4f\n%s\n", voc.ap50(), voc.ap(),
                voc.ap75(), ToJsonLine(voc).c_str());
    *result.mutable_voc() = voc;
  }
  if (evaluated.has_coco()) {
    const proto::CocoEvaluation& coco = evaluated.coco();
    for (const auto& [name, metrics] : {std::pair{"bbox", &coco.bbox()}, {"segm", &coco.segm()}}) {
      if (!metrics->has_ap()) continue;
      std::printf("%s: AP %.4f  AP50 %.4f  AP75 %.4f\n", name, metrics->ap(), metrics->ap50(),
                  metrics->ap75());
    }
    if (coco.has_bbox()) *result.mutable_bbox() = coco.bbox();
    if (coco.has_segm()) *result.mutable_segm() = coco.segm();
  }
}

// Both binaries: train, detect on the test split, write and score the results.
absl::Status TrainAndEvaluate(const proto::DetectionConfig& config, bool mask_on,
                              const std::string& resolved_config_text,
                              const DetectionRunOptions& run) {
  if (run.output_dir.empty()) return absl::InvalidArgumentError("output_dir is required");
  if (run.evaluate && config.test().has_voc_root() && config.test().image_sets_size() != 1) {
    return absl::InvalidArgumentError("evaluation needs exactly one test image set");
  }
  ConfigureCpuThreads(config.run().num_threads());
  at::manual_seed(config.run().seed());
  MOCHI_ASSIGN_OR_RETURN(LoadedSplit train, LoadSplit(config, config.train(), mask_on));
  MOCHI_ASSIGN_OR_RETURN(LoadedSplit test, LoadSplit(config, config.test(), false));
  if (train.class_names != test.class_names) {
    return absl::InvalidArgumentError("the train and test splits name different classes");
  }
  // DATALOADER.FILTER_EMPTY_ANNOTATIONS: images without objects do not train.
  train.records.erase(std::remove_if(train.records.begin(), train.records.end(),
                                     [](const DetectionRecord& r) { return r.boxes.empty(); }),
                      train.records.end());
  if (train.records.empty()) {
    return absl::InvalidArgumentError("the train split has no image with objects");
  }
  // The run directory only once config and data are known good.
  const std::string checkpoint_path = run.output_dir + "/checkpoint.pt";
  if (!run.resume && std::filesystem::exists(checkpoint_path)) {
    return absl::FailedPreconditionError(absl::StrCat(
        checkpoint_path, " exists: pass --resume to continue it, or choose another --output_dir"));
  }
  std::error_code error;
  std::filesystem::create_directories(run.output_dir, error);
  if (error) return absl::InternalError(absl::StrCat("cannot create ", run.output_dir));
  MOCHI_RETURN_IF_ERROR(
      WriteFileAtomically(run.output_dir + "/config.pbtxt", resolved_config_text));
  MOCHI_ASSIGN_OR_RETURN(models::ResNet backbone, BuildDetectionBackbone(config));
  FasterRcnnOptions options = BuildFasterRcnnOptions(config);
  options.mask_on = mask_on;
  MOCHI_ASSIGN_OR_RETURN(FasterRcnn model, MakeFasterRcnn(backbone, options));
  MOCHI_ASSIGN_OR_RETURN(const at::Device device, ResolveDevice(config.run().device()));
  MOCHI_RETURN_IF_ERROR(TorchToStatus("moving the model", [&] { model->to(device); }));
  std::unique_ptr<torch::optim::SGD> optimizer = MakeOptimizer(model, config);
  const int channels = config.backbone().in_channels();
  std::printf("%s: %zu train / %zu test images, %d classes, backbone %s from %s\n",
              mask_on ? "segment" : "detect", train.records.size(), test.records.size(),
              config.num_classes(), DescribeBackbone(config.backbone()).c_str(),
              config.init().has_checkpoint() ? config.init().checkpoint().c_str() : "random init");

  // The trainer's loop: one epoch of max_iter steps; the learning rate is set before every step.
  const uint64_t seed = static_cast<uint64_t>(config.run().seed());
  DetectionBatches batches(static_cast<int64_t>(train.records.size()), config.ims_per_batch(),
                           config.max_iter(), seed);
  // The anchor and region sampling draws; saved in the checkpoint with the default stream.
  at::Generator sampling = at::make_generator<at::CPUGeneratorImpl>(config.run().seed() + 1);
  const NamedGenerators generators = {{"torch", at::detail::getDefaultCPUGenerator()},
                                      {"sampling", sampling}};
  DetectionObjective objective(model, *optimizer, train.records, config, sampling);
  TrainerState state;
  state.epochs = 1;
  state.steps_per_epoch = config.max_iter();
  state.position.config_text = resolved_config_text;
  if (run.resume && std::filesystem::exists(checkpoint_path)) {
    MOCHI_ASSIGN_OR_RETURN(state.position,
                           LoadCheckpoint(checkpoint_path, *model, optimizer.get(), generators));
    if (state.position.config_text != resolved_config_text) {
      return absl::FailedPreconditionError(absl::StrCat(
          checkpoint_path, ": was written with a different config; compare ", run.output_dir,
          "/config.pbtxt with the one given"));
    }
    std::printf("Resuming %s at iteration %lld\n", checkpoint_path.c_str(),
                static_cast<long long>(state.position.global_step));
  }
  // One process: the stop and checkpoint hooks' collectives are no-ops.
  MOCHI_ASSIGN_OR_RETURN(
      std::unique_ptr<dist::Communicator> one_process,
      dist::Communicator::Create(dist::DistributedEnv{}, device, absl::Minutes(1)));
  std::vector<std::unique_ptr<HookBase>> hooks;
  hooks.push_back(std::make_unique<LrScheduleHook>(
      [&config](int64_t iter) { return DetectionLearningRate(config, iter); }, optimizer.get(),
      LrScheduleHook::Every::kStep));
  hooks.push_back(
      std::make_unique<ProgressHook>(config.log_every_iters(), config.ims_per_batch(), objective));
  hooks.push_back(
      std::make_unique<StopHook>(*one_process, device, run.max_iters, checkpoint_path));
  hooks.push_back(std::make_unique<CheckpointHook>(checkpoint_path, /*every_epochs=*/1, *model,
                                                   *optimizer, generators, *one_process,
                                                   config.checkpoint_every_iters()));
  const Clock::time_point train_start = Clock::now();
  MOCHI_RETURN_IF_ERROR(Train(batches, objective, hooks, state));
  const double train_seconds = Seconds(train_start);
  if (state.position.global_step < config.max_iter()) {
    std::printf("stopped at iteration %lld of %d; checkpoint %s (continue with --resume)\n",
                static_cast<long long>(state.position.global_step), config.max_iter(),
                checkpoint_path.c_str());
    return absl::OkStatus();
  }
  MOCHI_RETURN_IF_ERROR(TorchToStatus(
      "saving the model", [&] { torch::save(model, run.output_dir + "/model_final.pt"); }));

  const Clock::time_point test_start = Clock::now();
  model->eval();
  MOCHI_ASSIGN_OR_RETURN(std::vector<ImageDetections> detections,
                         DetectRecords(model, test.records, channels, config.min_size_test(),
                                       config.max_size(), config.ims_per_batch()));
  const double test_seconds = Seconds(test_start);
  proto::TransferResult result;
  *result.mutable_last_iter() = objective.last();
  result.set_train_seconds(train_seconds);
  result.set_test_seconds(test_seconds);
  result.set_test_images(static_cast<int32_t>(test.records.size()));
  if (run.evaluate) {
    MOCHI_ASSIGN_OR_RETURN(std::unique_ptr<Evaluator> evaluator,
                           MakeTestEvaluator(config, test, mask_on, run.output_dir));
    ModelOutputs outputs;
    outputs.detections = &detections;
    MOCHI_ASSIGN_OR_RETURN(const proto::EvaluationResult evaluated, evaluator->Evaluate(outputs));
    RecordScores(evaluated, result);
  } else {
    const std::string path = run.output_dir + "/coco_results.json";
    MOCHI_RETURN_IF_ERROR(WriteCocoResults(path, test.category_ids, detections));
    std::printf("detections written to %s (not scored)\n", path.c_str());
  }
  std::printf("train %.1f s, test %.1f s\n", train_seconds, test_seconds);
  return WriteJsonProto(run.output_dir + "/metrics.json", result);
}

// The run options' dataset and init replacements.
void ApplyRunOptions(const DetectionRunOptions& run, proto::DetectionConfig& config) {
  for (proto::DetectionDataset* split : {config.mutable_train(), config.mutable_test()}) {
    if (!run.voc_root.empty() && split->has_voc_root()) split->set_voc_root(run.voc_root);
    if (!run.coco_root.empty() && split->has_coco()) {
      ReplaceCocoRoot(run.coco_root, *split->mutable_coco());
    }
  }
  if (run.random_init) {
    config.mutable_init()->set_random(true);
  } else if (!run.checkpoint.empty()) {
    config.mutable_init()->set_checkpoint(run.checkpoint);
  }
}

}  // namespace

absl::StatusOr<DetectionRunOptions> MakeDetectionRunOptions(
    const std::string& checkpoint, bool random_init, const std::string& voc_root,
    const std::string& coco_root, const std::string& output_dir, bool evaluate, bool resume,
    int64_t max_iters) {
  if (random_init && !checkpoint.empty()) {
    return absl::InvalidArgumentError("--checkpoint and --random_init are exclusive");
  }
  if (output_dir.empty()) return absl::InvalidArgumentError("--output_dir is required");
  const auto resolve = [](const std::string& path) {
    return path.empty() ? path : ResolvePath(path);
  };
  DetectionRunOptions run;
  run.output_dir = resolve(output_dir);
  run.checkpoint = resolve(checkpoint);
  run.random_init = random_init;
  run.voc_root = resolve(voc_root);
  run.coco_root = resolve(coco_root);
  run.evaluate = evaluate;
  run.resume = resume;
  run.max_iters = max_iters;
  return run;
}

absl::Status RunDetection(proto::DetectionConfig config, const DetectionRunOptions& run) {
  ApplyRunOptions(run, config);
  MOCHI_RETURN_IF_ERROR(Validate(config));
  return TrainAndEvaluate(config, /*mask_on=*/false,
                          "# proto-message: mochi.proto.DetectionConfig\n" + ToTextProto(config),
                          run);
}

absl::Status RunSegmentation(proto::SegmentationConfig config, const DetectionRunOptions& run) {
  // `detection.run` is ignored: the segmentation run's metadata applies.
  *config.mutable_detection()->mutable_run() = config.run();
  ApplyRunOptions(run, *config.mutable_detection());
  MOCHI_RETURN_IF_ERROR(Validate(config));
  // The C4 mask head doubles res5's output, which halves the 14x14 pooler: 14x14 masks.
  const int64_t side = MaskSide(FasterRcnnOptions());
  if (config.mask_resolution() != side) {
    return absl::InvalidArgumentError(absl::StrCat("mask_resolution is ", config.mask_resolution(),
                                                   " but the C4 mask head predicts ", side, "x",
                                                   side, " masks"));
  }
  return TrainAndEvaluate(config.detection(), /*mask_on=*/true,
                          "# proto-message: mochi.proto.SegmentationConfig\n" + ToTextProto(config),
                          run);
}

}  // namespace mochi::eval::detection
