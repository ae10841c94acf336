#include "eval/detection/faster_rcnn.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <utility>

#include "ATen/ATen.h"
#include "absl/strings/str_cat.h"
#include "eval/detection/mask_ops.h"
#include "eval/detection/nms.h"
#include "eval/detection/roi_align.h"
#include "mochi/port/status_macros.h"
#include "mochi/port/torch_status.h"
#include "torch/nn/init.h"
#include "torch/utils.h"

namespace mochi::eval::detection {
namespace {

// Inside tensor code a failed Status becomes a c10::Error; the public methods turn it back into
// a Status (TorchToStatus), so no exception crosses the API.
template <typename T>
T OrThrow(absl::StatusOr<T> value) {
  TORCH_CHECK(value.ok(), value.status().ToString());
  return *std::move(value);
}

// detectron2's smooth_l1_loss with beta = 0 (SMOOTH_L1_BETA defaults): plain L1, summed.
at::Tensor L1Sum(const at::Tensor& input, const at::Tensor& target) {
  return (input - target).abs().sum();
}

absl::Status ValidateOptions(const FasterRcnnOptions& o, int64_t in_channels) {
  const std::pair<const char*, int64_t> counts[] = {
      {"num_classes", o.num_classes},
      {"rpn_batch_size_per_image", o.rpn_batch_size_per_image},
      {"rpn_pre_nms_topk_train", o.rpn_pre_nms_topk_train},
      {"rpn_post_nms_topk_train", o.rpn_post_nms_topk_train},
      {"rpn_pre_nms_topk_test", o.rpn_pre_nms_topk_test},
      {"rpn_post_nms_topk_test", o.rpn_post_nms_topk_test},
      {"roi_batch_size_per_image", o.roi_batch_size_per_image},
      {"pooler_resolution", o.pooler_resolution},
      {"detections_per_image", o.detections_per_image},
      {"mask_head_conv_dim", o.mask_head_conv_dim}};
  for (const auto& [name, value] : counts) {
    if (value <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("FasterRcnnOptions.", name, " must be > 0, got ", value));
    }
  }
  const std::pair<const char*, double> fractions[] = {
      {"rpn_positive_fraction", o.rpn_positive_fraction},
      {"roi_positive_fraction", o.roi_positive_fraction},
      {"roi_iou_threshold", o.roi_iou_threshold},
      {"rpn_nms_thresh", o.rpn_nms_thresh},
      {"test_nms_thresh", o.test_nms_thresh}};
  for (const auto& [name, value] : fractions) {
    if (!(value > 0 && value <= 1)) {
      return absl::InvalidArgumentError(
          absl::StrCat("FasterRcnnOptions.", name, " must be in (0, 1], got ", value));
    }
  }
  if (static_cast<int64_t>(o.pixel_mean.size()) != in_channels ||
      static_cast<int64_t>(o.pixel_std.size()) != in_channels) {
    return absl::InvalidArgumentError(absl::StrCat(
        "FasterRcnnOptions.pixel_mean / pixel_std need one value per backbone input channel (",
        in_channels, "), got ", o.pixel_mean.size(), " / ", o.pixel_std.size()));
  }
  for (double s : o.pixel_std) {
    if (!(s > 0)) return absl::InvalidArgumentError("FasterRcnnOptions.pixel_std must be > 0");
  }
  return absl::OkStatus();
}

}  // namespace

FasterRcnnImpl::FasterRcnnImpl(models::ResNet backbone, const FasterRcnnOptions& options,
                               AnchorGenerator anchors, Box2BoxTransform rpn_transform,
                               Box2BoxTransform roi_transform)
    : options_(options),
      anchor_generator_(std::move(anchors)),
      rpn_transform_(std::move(rpn_transform)),
      roi_transform_(std::move(roi_transform)) {
  backbone_ = register_module("backbone", std::move(backbone));
  const int64_t c4 = backbone_->res4_channels();
  const int64_t c5 = backbone_->feature_dim();
  const int64_t a = anchor_generator_.num_cell_anchors();
  // Constructed in this order, and initialised below in the same order as before the heads were
  // modules of their own, so the default generator's draws (and the weights) are unchanged.
  rpn_ = register_module("rpn", RpnHead(c4, a));
  if (options_.roi_head_extra_norm) {
    extra_norm_ = register_module("extra_norm", torch::nn::BatchNorm2d(c5));
  }
  box_predictor_ = register_module("box_predictor", BoxPredictor(c5, options_.num_classes));
  if (options_.mask_on) {
    mask_head_ = register_module("mask_head",
                                 MaskHead(c5, options_.mask_head_conv_dim, options_.num_classes));
  }
  pixel_mean_ = register_buffer(
      "pixel_mean", at::tensor(options_.pixel_mean, at::kDouble).to(at::kFloat).view({-1, 1, 1}));
  pixel_std_ = register_buffer(
      "pixel_std", at::tensor(options_.pixel_std, at::kDouble).to(at::kFloat).view({-1, 1, 1}));

  // detectron2's initialisation: RPN convs N(0, 0.01); cls_score N(0, 0.01), bbox_pred
  // N(0, 0.001); biases 0.
  torch::NoGradGuard no_grad;
  for (const torch::nn::Conv2d& conv : {rpn_->conv, rpn_->objectness, rpn_->deltas}) {
    torch::nn::init::normal_(conv->weight, 0, 0.01);
    torch::nn::init::zeros_(conv->bias);
  }
  torch::nn::init::normal_(box_predictor_->cls_score->weight, 0, 0.01);
  torch::nn::init::normal_(box_predictor_->bbox_pred->weight, 0, 0.001);
  torch::nn::init::zeros_(box_predictor_->cls_score->bias);
  torch::nn::init::zeros_(box_predictor_->bbox_pred->bias);
  if (options_.mask_on) {
    // c2_msra_fill for the deconvolution, N(0, 0.001) for the predictor.
    torch::nn::init::kaiming_normal_(mask_head_->deconv->weight, 0, torch::kFanOut, torch::kReLU);
    torch::nn::init::zeros_(mask_head_->deconv->bias);
    torch::nn::init::normal_(mask_head_->predictor->weight, 0, 0.001);
    torch::nn::init::zeros_(mask_head_->predictor->bias);
  }
  if (options_.frozen_bn) {
    for (const auto& module : modules(/*include_self=*/false)) {
      if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
        bn->weight.requires_grad_(false);
        bn->bias.requires_grad_(false);
      }
    }
  }
  train(is_training());
}

void FasterRcnnImpl::train(bool on) {
  torch::nn::Module::train(on);
  if (!options_.frozen_bn) return;
  for (const auto& module : modules(/*include_self=*/false)) {
    if (auto* bn = module->as<torch::nn::BatchNorm2d>()) bn->eval();
  }
}

FasterRcnnImpl::Batch FasterRcnnImpl::Preprocess(const std::vector<at::Tensor>& images) const {
  TORCH_CHECK(!images.empty(), "FasterRcnn: no images");
  const int64_t channels = pixel_mean_.size(0);
  Batch batch;
  int64_t max_h = 0;
  int64_t max_w = 0;
  for (const at::Tensor& image : images) {
    TORCH_CHECK(image.dim() == 3 && image.size(0) == channels,
                "FasterRcnn: expected images of shape [", channels, ", H, W], got ", image.sizes());
    batch.sizes.emplace_back(image.size(1), image.size(2));
    max_h = std::max(max_h, image.size(1));
    max_w = std::max(max_w, image.size(2));
  }
  // detectron2 pads after normalising, so padding is 0 = the mean pixel.
  batch.images = at::zeros({static_cast<int64_t>(images.size()), channels, max_h, max_w},
                           pixel_mean_.options());
  for (size_t i = 0; i < images.size(); ++i) {
    const at::Tensor normalised =
        (images[i].to(pixel_mean_.device(), at::kFloat) - pixel_mean_) / pixel_std_;
    batch.images[i]
        .narrow(1, 0, images[i].size(1))
        .narrow(2, 0, images[i].size(2))
        .copy_(normalised);
  }
  return batch;
}

FasterRcnnImpl::RpnOutput FasterRcnnImpl::RunRpn(const at::Tensor& images) {
  RpnOutput out;
  out.features = backbone_->forward_res4(images);  // [N, C4, h, w]
  const int64_t h = out.features.size(2);
  const int64_t w = out.features.size(3);
  std::tie(out.logits, out.deltas) = rpn_(out.features);
  out.anchors = OrThrow(anchor_generator_.GridAnchors(h, w, out.features.device()));
  return out;
}

std::vector<at::Tensor> FasterRcnnImpl::SelectProposals(const RpnOutput& rpn, const Batch& batch,
                                                        int64_t pre_nms_topk,
                                                        int64_t post_nms_topk) const {
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> proposals;
  for (int64_t i = 0; i < rpn.logits.size(0); ++i) {
    const at::Tensor logits = rpn.logits[i].detach();
    const int64_t k = std::min(pre_nms_topk, logits.size(0));
    auto [scores, index] = logits.topk(k);
    at::Tensor boxes = OrThrow(rpn_transform_.ApplyDeltas(
        rpn.deltas[i].detach().index_select(0, index), rpn.anchors.index_select(0, index)));
    const at::Tensor finite = at::isfinite(boxes).all(1) & at::isfinite(scores);
    boxes = boxes.index({finite});
    scores = scores.index({finite});
    boxes = OrThrow(ClipBoxes(boxes, batch.sizes[i].first, batch.sizes[i].second));
    const at::Tensor keep = OrThrow(RemoveSmallBoxes(boxes, 0));
    boxes = boxes.index_select(0, keep);
    scores = scores.index_select(0, keep);
    const at::Tensor kept = OrThrow(Nms(boxes, scores, options_.rpn_nms_thresh));
    proposals.push_back(boxes.index_select(0, kept.slice(0, 0, post_nms_topk)));
  }
  return proposals;
}

at::Tensor FasterRcnnImpl::RegionFeatures(const at::Tensor& features,
                                          const std::vector<at::Tensor>& boxes) {
  std::vector<at::Tensor> rois;
  for (size_t i = 0; i < boxes.size(); ++i) {
    rois.push_back(at::cat(
        {at::full({boxes[i].size(0), 1}, static_cast<double>(i), boxes[i].options()), boxes[i]},
        1));
  }
  RoiAlignOptions pooler;
  pooler.output_height = options_.pooler_resolution;
  pooler.output_width = options_.pooler_resolution;
  pooler.spatial_scale = 1.0 / backbone_->res4_stride();
  at::Tensor x = OrThrow(RoiAlign(features, at::cat(rois, 0), pooler));  // [R, C4, 14, 14]
  x = backbone_->forward_res5(x);                                        // [R, C5, 7, 7]
  if (!extra_norm_.is_empty()) x = extra_norm_(x);
  return x;
}

at::Tensor FasterRcnnImpl::MaskLogits(const at::Tensor& region_features) {
  return mask_head_(region_features);
}

absl::StatusOr<RcnnLosses> FasterRcnnImpl::Losses(const std::vector<at::Tensor>& images,
                                                  const std::vector<ImageTargets>& targets,
                                                  const at::Generator& generator) {
  if (images.size() != targets.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(images.size(), " images but ", targets.size(), " targets"));
  }
  RcnnLosses losses;
  MOCHI_RETURN_IF_ERROR(TorchToStatus("FasterRcnn::Losses", [&] {
    const Batch batch = Preprocess(images);
    const RpnOutput rpn = RunRpn(batch.images);
    const int64_t n = static_cast<int64_t>(images.size());
    const at::Device device = rpn.features.device();

    // RPN losses over the anchors sampled in every image.
    std::vector<at::Tensor> labels;
    std::vector<at::Tensor> target_deltas;
    std::vector<at::Tensor> gt_boxes;
    for (int64_t i = 0; i < n; ++i) {
      gt_boxes.push_back(targets[i].boxes.to(device, at::kFloat));
      RpnTargets t =
          OrThrow(AssignRpnTargets(rpn.anchors, gt_boxes.back(), options_.rpn_batch_size_per_image,
                                   options_.rpn_positive_fraction, generator));
      labels.push_back(t.labels);
      target_deltas.push_back(t.deltas);
    }
    const at::Tensor label = at::stack(labels);  // [N, A]
    const at::Tensor valid = label >= 0;
    const at::Tensor positive = label == 1;
    const double normalizer = static_cast<double>(options_.rpn_batch_size_per_image * n);
    losses.rpn_cls = at::binary_cross_entropy_with_logits(rpn.logits.index({valid}),
                                                          label.index({valid}).to(at::kFloat), {},
                                                          {}, at::Reduction::Sum) /
                     normalizer;
    losses.rpn_loc =
        L1Sum(rpn.deltas.index({positive}), at::stack(target_deltas).index({positive})) /
        normalizer;

    // Box head losses over the regions sampled from proposals + ground truth.
    const std::vector<at::Tensor> proposals = SelectProposals(
        rpn, batch, options_.rpn_pre_nms_topk_train, options_.rpn_post_nms_topk_train);
    std::vector<at::Tensor> sampled;
    std::vector<at::Tensor> classes;
    std::vector<at::Tensor> roi_deltas;
    std::vector<at::Tensor> matched;
    for (int64_t i = 0; i < n; ++i) {
      RoiTargets t =
          OrThrow(AssignRoiTargets(proposals[i], gt_boxes[i], targets[i].classes.to(device),
                                   options_.num_classes, options_, generator));
      sampled.push_back(t.proposals);
      classes.push_back(t.classes);
      roi_deltas.push_back(t.deltas);
      matched.push_back(t.matched);
    }
    const at::Tensor regions = RegionFeatures(rpn.features, sampled);  // [R, C5, 7, 7]
    const at::Tensor x = regions.mean({2, 3});
    const auto [scores, deltas] = box_predictor_(x);  // [R, K + 1], [R, 4K]
    const at::Tensor gt_class = at::cat(classes);
    const int64_t r = gt_class.size(0);
    losses.cls = at::cross_entropy_loss(scores, gt_class);
    const at::Tensor fg = (gt_class < options_.num_classes).nonzero().squeeze(1);
    const at::Tensor fg_deltas =
        deltas.view({r, options_.num_classes, 4}).index({fg, gt_class.index_select(0, fg)});
    losses.box_reg =
        L1Sum(fg_deltas, at::cat(roi_deltas).index_select(0, fg)) / std::max<int64_t>(r, 1);
    if (options_.mask_on) losses.mask = MaskLoss(regions, sampled, classes, matched, targets);
  }));
  return losses;
}

at::Tensor FasterRcnnImpl::MaskLoss(const at::Tensor& regions,
                                    const std::vector<at::Tensor>& sampled,
                                    const std::vector<at::Tensor>& classes,
                                    const std::vector<at::Tensor>& matched,
                                    const std::vector<ImageTargets>& targets) {
  // detectron2 select_foreground_proposals: only foreground regions train the mask head, and
  // they reuse the box head's res5 features.
  std::vector<at::Tensor> fg_rows;
  std::vector<at::Tensor> fg_classes;
  std::vector<at::Tensor> gt_masks;
  int64_t offset = 0;
  const int64_t side = 2 * regions.size(2);
  for (size_t i = 0; i < sampled.size(); ++i) {
    const at::Tensor fg = (classes[i] < options_.num_classes).nonzero().squeeze(1);
    const at::Tensor& masks = targets[i].masks;
    TORCH_CHECK(masks.defined() && masks.dim() == 3 && masks.size(0) == targets[i].boxes.size(0),
                "FasterRcnn: mask_on needs ImageTargets.masks [G, H, W] for image ", i);
    fg_rows.push_back(fg + offset);
    fg_classes.push_back(classes[i].index_select(0, fg));
    gt_masks.push_back(
        OrThrow(CropAndResizeMasks(masks.to(regions.device()), matched[i].index_select(0, fg),
                                   sampled[i].index_select(0, fg), side)));
    offset += sampled[i].size(0);
  }
  const at::Tensor rows = at::cat(fg_rows);
  const at::Tensor logits = MaskLogits(regions.index_select(0, rows));  // [F, K, M, M]
  if (rows.size(0) == 0) return logits.sum() * 0;  // keeps the graph, as detectron2
  const at::Tensor own_class =
      logits.index({at::arange(rows.size(0), rows.options()), at::cat(fg_classes)});  // [F, M, M]
  return at::binary_cross_entropy_with_logits(own_class, at::cat(gt_masks), {}, {},
                                              at::Reduction::Mean);
}

absl::StatusOr<std::vector<Detections>> FasterRcnnImpl::Detect(
    const std::vector<at::Tensor>& images) {
  std::vector<Detections> out;
  MOCHI_RETURN_IF_ERROR(TorchToStatus("FasterRcnn::Detect", [&] {
    const Batch batch = Preprocess(images);
    const RpnOutput rpn = RunRpn(batch.images);
    const std::vector<at::Tensor> proposals = SelectProposals(
        rpn, batch, options_.rpn_pre_nms_topk_test, options_.rpn_post_nms_topk_test);
    const at::Tensor x = RegionFeatures(rpn.features, proposals).mean({2, 3});
    const auto [class_logits, deltas] = box_predictor_(x);
    const at::Tensor probs = at::softmax(class_logits, 1);
    const int64_t k = options_.num_classes;
    int64_t start = 0;
    for (size_t i = 0; i < images.size(); ++i) {
      const int64_t p = proposals[i].size(0);
      const at::Tensor scores = probs.slice(0, start, start + p).slice(1, 0, k);  // [P, K]
      at::Tensor boxes =
          OrThrow(roi_transform_.ApplyDeltas(deltas.slice(0, start, start + p), proposals[i]));
      start += p;
      boxes =
          OrThrow(ClipBoxes(boxes.reshape({-1, 4}), batch.sizes[i].first, batch.sizes[i].second))
              .view({p, k, 4});
      const at::Tensor candidates = (scores > options_.test_score_thresh).nonzero();  // [M, 2]
      const at::Tensor row = candidates.select(1, 0);
      const at::Tensor cls = candidates.select(1, 1);
      const at::Tensor kept_boxes = boxes.index({row, cls});
      const at::Tensor kept_scores = scores.index({row, cls});
      const at::Tensor keep =
          OrThrow(BatchedNms(kept_boxes, kept_scores, cls, options_.test_nms_thresh))
              .slice(0, 0, options_.detections_per_image);
      out.push_back({kept_boxes.index_select(0, keep), kept_scores.index_select(0, keep),
                     cls.index_select(0, keep)});
    }
    if (!options_.mask_on) return;
    std::vector<at::Tensor> detected;
    std::vector<at::Tensor> detected_classes;
    for (const Detections& d : out) {
      detected.push_back(d.boxes);
      detected_classes.push_back(d.classes);
    }
    const at::Tensor cls = at::cat(detected_classes);
    if (cls.size(0) == 0) {
      const int64_t side = MaskSide(options_);
      for (Detections& d : out) d.masks = at::zeros({0, side, side}, rpn.features.options());
      return;
    }
    const at::Tensor logits = MaskLogits(RegionFeatures(rpn.features, detected));  // [D, K, M, M]
    const at::Tensor probabilities =
        at::sigmoid(logits.index({at::arange(cls.size(0), cls.options()), cls}));
    int64_t offset = 0;
    for (Detections& d : out) {
      d.masks = probabilities.slice(0, offset, offset + d.boxes.size(0));
      offset += d.boxes.size(0);
    }
  }));
  return out;
}

absl::StatusOr<FasterRcnn> MakeFasterRcnn(models::ResNet backbone,
                                          const FasterRcnnOptions& options) {
  if (backbone.is_empty()) return absl::InvalidArgumentError("MakeFasterRcnn: null backbone");
  MOCHI_RETURN_IF_ERROR(ValidateOptions(options, backbone->options().in_channels()));
  AnchorGeneratorOptions anchor_options = options.anchors;
  anchor_options.stride = static_cast<double>(backbone->res4_stride());
  MOCHI_ASSIGN_OR_RETURN(AnchorGenerator anchors, AnchorGenerator::Create(anchor_options));
  MOCHI_ASSIGN_OR_RETURN(Box2BoxTransform rpn_transform, Box2BoxTransform::Create({1, 1, 1, 1}));
  MOCHI_ASSIGN_OR_RETURN(Box2BoxTransform roi_transform,
                         Box2BoxTransform::Create(options.roi_box_weights));
  FasterRcnn model{nullptr};
  MOCHI_RETURN_IF_ERROR(TorchToStatus("MakeFasterRcnn", [&] {
    model = FasterRcnn(std::move(backbone), options, std::move(anchors), std::move(rpn_transform),
                       std::move(roi_transform));
  }));
  return model;
}

}  // namespace mochi::eval::detection
