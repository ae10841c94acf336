#include "mochi/engine/pretrain.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <vector>

#include "ATen/ATen.h"
#include "ATen/CPUGeneratorImpl.h"
#include "ATen/Parallel.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "c10/core/DeviceGuard.h"
#include "eval/knn/knn.h"
#include "mochi/data/fashion_mnist.h"
#include "mochi/dist/communicator.h"
#include "mochi/engine/builders.h"
#include "mochi/engine/checkpoint.h"
#include "mochi/engine/features.h"
#include "mochi/port/cpu_threads.h"
#include "mochi/port/cuda_runtime.h"
#include "mochi/port/device.h"
#include "mochi/port/libtorch_info.h"
#include "mochi/port/paths.h"
#include "mochi/port/status_macros.h"
#include "mochi/port/text_proto.h"
#include "mochi/port/torch_status.h"
#include "mochi/ssl/training_statistics.h"
#include "torch/nn/functional/loss.h"
#include "torch/optim/sgd.h"

namespace mochi {
namespace {

std::atomic<int> g_stop_signal{0};

void OnStopSignal(int signal) { g_stop_signal.store(signal); }

// Restores the previous handlers when the run ends.
class StopSignalScope {
 public:
  StopSignalScope() {
    g_stop_signal.store(0);
    previous_int_ = std::signal(SIGINT, OnStopSignal);
    previous_term_ = std::signal(SIGTERM, OnStopSignal);
  }
  ~StopSignalScope() {
    std::signal(SIGINT, previous_int_);
    std::signal(SIGTERM, previous_term_);
  }

 private:
  void (*previous_int_)(int);
  void (*previous_term_)(int);
};

double LearningRate(const proto::Optimizer& o, int64_t epoch, int64_t epochs) {
  double lr = o.base_lr();
  if (o.has_cosine()) {
    const int warmup = o.cosine().warmup_epochs();
    if (epoch < warmup) return lr * (epoch + 1) / (warmup + 1);
    lr *= 0.5 * (1.0 + std::cos(M_PI * epoch / epochs));  // MoCo's --cos, per epoch
  } else {
    for (int milestone : o.step().milestones()) {
      if (epoch >= milestone) lr *= o.step().gamma();
    }
  }
  return lr;
}

std::string Duration(double seconds) {
  const int64_t s = static_cast<int64_t>(seconds);
  if (s >= 3600) return absl::StrFormat("%dh%02dm", s / 3600, (s % 3600) / 60);
  return absl::StrFormat("%dm%02ds", s / 60, s % 60);
}

std::string GitRevision() {
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  const std::string command =
      absl::StrCat("git -C '", workspace ? workspace : ".", "' rev-parse HEAD 2>/dev/null");
  std::string out;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buffer[128];
    while (fgets(buffer, sizeof buffer, pipe)) out += buffer;
    pclose(pipe);
  }
  while (!out.empty() && (out.back() == '\n')) out.pop_back();
  return out.empty() ? "unknown" : out;
}

// The config minus the settings that may change on resume (logging, loader, cadence).
std::string ResumeIdentity(proto::PretrainConfig config) {
  config.clear_loader();
  config.clear_log_every_steps();
  config.clear_checkpoint_every_epochs();
  config.clear_stats_queries();
  return ToTextProto(config);
}

absl::Status KnnEvaluate(ssl::Moco& moco, const proto::PretrainConfig& config,
                         const data::Dataset& train_set, const at::Device& device,
                         const std::string& output_dir, std::ofstream& metrics) {
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
               static_cast<long long>(train_set.size()), static_cast<long long>(test_set->size()));
  MOCHI_ASSIGN_OR_RETURN(Features train,
                         ExtractFeatures(moco->encoder_q->backbone, train_set, geometry, device));
  MOCHI_ASSIGN_OR_RETURN(Features test,
                         ExtractFeatures(moco->encoder_q->backbone, *test_set, geometry, device));
  eval::KnnOptions knn;  // k = 200, tau = 0.07, cosine
  MOCHI_ASSIGN_OR_RETURN(eval::KnnResult result,
                         eval::KnnClassify(train.features, train.labels, test.features,
                                           test.labels, test_set->num_classes(), knn));
  // The same protocol on raw pixels: the baseline a useful representation has to beat.
  MOCHI_ASSIGN_OR_RETURN(Features train_pixels, PixelFeatures(train_set, geometry));
  MOCHI_ASSIGN_OR_RETURN(Features test_pixels, PixelFeatures(*test_set, geometry));
  MOCHI_ASSIGN_OR_RETURN(eval::KnnResult raw,
                         eval::KnnClassify(train_pixels.features, train_pixels.labels,
                                           test_pixels.features, test_pixels.labels,
                                           test_set->num_classes(), knn));
  const std::string json = absl::StrFormat(
      "{\"metric\": \"knn_top1\", \"value\": %.6f, \"raw_pixels_value\": %.6f, \"k\": %d, "
      "\"temperature\": %g, \"train\": %d, \"test\": %d}",
      result.top1, raw.top1, knn.k, knn.temperature, train_set.size(), test_set->size());
  metrics << json << "\n" << std::flush;
  std::fprintf(stderr,
               "kNN top-1 (k=200, tau=0.07, cosine) on the test split: %.4f (raw pixels: %.4f)\n",
               result.top1, raw.top1);
  return WriteFileAtomically(output_dir + "/knn.json", json + "\n");
}

// Data-parallel SGD: every process steps with the mean gradient over all processes.
void AverageGradients(const std::vector<at::Tensor>& parameters, dist::Communicator& communicator) {
  if (communicator.world_size() == 1) return;
  std::vector<at::Tensor> grads;
  for (const at::Tensor& p : parameters) grads.push_back(p.grad());
  communicator.AllReduceMean(grads);
}

// Per-epoch averages of the paper's training statistics, accumulated over the first
// `stats_queries` queries of the epoch (weighted by queries).
class EpochStatistics {
 public:
  explicit EpochStatistics(int64_t budget) : budget_(budget) {}
  bool wants_more() const { return seen_ < budget_; }

  void Add(const ssl::MocoImpl::Output& out, const at::Tensor& labels, const at::Tensor& queue_labels,
           int64_t queue_size) {
    const int64_t n = std::min<int64_t>(budget_ - seen_, out.logits.size(0));
    std::optional<ssl::MixingDraws> draws;
    if (out.draws) {
      const ssl::MixingDraws& d = *out.draws;
      draws = ssl::MixingDraws{d.hardest.slice(0, 0, n),       d.pair_first.slice(0, 0, n),
                               d.pair_second.slice(0, 0, n),   d.pair_weight.slice(0, 0, n),
                               d.query_partner.slice(0, 0, n), d.query_weight.slice(0, 0, n)};
    }
    const ssl::ContrastiveStatistics s = ssl::ComputeContrastiveStatistics(
        out.logits.slice(0, 0, n), queue_size, labels.slice(0, 0, n), queue_labels,
        draws ? &*draws : nullptr, /*top_k=*/1024);
    AddMean(false_negative_, s.false_negative_share_topk, n);
    AddMean(synthetic_false_negative_, s.synthetic_from_false_negative_share, n);
    alignment_ += ssl::Alignment(out.q.slice(0, 0, n), out.k.slice(0, 0, n)) * n;
    uniformity_ += ssl::Uniformity(out.q.slice(0, 0, n)) * n;
    if (top_probabilities_.empty()) top_probabilities_.assign(s.top_probabilities.size(), 0.0);
    for (size_t i = 0; i < s.top_probabilities.size(); ++i) top_probabilities_[i] += s.top_probabilities[i] * n;
    seen_ += n;
  }

  // JSON fields (leading comma) for metrics.jsonl; -1 marks a statistic with nothing to count.
  std::string Json() const {
    if (seen_ == 0) return "";
    std::string profile;
    for (size_t i = 0; i < top_probabilities_.size(); ++i) {
      absl::StrAppendFormat(&profile, "%s%.4g", i ? ", " : "", top_probabilities_[i] / seen_);
    }
    return absl::StrFormat(
        ", \"stats_queries\": %d, \"false_negative_share_top1024\": %.6f, "
        "\"synthetic_from_false_negative_share\": %.6f, \"alignment_qk\": %.6f, "
        "\"uniformity_q\": %.6f, \"top_negative_probabilities\": [%s]",
        seen_, Mean(false_negative_), Mean(synthetic_false_negative_), alignment_ / seen_,
        uniformity_ / seen_, profile);
  }

 private:
  struct Weighted { double sum = 0; int64_t weight = 0; };
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

}  // namespace

absl::Status RunPretrain(const proto::PretrainConfig& config, const PretrainRunOptions& options) {
  const CpuThreads threads = ConfigureCpuThreads(config.run().num_threads());
  at::manual_seed(config.run().seed());
  MOCHI_ASSIGN_OR_RETURN(const dist::DistributedEnv dist_env, dist::DistributedEnvFromEnvironment());
  MOCHI_ASSIGN_OR_RETURN(const at::Device device,
                         ResolveDevice(config.run().device(), dist_env.local_rank));
  if (dist_env.world_size > 1 && device.is_cuda() && config.run().device() != "cuda") {
    return absl::InvalidArgumentError(absl::StrCat(
        "run.device \"", config.run().device(), "\" with WORLD_SIZE = ", dist_env.world_size,
        ": every process would use the same GPU; use \"cuda\" (process r takes LOCAL_RANK r)"));
  }
  // NCCL and new CUDA tensors use the current device: make it this process's GPU.
  const c10::DeviceGuard device_guard(device);
  if (config.batch_size() % dist_env.world_size != 0) {
    return absl::InvalidArgumentError(absl::StrCat("batch_size = ", config.batch_size(),
                                                   " (global) must be divisible by WORLD_SIZE = ",
                                                   dist_env.world_size));
  }
  MOCHI_ASSIGN_OR_RETURN(std::unique_ptr<dist::Communicator> communicator,
                         dist::Communicator::Create(dist_env, device, absl::Minutes(10)));
  const bool is_chief = dist_env.rank == 0;  // the process that writes files and logs

  const std::string& dir = options.output_dir;
  const std::string checkpoint_path = dir + "/checkpoint.pt";
  if (is_chief) std::filesystem::create_directories(dir);
  if (!options.resume && std::filesystem::exists(checkpoint_path)) {
    return absl::FailedPreconditionError(absl::StrCat(
        checkpoint_path, " exists: pass --resume to continue it, or choose another --output_dir"));
  }

  MOCHI_ASSIGN_OR_RETURN(std::unique_ptr<data::Dataset> dataset, BuildDataset(config.dataset()));
  const bool supervised = config.has_supervised();
  if (supervised && dataset->num_classes() != config.supervised().num_classes()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "supervised.num_classes = ", config.supervised().num_classes(), " but the dataset (",
        dataset->Describe(), ") has ", dataset->num_classes(), " classes"));
  }

  MOCHI_ASSIGN_OR_RETURN(data::SampleTransform transform,
                         BuildViewTransform(config.augmentation(), dataset->channels(),
                                            /*num_views=*/supervised ? 1 : 2));
  data::LoaderOptions loader_options;
  loader_options.batch_size = config.batch_size() / dist_env.world_size;
  loader_options.rank = dist_env.rank;
  loader_options.world_size = dist_env.world_size;
  loader_options.num_workers = config.loader().num_workers();
  loader_options.prefetch_batches = config.loader().prefetch_batches();
  loader_options.seed = config.run().seed();
  MOCHI_ASSIGN_OR_RETURN(std::unique_ptr<data::DataLoader> loader,
                         data::DataLoader::Create(dataset.get(), transform, loader_options));

  MOCHI_ASSIGN_OR_RETURN(ssl::Moco moco, BuildMoco(config));
  moco->to(device);
  moco->set_communicator(communicator.get());
  {
    // Identical starting weights everywhere (DDP broadcasts them from rank 0 too).
    torch::NoGradGuard no_grad;
    for (const at::Tensor& p : moco->parameters()) communicator->Broadcast(p.detach(), 0);
    for (const at::Tensor& b : moco->buffers()) communicator->Broadcast(b, 0);
  }
  const std::unique_ptr<ssl::MixingOptions> mixing = BuildMixingOptions(config.moco());
  // What the optimizer moves: MoCo's query encoder, or the supervised backbone and classifier
  // (the unused projection head has no gradient to average across processes).
  torch::nn::Linear classifier = SupervisedClassifier(*moco);
  std::vector<at::Tensor> trained = moco->encoder_q->parameters();
  if (supervised) {
    trained = moco->encoder_q->backbone->parameters();
    for (const at::Tensor& p : classifier->parameters()) trained.push_back(p);
  }
  torch::optim::SGD optimizer(trained,
                              torch::optim::SGDOptions(config.optimizer().base_lr())
                                  .momentum(config.optimizer().momentum())
                                  .weight_decay(config.optimizer().weight_decay()));
  // The mixing draws have their own stream so MoCo-v2 and MoCHi runs share every other draw.
  at::Generator mixing_generator =
      at::make_generator<at::CPUGeneratorImpl>(config.run().seed() * 1000003 + 17 + dist_env.rank);
  const NamedGenerators generators = {{"torch", at::detail::getDefaultCPUGenerator()},
                                      {"mixing", mixing_generator}};

  TrainPosition position;
  position.config_text = ToTextProto(config);
  if (options.resume && std::filesystem::exists(checkpoint_path)) {
    MOCHI_ASSIGN_OR_RETURN(position,
                           LoadCheckpoint(checkpoint_path, *moco, &optimizer, generators));
    proto::PretrainConfig saved;
    MOCHI_RETURN_IF_ERROR(ParseTextProto(position.config_text, checkpoint_path, &saved));
    if (ResumeIdentity(saved) != ResumeIdentity(config)) {
      return absl::FailedPreconditionError(absl::StrCat(
          checkpoint_path, ": was written with a different config; compare ", dir,
          "/config.pbtxt with the one given (only loader, logging and cadence may change)"));
    }
    position.config_text = ToTextProto(config);
    std::fprintf(stderr, "Resuming %s at epoch %lld, step %lld\n", checkpoint_path.c_str(),
                 static_cast<long long>(position.epoch),
                 static_cast<long long>(position.step_in_epoch));
  }
  if (is_chief) {
    const LibTorchInfo libtorch = LinkedLibTorch();
    MOCHI_RETURN_IF_ERROR(WriteFileAtomically(dir + "/config.pbtxt", position.config_text));
    MOCHI_RETURN_IF_ERROR(WriteFileAtomically(
        dir + "/env.txt",
        absl::StrCat("git_revision: ", GitRevision(), "\nlibtorch: ", libtorch.version,
                     "\nintra_op_threads: ", threads.intra_op, "\nblas: ", libtorch.blas,
                     "\nloader_workers: ",
                     loader_options.num_workers, "\ndevice: ", device.str(), "\ndataset: ",
                     dataset->Describe(), "\nprocesses: ", dist_env.world_size, " (",
                     communicator->backend(), ")\n", DescribeCudaRuntime(), "\nstarted: ",
                     absl::FormatTime(absl::Now()), "\n")));
  }
  std::ofstream metrics;
  if (is_chief) metrics.open(dir + "/metrics.jsonl", std::ios::app);

  StopSignalScope signals;
  const int64_t epochs = config.epochs();
  const int64_t steps_per_epoch = loader->batches_per_epoch();
  const int64_t total_steps = epochs * steps_per_epoch;
  // Throughput for the progress line: a moving average over log intervals, so the ETA follows
  // the machine's current speed (a long run's average lags behind load changes by hours).
  absl::Time last_log = absl::Now();
  int64_t last_log_step = position.global_step;
  double recent_per_step = -1;
  // Every process holds the same weights, optimizer state and queue; the chief writes them.
  auto save = [&]() {
    absl::Status status = is_chief ? SaveCheckpoint(checkpoint_path, *moco, optimizer, position,
                                                    generators)
                                   : absl::OkStatus();
    communicator->Barrier();
    return status;
  };

  while (position.epoch < epochs) {
    const int64_t epoch = position.epoch;
    const double lr = LearningRate(config.optimizer(), epoch, epochs);
    for (auto& group : optimizer.param_groups()) {
      static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
    }
    const bool mix = mixing != nullptr && epoch >= config.moco().mixing().start_epoch();
    MOCHI_RETURN_IF_ERROR(loader->StartEpoch(epoch));
    for (int64_t skip = 0; skip < position.step_in_epoch; ++skip) {  // resume mid-epoch
      MOCHI_ASSIGN_OR_RETURN(std::optional<data::Batch> ignored, loader->Next());
      (void)ignored;
    }
    double loss_sum = 0, proxy_correct = 0, proxy_correct_real = 0, seen = 0;
    EpochStatistics statistics(config.stats_queries());
    const absl::Time epoch_start = absl::Now();
    while (true) {
      MOCHI_ASSIGN_OR_RETURN(std::optional<data::Batch> batch, loader->Next());
      if (!batch.has_value()) break;
      MOCHI_RETURN_IF_ERROR(TorchToStatus("training step", [&] {
        if (supervised) {  // "proxy" accuracy is then the training top-1 on the labels
          const at::Tensor features =
              moco->encoder_q->backbone->forward_features(batch->views[0].to(device));
          const at::Tensor logits = classifier(features);
          const at::Tensor labels = batch->labels.to(device);
          const at::Tensor loss = torch::nn::functional::cross_entropy(logits, labels);
          optimizer.zero_grad();
          loss.backward();
          AverageGradients(trained, *communicator);
          optimizer.step();
          const int64_t correct = logits.detach().argmax(1).eq(labels).sum().item<int64_t>();
          loss_sum += loss.item<double>() * logits.size(0);
          proxy_correct += correct;
          proxy_correct_real += correct;
          seen += logits.size(0);
          return;
        }
        const at::Tensor im_q = batch->views[0].to(device);
        const at::Tensor im_k = batch->views[1].to(device);
        moco->MomentumUpdate();
        ssl::MocoImpl::Output out =
            moco->forward(im_q, im_k, mix ? mixing.get() : nullptr, mixing_generator);
        optimizer.zero_grad();
        out.loss.backward();
        AverageGradients(trained, *communicator);
        optimizer.step();
        if (statistics.wants_more()) {  // before Enqueue: the logits saw the old queue
          statistics.Add(out, batch->labels, moco->queue_labels, config.moco().queue_size());
        }
        moco->Enqueue(out.k, batch->labels);
        torch::NoGradGuard no_grad;
        const at::Tensor logits = out.logits.detach();
        const int64_t real = 1 + config.moco().queue_size();
        loss_sum += out.loss.item<double>() * logits.size(0);
        proxy_correct += logits.argmax(1).eq(0).sum().item<double>();
        proxy_correct_real += logits.slice(1, 0, real).argmax(1).eq(0).sum().item<double>();
        seen += logits.size(0);
      }));
      ++position.step_in_epoch;
      ++position.global_step;
      if (is_chief && (position.global_step % config.log_every_steps() == 0 ||
                       position.step_in_epoch == steps_per_epoch)) {
        const absl::Time now = absl::Now();
        const double interval = absl::ToDoubleSeconds(now - last_log) /
                                std::max<int64_t>(1, position.global_step - last_log_step);
        recent_per_step = recent_per_step < 0 ? interval : 0.7 * recent_per_step + 0.3 * interval;
        last_log = now;
        last_log_step = position.global_step;
        const double per_step = recent_per_step;
        std::fprintf(stderr,
                     "epoch %lld/%lld step %lld/%lld  loss %.4f  lr %.4g  %.0f img/s  ETA %s\n",
                     static_cast<long long>(epoch + 1), static_cast<long long>(epochs),
                     static_cast<long long>(position.step_in_epoch),
                     static_cast<long long>(steps_per_epoch), loss_sum / std::max(1.0, seen), lr,
                     config.batch_size() / per_step,
                     Duration(per_step * (total_steps - position.global_step)).c_str());
      }
      bool stop_requested = g_stop_signal.load() != 0;
      if (communicator->world_size() > 1) {
        // Stop together: a process leaving alone would hang the others in a collective.
        at::Tensor flag = at::full({1}, stop_requested ? 1.0f : 0.0f, at::device(device));
        communicator->AllReduceMean({flag});
        stop_requested = flag.item<float>() > 0;
      }
      const bool step_budget_hit = options.max_steps > 0 && position.global_step >= options.max_steps;
      if (stop_requested || step_budget_hit) {
        MOCHI_RETURN_IF_ERROR(save());
        if (stop_requested) {
          return absl::CancelledError(absl::StrCat("interrupted by signal ", g_stop_signal.load(),
                                                   "; checkpoint written to ", checkpoint_path,
                                                   "; continue with --resume"));
        }
        return absl::OkStatus();
      }
    }
    const double epoch_seconds = absl::ToDoubleSeconds(absl::Now() - epoch_start);
    if (is_chief) metrics << absl::StrFormat(
                   "{\"epoch\": %d, \"objective\": \"%s\", \"loss\": %.6f, \"lr\": %.6g, "
                   "\"proxy_acc\": %.6f, \"proxy_acc_without_synthetic\": %.6f, \"mixing\": %s, "
                   "\"seconds\": %.2f%s}",
                   epoch, supervised ? "supervised" : "moco", loss_sum / std::max(1.0, seen), lr,
                   proxy_correct / std::max(1.0, seen), proxy_correct_real / std::max(1.0, seen),
                   mix ? "true" : "false", epoch_seconds, statistics.Json())
            << "\n"
            << std::flush;
    position.epoch = epoch + 1;
    position.step_in_epoch = 0;
    if (position.epoch % config.checkpoint_every_epochs() == 0 || position.epoch == epochs) {
      MOCHI_RETURN_IF_ERROR(save());
    }
  }
  if (is_chief && options.knn_eval && config.dataset().has_fashion_mnist()) {
    MOCHI_RETURN_IF_ERROR(KnnEvaluate(moco, config, *dataset, device, dir, metrics));
  }
  return absl::OkStatus();
}

}  // namespace mochi
