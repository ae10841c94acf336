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
#include "absl/strings/str_format.h"
#include "eval/coco/coco_eval.h"
#include "eval/coco/coco_json.h"
#include "eval/coco/mask.h"
#include "eval/detection/coco_dataset.h"
#include "eval/detection/detection_builders.h"
#include "eval/detection/mask_ops.h"
#include "eval/voc/voc_eval.h"
#include "mochi/config/validate.h"
#include "mochi/engine/builders.h"
#include "mochi/data/rng.h"
#include "mochi/engine/lr_schedule.h"
#include "mochi/engine/pretrained_model.h"
#include "mochi/port/cpu_threads.h"
#include "mochi/port/device.h"
#include "mochi/port/paths.h"
#include "mochi/port/status_macros.h"
#include "mochi/port/text_proto.h"
#include "mochi/port/torch_status.h"
#include "nlohmann/json.hpp"
#include "torch/optim/sgd.h"
#include "torch/serialize.h"
#include "torch/utils.h"

namespace mochi::eval::detection {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

std::string DescribeBackbone(const proto::Backbone& b) {
  return absl::StrCat(proto::Backbone::Architecture_Name(b.architecture()), " (stem ",
                      proto::Backbone::Stem_Name(b.stem()), ", width ", b.width(), ", in_channels ",
                      b.in_channels(), ")");
}

bool SameBackbone(const proto::Backbone& a, const proto::Backbone& b) {
  return a.architecture() == b.architecture() && a.stem() == b.stem() && a.width() == b.width() &&
         a.in_channels() == b.in_channels();
}

// detectron2 ResizeShortestEdge.get_output_shape.
std::pair<int64_t, int64_t> ResizedShape(int64_t height, int64_t width, int min_size,
                                         int max_size) {
  double scale = static_cast<double>(min_size) / std::min(height, width);
  if (std::max(height, width) * scale > max_size) {
    scale = static_cast<double>(max_size) / std::max(height, width);
  }
  return {static_cast<int64_t>(height * scale + 0.5), static_cast<int64_t>(width * scale + 0.5)};
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

// Mask of `rle` as a float [H, W] tensor of 0 / 1.
at::Tensor MaskTensor(const coco::Rle& rle) {
  coco::BinaryMask mask = coco::DecodeRle(rle);
  return at::from_blob(mask.pixels.data(),
                       {static_cast<int64_t>(mask.height), static_cast<int64_t>(mask.width)},
                       at::kByte)
      .to(at::kFloat);
}

// The COCO compressed RLE string of a uint8 [H, W] mask.
std::string MaskCounts(const at::Tensor& pixels) {
  const at::Tensor contiguous = pixels.to(at::kCPU, at::kByte).contiguous();
  coco::BinaryMask mask;
  mask.height = static_cast<uint32_t>(contiguous.size(0));
  mask.width = static_cast<uint32_t>(contiguous.size(1));
  mask.pixels.assign(contiguous.data_ptr<uint8_t>(),
                     contiguous.data_ptr<uint8_t>() + contiguous.numel());
  return coco::EncodeRleCounts(coco::EncodeMask(mask));
}

}  // namespace

std::vector<std::string> DetectionClassNames(const proto::DetectionConfig& config) {
  if (config.class_names_size() == 0) return PascalVocClassNames();
  return {config.class_names().begin(), config.class_names().end()};
}

absl::StatusOr<models::ResNet> BuildDetectionBackbone(const proto::DetectionConfig& config) {
  const models::ResNetOptions expected = BuildResNetOptions(config.backbone(), 0);
  if (!config.init().has_checkpoint()) return models::MakeResNet(expected);
  const std::string path = ResolvePath(config.init().checkpoint());
  absl::StatusOr<PretrainedModel> pretrained = LoadPretrainedModel(path, /*load_weights=*/true);
  if (!pretrained.ok()) {
    return absl::Status(pretrained.status().code(), absl::StrCat("backbone init from ", path, ": ",
                                                                 pretrained.status().message()));
  }
  if (!SameBackbone(pretrained->config.backbone(), config.backbone())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "checkpoint ", path, " holds a ", DescribeBackbone(pretrained->config.backbone()),
        " backbone but the detection config asks for ", DescribeBackbone(config.backbone())));
  }
  return pretrained->moco->encoder_q->backbone;
}

FasterRcnnOptions BuildFasterRcnnOptions(const proto::DetectionConfig& c) {
  FasterRcnnOptions o;
  o.num_classes = c.num_classes();
  if (c.anchor_sizes_size() > 0) {
    o.anchors.sizes.assign(c.anchor_sizes().begin(), c.anchor_sizes().end());
  }
  if (c.anchor_aspect_ratios_size() > 0) {
    o.anchors.aspect_ratios.assign(c.anchor_aspect_ratios().begin(),
                                   c.anchor_aspect_ratios().end());
  }
  o.rpn_batch_size_per_image = c.rpn_batch_size_per_image();
  o.rpn_pre_nms_topk_train = c.rpn_pre_nms_topk_train();
  o.rpn_post_nms_topk_train = c.rpn_post_nms_topk_train();
  o.rpn_pre_nms_topk_test = c.rpn_pre_nms_topk_test();
  o.rpn_post_nms_topk_test = c.rpn_post_nms_topk_test();
  o.rpn_nms_thresh = c.rpn_nms_thresh();
  o.roi_batch_size_per_image = c.roi_batch_size_per_image();
  o.roi_positive_fraction = c.roi_positive_fraction();
  o.test_score_thresh = c.test_score_thresh();
  o.test_nms_thresh = c.test_nms_thresh();
  o.detections_per_image = c.detections_per_image();
  // One process: SyncBN and BN both normalise with the whole step's batch statistics.
  o.frozen_bn = c.norm() == proto::DetectionConfig::FROZEN_BN;
  o.roi_head_extra_norm = c.roi_head_extra_norm();
  o.pixel_mean.assign(c.pixel_mean().begin(), c.pixel_mean().end());
  o.pixel_std.assign(c.pixel_std().begin(), c.pixel_std().end());
  return o;
}

double DetectionLearningRate(const proto::DetectionConfig& c, int64_t iter) {
  const std::vector<int64_t> steps(c.steps().begin(), c.steps().end());
  return StepDecay(c.base_lr() * LinearWarmupFactor(iter, c.warmup_iters(), c.warmup_factor()),
                   steps, c.gamma(), iter);
}

absl::StatusOr<DetectionInput> LoadDetectionInput(const DetectionRecord& record, int channels,
                                                  int min_size, int max_size, bool flip) {
  MOCHI_ASSIGN_OR_RETURN(DecodedImage decoded, DecodeImageFile(record.image_path, channels));
  for (const coco::Rle& rle : record.masks) {
    if (rle.height != static_cast<uint32_t>(decoded.height) ||
        rle.width != static_cast<uint32_t>(decoded.width)) {
      return absl::InvalidArgumentError(absl::StrCat(record.image_path, ": a mask of ", rle.height,
                                                     " x ", rle.width, " on an image of ",
                                                     decoded.height, " x ", decoded.width));
    }
  }
  DetectionInput input;
  MOCHI_RETURN_IF_ERROR(TorchToStatus(record.image_path, [&] {
    at::Tensor image = at::from_blob(decoded.pixels.data(),
                                     {decoded.height, decoded.width, decoded.channels}, at::kByte)
                           .permute({2, 0, 1})
                           .to(at::kFloat);  // [C, H, W], owns its memory
    const auto [height, width] = ResizedShape(decoded.height, decoded.width, min_size, max_size);
    if (height != decoded.height || width != decoded.width) {
      // PIL's bilinear resize (detectron2) antialiases when shrinking; so does this.
      image = at::_upsample_bilinear2d_aa(image.unsqueeze(0), {height, width},
                                          /*align_corners=*/false)
                  .squeeze(0)
                  .clamp(0, 255);
    }
    input.scale_x = static_cast<double>(width) / decoded.width;
    input.scale_y = static_cast<double>(height) / decoded.height;
    input.original_height = decoded.height;
    input.original_width = decoded.width;
    const int64_t g = static_cast<int64_t>(record.boxes.size());
    std::vector<float> flat;
    for (const std::array<float, 4>& box : record.boxes)
      flat.insert(flat.end(), box.begin(), box.end());
    at::Tensor boxes =
        at::tensor(flat, at::kFloat).view({g, 4}) *
        at::tensor({input.scale_x, input.scale_y, input.scale_x, input.scale_y}, at::kDouble)
            .to(at::kFloat);
    at::Tensor masks;
    if (!record.masks.empty()) {
      std::vector<at::Tensor> planes;
      for (const coco::Rle& rle : record.masks) planes.push_back(MaskTensor(rle));
      // detectron2 resizes bitmask annotations with PIL's NEAREST, i.e. nearest-exact.
      masks =
          at::_upsample_nearest_exact2d(at::stack(planes).unsqueeze(0), {height, width}).squeeze(0);
    }
    if (flip) {
      image = image.flip({2});
      if (masks.defined()) masks = masks.flip({2});
      boxes = at::stack({width - boxes.select(1, 2), boxes.select(1, 1), width - boxes.select(1, 0),
                         boxes.select(1, 3)},
                        1);
    }
    input.image = image.contiguous();
    input.targets.boxes = boxes;
    input.targets.classes = at::tensor(record.classes, at::kLong);
    if (masks.defined()) input.targets.masks = masks.contiguous();
  }));
  return input;
}

absl::StatusOr<std::vector<ImageDetections>> DetectRecords(
    FasterRcnn& model, const std::vector<DetectionRecord>& records, int channels, int min_size,
    int max_size, int batch_size) {
  torch::NoGradGuard no_grad;
  std::vector<ImageDetections> out;
  for (size_t start = 0; start < records.size(); start += batch_size) {
    const size_t end = std::min(records.size(), start + static_cast<size_t>(batch_size));
    std::vector<at::Tensor> images;
    std::vector<DetectionInput> inputs;
    for (size_t i = start; i < end; ++i) {
      // Test images are scored by the evaluator's reader, not by their in-memory masks.
      DetectionRecord record = records[i];
      record.masks.clear();
      MOCHI_ASSIGN_OR_RETURN(DetectionInput input,
                             LoadDetectionInput(record, channels, min_size, max_size, false));
      images.push_back(input.image);
      inputs.push_back(std::move(input));
    }
    MOCHI_ASSIGN_OR_RETURN(std::vector<Detections> detections, model->Detect(images));
    for (size_t i = start; i < end; ++i) {
      const Detections& d = detections[i - start];
      const at::Tensor boxes = d.boxes.to(at::kCPU, at::kFloat).contiguous();
      const at::Tensor scores = d.scores.to(at::kCPU, at::kFloat).contiguous();
      const at::Tensor classes = d.classes.to(at::kCPU, at::kLong).contiguous();
      const DetectionInput& input = inputs[i - start];
      ImageDetections image{records[i].image_id, {}, input.original_height, input.original_width};
      const double sx = input.scale_x;
      const double sy = input.scale_y;
      for (int64_t k = 0; k < boxes.size(0); ++k) {
        const float* b = boxes.data_ptr<float>() + 4 * k;
        image.boxes.push_back({classes.data_ptr<int64_t>()[k], scores.data_ptr<float>()[k],
                               static_cast<float>(b[0] / sx), static_cast<float>(b[1] / sy),
                               static_cast<float>(b[2] / sx), static_cast<float>(b[3] / sy)});
      }
      if (d.masks.defined()) {
        // detector_postprocess: boxes back to the original image, masks pasted there.
        const at::Tensor original_boxes =
            boxes / at::tensor({sx, sy, sx, sy}, at::kDouble).to(at::kFloat);
        MOCHI_ASSIGN_OR_RETURN(at::Tensor pasted,
                               PasteMasks(d.masks.to(at::kCPU), original_boxes,
                                          input.original_height, input.original_width));
        for (int64_t k = 0; k < pasted.size(0); ++k) {
          image.boxes[k].mask_counts = MaskCounts(pasted[k]);
        }
      }
      out.push_back(std::move(image));
    }
  }
  return out;
}

namespace {

// Writes the detections' results files and scores them: VOC AP for a VOC test set, COCO box
// (and, with masks, mask) AP for a COCO one. Returns the metrics to record.
absl::StatusOr<nlohmann::ordered_json> WriteAndEvaluate(
    const proto::DetectionConfig& config, const LoadedSplit& test, bool mask_on,
    const std::vector<ImageDetections>& detections, const DetectionRunOptions& run) {
  const std::string results_dir = run.output_dir + "/voc_results";
  const std::string coco_results = run.output_dir + "/coco_results.json";
  const bool voc = test.coco_annotations.empty();
  if (voc) MOCHI_RETURN_IF_ERROR(WriteVocResults(results_dir, "", test.class_names, detections));
  MOCHI_RETURN_IF_ERROR(WriteCocoResults(coco_results, test.category_ids, detections));
  nlohmann::ordered_json metrics = nlohmann::ordered_json::object();
  if (!run.evaluate) {
    std::printf("detections written to %s (evaluate with //eval:%s)\n",
                voc ? results_dir.c_str() : coco_results.c_str(), voc ? "voc_eval" : "coco_eval");
    return metrics;
  }
  if (voc) {
    MOCHI_ASSIGN_OR_RETURN(
        VocImageSet test_set,
        ParseVocImageSet(ResolvePath(config.test().voc_root()), config.test().image_sets(0)));
    voc::VocEvalOptions eval;
    eval.voc_root = test_set.year_root;
    eval.split = test_set.split;
    eval.results_dir = results_dir;
    eval.class_names = test.class_names;
    eval.metric = voc::VocMetric::kVoc07ElevenPoint;
    MOCHI_ASSIGN_OR_RETURN(voc::VocEvalResult result, voc::EvaluateVoc(eval));
    const nlohmann::ordered_json json = voc::VocEvalResultToJson(result);
    MOCHI_RETURN_IF_ERROR(WriteFileAtomically(run.output_dir + "/voc_eval.json", json.dump(2)));
    std::printf("copypaste: AP50,AP,AP75\ncopypaste: %.4f,%.4f,%.4f\n%s\n", result.ap50, result.ap,
                result.ap75, json.dump().c_str());
    metrics["AP50"] = result.ap50;
    metrics["AP"] = result.ap;
    metrics["AP75"] = result.ap75;
    return metrics;
  }
  // COCO: pycocotools' numbers (fractions) for boxes, and for masks when there are masks.
  nlohmann::ordered_json json = nlohmann::ordered_json::object();
  for (const coco::IouType iou_type : {coco::IouType::kBbox, coco::IouType::kSegm}) {
    if (iou_type == coco::IouType::kSegm && !mask_on) continue;
    MOCHI_ASSIGN_OR_RETURN(coco::CocoStats stats,
                           coco::EvaluateCocoFiles(test.coco_annotations, coco_results, iou_type));
    json[coco::IouTypeName(iou_type)] = coco::CocoStatsToJson(stats);
    std::printf("%s: AP %.4f  AP50 %.4f  AP75 %.4f\n", coco::IouTypeName(iou_type), stats.ap(),
                stats.ap50(), stats.ap75());
  }
  MOCHI_RETURN_IF_ERROR(WriteFileAtomically(run.output_dir + "/coco_eval.json", json.dump(2)));
  metrics.update(json);
  return metrics;
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
  std::error_code error;
  std::filesystem::create_directories(run.output_dir, error);
  if (error) return absl::InternalError(absl::StrCat("cannot create ", run.output_dir));
  MOCHI_RETURN_IF_ERROR(
      WriteFileAtomically(run.output_dir + "/config.pbtxt", resolved_config_text));

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

  // Sampling with the project's RNG (mochi/data/rng.h, the same on every standard library): pass
  // p over the images visits them in Permutation(n, MixSeed(seed, p)); image slot `i` of the run
  // draws its shorter side and flip from Rng(MixSeed(seed + 1, i)).
  const uint64_t seed = static_cast<uint64_t>(config.run().seed());
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(config.run().seed() + 1);
  const int64_t num_train = static_cast<int64_t>(train.records.size());
  std::vector<int64_t> order;
  int64_t cursor = num_train, pass = 0, slot = 0;
  model->train();
  const Clock::time_point train_start = Clock::now();
  nlohmann::ordered_json last;
  for (int64_t iter = 0; iter < config.max_iter(); ++iter) {
    const double lr = DetectionLearningRate(config, iter);
    for (auto& group : optimizer->param_groups()) {
      static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
    }
    std::vector<at::Tensor> images;
    std::vector<ImageTargets> targets;
    for (int b = 0; b < config.ims_per_batch(); ++b) {
      if (cursor == num_train) {
        order = data::Permutation(num_train, data::MixSeed(seed, pass++));
        cursor = 0;
      }
      const DetectionRecord& record = train.records[order[cursor++]];
      data::Rng rng(data::MixSeed(seed + 1, slot++));
      const int min_size =
          config.min_size_train(static_cast<int>(rng.UniformInt(config.min_size_train_size())));
      const bool flip = rng.Bernoulli(config.flip_prob());
      MOCHI_ASSIGN_OR_RETURN(DetectionInput input, LoadDetectionInput(record, channels, min_size,
                                                                      config.max_size(), flip));
      images.push_back(input.image);
      targets.push_back(std::move(input.targets));
    }
    MOCHI_ASSIGN_OR_RETURN(RcnnLosses losses, model->Losses(images, targets, generator));
    double total = 0;
    MOCHI_RETURN_IF_ERROR(TorchToStatus("training step", [&] {
      const at::Tensor loss = losses.Total();
      total = loss.item<double>();
      if (!std::isfinite(total)) return;
      optimizer->zero_grad();
      loss.backward();
      optimizer->step();
    }));
    if (!std::isfinite(total)) {
      return absl::InternalError(absl::StrCat("the loss is ", total, " at iteration ", iter,
                                              " (lr ", lr, "): training diverged"));
    }
    if ((iter + 1) % config.log_every_iters() == 0 || iter + 1 == config.max_iter()) {
      const double elapsed = Seconds(train_start);
      last = {{"iter", iter + 1},
              {"total_loss", total},
              {"loss_rpn_cls", losses.rpn_cls.item<double>()},
              {"loss_rpn_loc", losses.rpn_loc.item<double>()},
              {"loss_cls", losses.cls.item<double>()},
              {"loss_box_reg", losses.box_reg.item<double>()},
              {"lr", lr}};
      std::string mask_loss;
      if (losses.mask.defined()) {
        last["loss_mask"] = losses.mask.item<double>();
        mask_loss = absl::StrFormat(" mask %.4f", last["loss_mask"].get<double>());
      }
      std::printf(
          "iter %lld/%d  loss %.4f (rpn_cls %.4f rpn_loc %.4f cls %.4f box %.4f%s)  "
          "lr %.5f  %.2f s/iter  eta %.0f s\n",
          static_cast<long long>(iter + 1), config.max_iter(), total,
          last["loss_rpn_cls"].get<double>(), last["loss_rpn_loc"].get<double>(),
          last["loss_cls"].get<double>(), last["loss_box_reg"].get<double>(), mask_loss.c_str(), lr,
          elapsed / (iter + 1), elapsed / (iter + 1) * (config.max_iter() - iter - 1));
      std::fflush(stdout);
    }
  }
  const double train_seconds = Seconds(train_start);
  MOCHI_RETURN_IF_ERROR(TorchToStatus(
      "saving the model", [&] { torch::save(model, run.output_dir + "/model_final.pt"); }));

  const Clock::time_point test_start = Clock::now();
  model->eval();
  MOCHI_ASSIGN_OR_RETURN(std::vector<ImageDetections> detections,
                         DetectRecords(model, test.records, channels, config.min_size_test(),
                                       config.max_size(), config.ims_per_batch()));
  const double test_seconds = Seconds(test_start);
  MOCHI_ASSIGN_OR_RETURN(nlohmann::ordered_json scores,
                         WriteAndEvaluate(config, test, mask_on, detections, run));
  nlohmann::ordered_json metrics = {{"last_iter", last},
                                    {"train_seconds", train_seconds},
                                    {"test_seconds", test_seconds},
                                    {"test_images", test.records.size()}};
  metrics.update(scores);
  std::printf("train %.1f s, test %.1f s\n", train_seconds, test_seconds);
  return WriteFileAtomically(run.output_dir + "/metrics.json", metrics.dump(2));
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
    const std::string& coco_root, const std::string& output_dir, bool evaluate) {
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
