#include "mochi/engine/objectives.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "ATen/ATen.h"
#include "ATen/core/grad_mode.h"
#include "mochi/port/torch_status.h"
#include "mochi/ssl/training_statistics.h"
#include "torch/nn/functional/loss.h"

namespace mochi {

// Per-epoch averages of the paper's training statistics, accumulated over the first
// `stats_queries` queries of the epoch (weighted by queries).
class MocoObjective::Statistics {
 public:
  explicit Statistics(int64_t budget) : budget_(budget) {}
  bool wants_more() const { return seen_ < budget_; }

  // `queue` as the step saw it (before Enqueue); the logits of the first rows are rebuilt from
  // q, k and the draws, as the streamed loss head never materialises them.
  void Add(const ssl::MocoImpl::Output& out, const at::Tensor& labels, const at::Tensor& queue,
           const at::Tensor& queue_labels, double temperature, const ssl::MixingOptions* mixing) {
    const int64_t n = std::min<int64_t>(budget_ - seen_, out.q.size(0));
    std::optional<ssl::MixingDraws> draws;
    if (out.draws) {
      const ssl::MixingDraws& d = *out.draws;
      draws = ssl::MixingDraws{d.hardest.slice(0, 0, n),       d.pair_first.slice(0, 0, n),
                               d.pair_second.slice(0, 0, n),   d.pair_weight.slice(0, 0, n),
                               d.query_partner.slice(0, 0, n), d.query_weight.slice(0, 0, n)};
    }
    const at::Tensor logits =
        ssl::ContrastiveLogits(out.q.slice(0, 0, n), out.k.slice(0, 0, n), queue, temperature,
                               draws ? &*draws : nullptr, draws ? mixing : nullptr);
    const ssl::ContrastiveStatistics s = ssl::ComputeContrastiveStatistics(
        logits, queue.size(0), labels.slice(0, 0, n), queue_labels, draws ? &*draws : nullptr,
        /*top_k=*/1024);
    AddMean(false_negative_, s.false_negative_share_topk, n);
    AddMean(synthetic_false_negative_, s.synthetic_from_false_negative_share, n);
    alignment_ += ssl::Alignment(out.q.slice(0, 0, n), out.k.slice(0, 0, n)) * n;
    uniformity_ += ssl::Uniformity(out.q.slice(0, 0, n)) * n;
    if (top_probabilities_.empty()) top_probabilities_.assign(s.top_probabilities.size(), 0.0);
    for (size_t i = 0; i < s.top_probabilities.size(); ++i)
      top_probabilities_[i] += s.top_probabilities[i] * n;
    seen_ += n;
  }

  // The statistics fields of a metrics.jsonl line (none before the first query); -1 marks a
  // statistic with nothing to count.
  proto::PretrainEpoch Fields() const {
    proto::PretrainEpoch fields;
    if (seen_ == 0) return fields;
    fields.set_stats_queries(static_cast<int32_t>(seen_));
    fields.set_false_negative_share_top1024(Mean(false_negative_));
    fields.set_synthetic_from_false_negative_share(Mean(synthetic_false_negative_));
    fields.set_alignment_qk(alignment_ / seen_);
    fields.set_uniformity_q(uniformity_ / seen_);
    for (const double sum : top_probabilities_) fields.add_top_negative_probabilities(sum / seen_);
    return fields;
  }

 private:
  struct Weighted {
    double sum = 0;
    int64_t weight = 0;
  };
  static void AddMean(Weighted& w, double value, int64_t n) {
    if (value < 0) return;  // undefined for this step
    w.sum += value * n;
    w.weight += n;
  }
  static double Mean(const Weighted& w) { return w.weight ? w.sum / w.weight : -1.0; }

  const int64_t budget_;
  int64_t seen_ = 0;
  Weighted false_negative_, synthetic_false_negative_;
  double alignment_ = 0, uniformity_ = 0;
  std::vector<double> top_probabilities_;
};

MocoObjective::MocoObjective(ssl::Moco moco, torch::optim::Optimizer& optimizer,
                             std::vector<at::Tensor> trained, dist::Communicator& communicator,
                             at::Generator mixing_generator, at::Device device,
                             MocoObjectiveOptions options)
    : moco_(std::move(moco)),
      optimizer_(optimizer),
      trained_(std::move(trained)),
      communicator_(communicator),
      mixing_generator_(std::move(mixing_generator)),
      device_(device),
      options_(options),
      statistics_(std::make_unique<Statistics>(options.stats_queries)) {}

MocoObjective::~MocoObjective() = default;

void MocoObjective::BeginEpoch(const TrainerState& state) {
  mix_ = options_.mixing != nullptr && state.epoch >= options_.mixing_start_epoch;
  loss_sum_ = proxy_correct_ = proxy_correct_real_ = seen_ = 0;
  statistics_ = std::make_unique<Statistics>(options_.stats_queries);
}

absl::Status MocoObjective::Step(const data::Batch& batch) {
  return TorchToStatus("training step", [&] {
    const at::Tensor im_q = batch.views[0].to(device_);
    const at::Tensor im_k = batch.views[1].to(device_);
    moco_->MomentumUpdate();
    ssl::MocoImpl::Output out =
        moco_->forward(im_q, im_k, mix_ ? options_.mixing : nullptr, mixing_generator_);
    optimizer_.zero_grad();
    out.loss.backward();
    communicator_.AverageGradients(trained_);
    optimizer_.step();
    if (statistics_->wants_more()) {  // before Enqueue: the logits saw the old queue
      statistics_->Add(out, batch.labels, moco_->queue, moco_->queue_labels,
                       moco_->options().temperature, options_.mixing);
    }
    moco_->Enqueue(out.k, batch.labels);
    const int64_t rows = out.q.size(0);
    loss_sum_ += out.loss.item<double>() * rows;
    proxy_correct_ += out.positive_is_top.sum().item<double>();
    proxy_correct_real_ += out.positive_is_top_real.sum().item<double>();
    seen_ += rows;
  });
}

EpochMetrics MocoObjective::Summary() const {
  const double n = std::max(1.0, seen_);
  return {"moco", loss_sum_ / n,      proxy_correct_ / n, proxy_correct_real_ / n,
          mix_,   statistics_->Fields()};
}

SupervisedObjective::SupervisedObjective(models::Classifier model,
                                         torch::optim::Optimizer& optimizer,
                                         std::vector<at::Tensor> trained,
                                         dist::Communicator& communicator, at::Device device)
    : model_(std::move(model)),
      optimizer_(optimizer),
      trained_(std::move(trained)),
      communicator_(communicator),
      device_(device) {}

void SupervisedObjective::BeginEpoch(const TrainerState&) { loss_sum_ = correct_ = seen_ = 0; }

absl::Status SupervisedObjective::Step(const data::Batch& batch) {
  return TorchToStatus("training step", [&] {
    const at::Tensor logits = model_->forward(batch.views[0].to(device_));
    const at::Tensor labels = batch.labels.to(device_);
    const at::Tensor loss = torch::nn::functional::cross_entropy(logits, labels);
    optimizer_.zero_grad();
    loss.backward();
    communicator_.AverageGradients(trained_);
    optimizer_.step();
    correct_ += logits.detach().argmax(1).eq(labels).sum().item<int64_t>();
    loss_sum_ += loss.item<double>() * logits.size(0);
    seen_ += logits.size(0);
  });
}

EpochMetrics SupervisedObjective::Summary() const {
  const double n = std::max(1.0, seen_);
  return {"supervised", loss_sum_ / n, correct_ / n, correct_ / n, false, {}};
}

}  // namespace mochi
