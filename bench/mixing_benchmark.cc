// What does hard negative mixing cost per training step? For the default-profile MoCo model
// (configs/pretrain/mocov2_fmnist.pbtxt unless --config), on one fixed random batch of two-view
// inputs, measures the median time of a full training step (forward incl. momentum update + loss
// + backward + SGD step + enqueue) for MoCo-v2 and each MoCHi (N, s, s') setting, at each queue
// size K, with the variants interleaved (rotating order) so machine drift cancels in the ratios.
// Prints step ms, MoCHi / MoCo-v2 and step / backbone-only (forward + backward + SGD of the query
// backbone with a 128-way linear probe, one view, same batch) and each variant's peak tensor memory
// during a step (above what was live before it). Then times the mixing's pieces in
// isolation: top-N selection (RowTopN, and at::topk for comparison), the random draws, DrawMixing,
// and SyntheticLogits' fast form vs the reference vector form (BuildSyntheticNegatives +
// SyntheticLogitsFromVectors), forward and forward + backward.
//
// --backbone_study adds a sweep of the backbone-only step over memory format (contiguous /
// channels_last) and intra-op threads, with process CPU time per step (CPU/wall shows how many
// cores the step actually got on a shared machine).
//
// Run: bazel run //bench:mixing_benchmark -- [--queue_sizes=4096,65536] [--steps=10]
//        [--backbone_study] [--threads=2]
#include <time.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ATen/ATen.h"
#include "ATen/CPUGeneratorImpl.h"
#include "ATen/Parallel.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/counting_allocator.h"
#include "bench/sample_statistics.h"
#include "mochi/config/validate.h"
#include "mochi/data/loader.h"
#include "mochi/dist/communicator.h"
#include "mochi/engine/builders.h"
#include "mochi/engine/objectives.h"
#include "mochi/models/memory_format.h"
#include "mochi/port/autocast.h"
#include "mochi/port/cpu_threads.h"
#include "mochi/port/device.h"
#include "mochi/port/json_proto.h"
#include "mochi/port/libtorch_info.h"
#include "mochi/port/paths.h"
#include "mochi/port/run_environment.h"
#include "mochi/port/text_proto.h"
#include "mochi/proto/results.pb.h"
#include "mochi/ssl/hard_negative_mixing.h"
#include "mochi/ssl/moco.h"
#include "mochi/ssl/row_top_n.h"
#include "torch/autograd.h"
#include "torch/cuda.h"
#include "torch/optim/sgd.h"

ABSL_FLAG(std::string, config, "configs/pretrain/mocov2_fmnist.pbtxt", "PretrainConfig.");
ABSL_FLAG(std::string, override, "",
          "Text-proto merged into the config, e.g. 'run { autocast_bf16: true channels_last: true }'.");
ABSL_FLAG(std::string, device, "cpu", "Device of the models and the batch, e.g. cuda.");
ABSL_FLAG(std::string, queue_sizes, "4096,65536", "Comma-separated queue sizes K.");
ABSL_FLAG(std::string, mixings, "256:512:0,1024:512:256",
          "Comma-separated MoCHi settings N:s:s' (each compared with MoCo-v2).");
ABSL_FLAG(int, warmup, 2, "Warm-up rounds (each runs every variant once), not measured.");
ABSL_FLAG(int, steps, 10, "Measured rounds; medians are taken over them.");
ABSL_FLAG(int, piece_reps, 30, "Repetitions of each isolated mixing piece.");
ABSL_FLAG(int, threads, 2, "Intra-op threads (at::set_num_threads).");
ABSL_FLAG(bool, pieces, true, "Time the mixing's pieces in isolation.");
ABSL_FLAG(bool, count_memory, true,
          "After the timed rounds, count each variant's step peak of CPU tensor memory.");
ABSL_FLAG(bool, backbone_study, false,
          "Also sweep the backbone-only step over memory format and threads.");
ABSL_FLAG(std::string, study_threads, "1,2", "Thread counts for --backbone_study.");
ABSL_FLAG(bool, materialised_head, true,
          "Also run MoCo-v2 with the materialised-logits loss head (moco { loss_head_tile_rows: "
          "0 }), the head before the streamed one.");
ABSL_FLAG(std::string, json_dir, "",
          "If set, also write <dir>/k<K>_<variant>.json per variant (for //pipelines:"
          "figure_overhead): medians, paired ratios, img/s.");

namespace {

using Clock = std::chrono::steady_clock;

using ::mochi::bench::Median;
using ::mochi::bench::Quantile;

double ProcessCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "%s\n", status.ToString().c_str());
  return 1;
}

// The device the steps run on; CUDA work is asynchronous, so a timed call ends with a sync.
at::Device g_device(at::kCPU);

void Synchronize() {
  if (g_device.is_cuda()) torch::cuda::synchronize(g_device.index());
}

// Seconds of one call of `fn`.
double Time(const std::function<void()>& fn) {
  Synchronize();
  const auto t0 = Clock::now();
  fn();
  Synchronize();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Median ms over `reps` calls after 2 warm-up calls.
double MedianMs(const std::function<void()>& fn, int reps) {
  fn();
  fn();
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) t.push_back(Time(fn));
  return 1e3 * Median(t);
}

struct Mixing {
  std::string name;
  std::string override_text;  // merged into the config's `moco` block
};

// A backbone-only step: query-layout ResNet + 128-way linear probe, CE, backward, SGD.
struct BackboneStep {
  mochi::models::ResNet net{nullptr};
  std::unique_ptr<torch::optim::SGD> sgd;
  at::Tensor input;
  at::Tensor target;
  bool autocast_bf16 = false;  // the forward under bf16 autocast, as MoCo's encoders then run

  void Run() {
    sgd->zero_grad();
    at::Tensor logits;
    {
      const mochi::Bf16AutocastGuard autocast(input.device().type(), autocast_bf16);
      logits = net->forward(input).to(at::kFloat);
    }
    at::cross_entropy_loss(logits, target).backward();
    sgd->step();
  }
};

absl::StatusOr<BackboneStep> MakeBackboneStep(const mochi::proto::PretrainConfig& config,
                                              const at::Tensor& input, bool channels_last) {
  BackboneStep b;
  auto net = mochi::models::MakeResNet(mochi::BuildResNetOptions(config.backbone(), 128));
  if (!net.ok()) return net.status();
  b.net = *net;
  b.net->to(g_device);
  if (channels_last) mochi::models::ToChannelsLast(*b.net);
  b.sgd = std::make_unique<torch::optim::SGD>(b.net->parameters(),
                                              torch::optim::SGDOptions(config.optimizer().base_lr())
                                                  .momentum(config.optimizer().momentum())
                                                  .weight_decay(config.optimizer().weight_decay()));
  b.input = channels_last ? input.contiguous(at::MemoryFormat::ChannelsLast) : input;
  b.target = at::randint(128, {input.size(0)}, at::kLong).to(g_device);
  b.autocast_bf16 = config.run().autocast_bf16();
  return b;
}

// Isolated pieces of the mixing at one K, on unit q [B, D] and a unit queue [K, D].
void TimePieces(int64_t batch, int64_t dim, int64_t k,
                const std::vector<std::pair<std::string, mochi::ssl::MixingOptions>>& mixings,
                double temperature, int64_t head_tile_rows, double moco_step_ms, int reps) {
  at::Tensor q0 = at::randn({batch, dim});
  q0 = q0 / q0.norm(2, 1, true);
  at::Tensor queue = at::randn({k, dim});
  queue = queue / queue.norm(2, 1, true);
  const at::Tensor q_leaf = q0.clone().set_requires_grad(true);
  at::Tensor sim_detached;
  {
    torch::NoGradGuard no_grad;
    sim_detached = at::matmul(q0, queue.t());
  }
  std::printf("  pieces at K=%lld (ms, median of %d; %% = share of the MoCo-v2 step %.1f ms)\n",
              static_cast<long long>(k), reps, moco_step_ms);
  auto row = [&](const std::string& what, double ms) {
    std::printf("    %-58s %8.3f ms  %5.1f%%\n", what.c_str(), ms, 100.0 * ms / moco_step_ms);
  };
  row("q @ queue^T (MoCo-v2 already pays this), fwd", MedianMs(
                                                          [&] {
                                                            torch::NoGradGuard g;
                                                            (void)at::matmul(q0, queue.t());
                                                          },
                                                          reps));
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(1);
  // The whole loss head, q -> logits -> cross-entropy -> gradient of q: what mixing adds to a
  // step outside the encoders (wider logits and their copy included).
  at::Tensor k0 = at::randn({batch, dim});
  k0 = k0 / k0.norm(2, 1, true);
  auto head_ms = [&](const mochi::ssl::MixingOptions* mixing, int64_t tile_rows) {
    return MedianMs(
        [&] {
          mochi::ssl::ComputeContrastiveLoss(q_leaf, k0, queue, temperature, mixing, gen,
                                             tile_rows)
              .loss.backward();
          q_leaf.mutable_grad().reset();
        },
        reps);
  };
  for (const int64_t tile_rows : {int64_t{0}, head_tile_rows}) {
    const std::string head = tile_rows == 0 ? "materialised"
                                            : absl::StrCat("streamed, T = ", tile_rows);
    const double moco_head_ms = head_ms(nullptr, tile_rows);
    row(absl::StrCat("loss head (", head, ") MoCo-v2, fwd+bwd"), moco_head_ms);
    for (const auto& [name, options] : mixings) {
      row(absl::StrCat("loss head (", head, ") ", name, ", minus MoCo-v2's"),
          head_ms(&options, tile_rows) - moco_head_ms);
    }
  }
  for (const auto& [name, options] : mixings) {
    // The fast form reads q.n_i, q.n_j, q.n_j' with three gathers on the [B, K] logits; each
    // gather's backward materialises a dense [B, K] zero + scatter. One gather of the concatenated
    // indices gives the same values with one [B, K] scatter.
    {
      const int64_t s = options.num_mixed_pairs, sq = options.num_query_mixed;
      const at::Tensor i1 = at::randint(k, {batch, s}, at::kLong);
      const at::Tensor i2 = at::randint(k, {batch, s}, at::kLong);
      const at::Tensor i3 = at::randint(k, {batch, sq}, at::kLong);
      const at::Tensor all = at::cat({i1, i2, i3}, 1);
      const at::Tensor sim_leaf = sim_detached.clone().set_requires_grad(true);
      row(absl::StrCat("3 gathers on [B,K] ", name, ", fwd+bwd"),
          MedianMs(
              [&] {
                (sim_leaf.gather(1, i1).sum() + sim_leaf.gather(1, i2).sum() +
                 sim_leaf.gather(1, i3).sum())
                    .backward();
                sim_leaf.mutable_grad().reset();
              },
              reps));
      row(absl::StrCat("1 gather of cat(indices) ", name, ", fwd+bwd"),
          MedianMs(
              [&] {
                sim_leaf.gather(1, all).sum().backward();
                sim_leaf.mutable_grad().reset();
              },
              reps));
    }
    const int64_t n = options.num_hardest;
    row(absl::StrCat("topk N=", n, " sorted  [", batch, ",", k, "]"),
        MedianMs([&] { (void)at::topk(sim_detached, n, 1, true, true); }, reps));
    row(absl::StrCat("topk N=", n, " unsorted"),
        MedianMs([&] { (void)at::topk(sim_detached, n, 1, true, false); }, reps));
    row(absl::StrCat("RowTopN N=", n, " (the mixing's top-N)"),
        MedianMs([&] { (void)mochi::ssl::RowTopN(sim_detached, n); }, reps));
    row(absl::StrCat("random draws alone ", name),
        MedianMs([&] { (void)mochi::ssl::DrawMixingWeights(batch, options, gen, at::kCPU); },
                 reps));
    row(absl::StrCat("DrawMixing ", name, " (top-N + random draws)"),
        MedianMs([&] { (void)mochi::ssl::DrawMixing(sim_detached, options, gen); }, reps));
    const mochi::ssl::MixingDraws draws = mochi::ssl::DrawMixing(sim_detached, options, gen);
    // Forward only (under no_grad the autograd bookkeeping is skipped, as in a pure cost view).
    row(absl::StrCat("SyntheticLogits fast ", name, ", fwd"),
        MedianMs(
            [&] {
              const at::Tensor sim = at::matmul(q_leaf, queue.t());
              (void)mochi::ssl::SyntheticLogits(q_leaf, queue, sim, draws, temperature, options);
            },
            reps) -
            MedianMs([&] { (void)at::matmul(q_leaf, queue.t()); }, reps));
    row(absl::StrCat("vector form ", name, ", fwd"),
        MedianMs(
            [&] {
              (void)mochi::ssl::SyntheticLogitsFromVectors(
                  q_leaf, mochi::ssl::BuildSyntheticNegatives(q_leaf, queue, draws, options),
                  temperature);
            },
            reps));
    // Forward + backward of the synthetic logits alone (sum as a stand-in loss; the matmul that
    // MoCo-v2 also pays is subtracted).
    const double matmul_fb = MedianMs(
        [&] {
          at::matmul(q_leaf, queue.t()).sum().backward();
          q_leaf.mutable_grad().reset();
        },
        reps);
    row(absl::StrCat("SyntheticLogits fast ", name, ", fwd+bwd"),
        MedianMs(
            [&] {
              const at::Tensor sim = at::matmul(q_leaf, queue.t());
              (mochi::ssl::SyntheticLogits(q_leaf, queue, sim, draws, temperature, options).sum() +
               sim.sum())
                  .backward();
              q_leaf.mutable_grad().reset();
            },
            reps) -
            matmul_fb);
    row(absl::StrCat("vector form ", name, ", fwd+bwd"),
        MedianMs(
            [&] {
              mochi::ssl::SyntheticLogitsFromVectors(
                  q_leaf, mochi::ssl::BuildSyntheticNegatives(q_leaf, queue, draws, options),
                  temperature)
                  .sum()
                  .backward();
              q_leaf.mutable_grad().reset();
            },
            reps));
  }
}

// "MoCHi(256,512,0)" -> "mochi_256_512_0", "MoCo-v2" -> "mocov2", "MoCo-v2 materialised head" ->
// "mocov2_materialised_head", the backbone row -> "backbone".
std::string VariantSlug(const std::string& name) {
  if (name.rfind("backbone", 0) == 0) return "backbone";
  std::string slug;
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      slug += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (c == '(' || c == ',' || c == ' ') {
      slug += '_';
    }
  }
  return slug;
}

std::vector<int64_t> ParseInts(const std::string& text) {
  std::vector<int64_t> out;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int64_t v = 0;
    if (absl::SimpleAtoi(part, &v)) out.push_back(v);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const absl::Time started = absl::Now();
  // Counts CPU tensor memory when enabled (only in the memory pass after the timed rounds).
  mochi::bench::CountingCpuAllocator* const memory =
      absl::GetFlag(FLAGS_count_memory) ? mochi::bench::CountingCpuAllocator::Install() : nullptr;
  const int threads = absl::GetFlag(FLAGS_threads);
  // As the training binaries.
  const mochi::CpuThreads cpu_threads = mochi::ConfigureCpuThreads(threads);
  const std::string config_path = mochi::ResolvePath(absl::GetFlag(FLAGS_config));
  const std::string override_text = absl::GetFlag(FLAGS_override);
  if (absl::StatusOr<at::Device> device = mochi::ResolveDevice(absl::GetFlag(FLAGS_device));
      device.ok()) {
    g_device = *device;
  } else {
    return Fail(device.status());
  }
  if (g_device.is_cuda() && (absl::GetFlag(FLAGS_count_memory) || absl::GetFlag(FLAGS_pieces))) {
    return Fail(absl::InvalidArgumentError("--count_memory and --pieces measure CPU work only: "
                                           "add --count_memory=false --pieces=false"));
  }
  const int warmup = absl::GetFlag(FLAGS_warmup);
  const int steps = absl::GetFlag(FLAGS_steps);
  // Medians and quartiles need at least one sample.
  if (steps < 1 || absl::GetFlag(FLAGS_piece_reps) < 1 || warmup < 0) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("--steps (", steps, ") and --piece_reps (", absl::GetFlag(FLAGS_piece_reps),
                     ") must be >= 1, --warmup (", warmup, ") >= 0")));
  }

  std::vector<Mixing> mixings;
  for (absl::string_view spec :
       absl::StrSplit(absl::GetFlag(FLAGS_mixings), ',', absl::SkipEmpty())) {
    const std::vector<int64_t> v = ParseInts(std::string(absl::StrReplaceAll(spec, {{":", ","}})));
    if (v.size() != 3)
      return Fail(absl::InvalidArgumentError(absl::StrCat("bad --mixings entry ", spec)));
    mixings.push_back({absl::StrCat("MoCHi(", v[0], ",", v[1], ",", v[2], ")"),
                       absl::StrCat("mixing { num_hardest: ", v[0], " num_mixed_pairs: ", v[1],
                                    " num_query_mixed: ", v[2], " }")});
  }

  // One process: the objective's gradient averaging is then the identity, as in a 1-process run.
  auto communicator =
      mochi::dist::Communicator::Create(mochi::dist::DistributedEnv{}, g_device, absl::Minutes(1));
  if (!communicator.ok()) return Fail(communicator.status());

  const mochi::LibTorchInfo libtorch = mochi::LinkedLibTorch();
  std::printf(
      "config %s, override '%s', device %s, LibTorch %s (BLAS %s), intra-op threads %d "
      "(at::get_num_threads %d), warm-up %d, %d measured rounds, variants interleaved in "
      "rotating order\n",
      absl::GetFlag(FLAGS_config).c_str(), override_text.c_str(), g_device.str().c_str(),
      libtorch.version.c_str(), libtorch.blas.c_str(), threads, cpu_threads.intra_op, warmup,
      steps);

  for (const int64_t k : ParseInts(absl::GetFlag(FLAGS_queue_sizes))) {
    auto base = mochi::LoadConfig<mochi::proto::PretrainConfig>(
        config_path, absl::StrCat(override_text, " moco { queue_size: ", k, " }"));
    if (!base.ok()) return Fail(base.status());
    const int64_t batch = base->batch_size();
    const int64_t channels = base->backbone().in_channels();
    const int64_t size = base->augmentation().crop_size();
    torch::manual_seed(0);
    const at::Tensor im_q = at::randn({batch, channels, size, size}).to(g_device);
    const at::Tensor im_k = at::randn({batch, channels, size, size}).to(g_device);
    const at::Tensor labels = at::full({batch}, -1, at::kLong);

    // Variants: 0 = backbone only, 1 = MoCo-v2, 2.. = MoCHi settings. One model each, so the
    // queue / weights of one variant never influence another.
    struct Variant {
      std::string name;
      std::function<void()> step;
      std::vector<double> ms;
      int64_t step_peak_bytes = 0;  // max over 2 counted steps of (peak during step - live before)
    };
    std::vector<Variant> variants;
    auto backbone = MakeBackboneStep(*base, im_q, base->run().channels_last());
    if (!backbone.ok()) return Fail(backbone.status());
    auto backbone_ptr = std::make_shared<BackboneStep>(std::move(*backbone));
    variants.push_back(
        {"backbone fwd+bwd+SGD (1 view)", [backbone_ptr] { backbone_ptr->Run(); }, {}});

    std::vector<std::pair<std::string, mochi::ssl::MixingOptions>> piece_mixings;
    // v = -1: MoCo-v2; 0..: the MoCHi settings; then MoCo-v2 with materialised logits.
    const int num_mixings = static_cast<int>(mixings.size());
    const int last = num_mixings + (absl::GetFlag(FLAGS_materialised_head) ? 1 : 0);
    for (int v = -1; v < last; ++v) {
      const bool materialised = v == num_mixings;
      const std::string variant_name = v < 0           ? std::string("MoCo-v2")
                                       : materialised ? std::string("MoCo-v2 materialised head")
                                                      : mixings[v].name;
      const std::string moco_override =
          v < 0 ? "" : materialised ? "loss_head_tile_rows: 0" : mixings[v].override_text;
      auto config = v < 0 ? base
                          : mochi::LoadConfig<mochi::proto::PretrainConfig>(
                                config_path, absl::StrCat(override_text, " moco { queue_size: ", k,
                                                          " ", moco_override, " }"));
      if (!config.ok()) return Fail(config.status());
      auto moco = mochi::BuildMoco(*config);
      if (!moco.ok()) return Fail(moco.status());
      (*moco)->to(g_device);
      std::shared_ptr<mochi::ssl::MixingOptions> mixing = mochi::BuildMixingOptions(config->moco());
      if (mixing) piece_mixings.push_back({variant_name, *mixing});
      // The trainer's own step (mochi/engine/objectives.h): the momentum update, forward,
      // backward, SGD step, enqueue and the per-step loss / proxy-accuracy reads.
      auto sgd = std::make_shared<torch::optim::SGD>(
          (*moco)->encoder_q->parameters(), torch::optim::SGDOptions(config->optimizer().base_lr())
                                                .momentum(config->optimizer().momentum())
                                                .weight_decay(config->optimizer().weight_decay()));
      mochi::MocoObjectiveOptions objective_options;
      objective_options.mixing = mixing.get();  // from the first epoch on
      auto objective = std::make_shared<mochi::MocoObjective>(
          *moco, *sgd, (*moco)->encoder_q->parameters(), **communicator,
          at::make_generator<at::CPUGeneratorImpl>(v + 7), g_device, objective_options);
      objective->BeginEpoch(mochi::TrainerState{});  // epoch 0
      const mochi::data::Batch two_views{{im_q, im_k}, labels};
      variants.push_back({variant_name,
                          [objective, sgd, mixing, two_views] {
                            const absl::Status status = objective->Step(two_views);
                            if (!status.ok()) {
                              std::fprintf(stderr, "step failed: %s\n", status.ToString().c_str());
                              std::exit(1);
                            }
                          },
                          {}});
    }

    const size_t nv = variants.size();
    for (int round = 0; round < warmup + steps; ++round) {
      for (size_t j = 0; j < nv; ++j) {
        Variant& variant = variants[(round + j) % nv];
        const double s = Time(variant.step);
        if (round >= warmup) variant.ms.push_back(1e3 * s);
      }
    }
    // Memory after timing (counting slows allocation): 2 more steps per variant, the larger peak.
    if (memory != nullptr) {
      memory->set_enabled(true);
      for (Variant& variant : variants) {
        for (int i = 0; i < 2; ++i) {
          const int64_t live_before = memory->live();
          memory->ResetPeak();
          variant.step();
          variant.step_peak_bytes =
              std::max(variant.step_peak_bytes, memory->peak() - live_before);
        }
      }
      memory->set_enabled(false);
    }
    const double backbone_ms = Median(variants[0].ms);
    const double moco_ms = Median(variants[1].ms);
    std::printf("\nK = %lld, batch %lld, view %lldx%lldx%lld, head %d, tau %.2f\n",
                static_cast<long long>(k), static_cast<long long>(batch),
                static_cast<long long>(channels), static_cast<long long>(size),
                static_cast<long long>(size), base->head().output_dim(),
                base->moco().temperature());
    std::printf("  %-30s %10s %10s %12s %14s %12s %14s\n", "variant", "step ms", "min ms",
                "/ MoCo-v2", "/ backbone", "img/s", "step peak MiB");
    for (const Variant& variant : variants) {
      const double ms = Median(variant.ms);
      std::printf("  %-30s %10.1f %10.1f %12.3f %14.3f %12.0f %14.2f\n", variant.name.c_str(), ms,
                  *std::min_element(variant.ms.begin(), variant.ms.end()), ms / moco_ms,
                  ms / backbone_ms, 1e3 * batch / ms, variant.step_peak_bytes / 1048576.0);
    }
    // Paired per-round ratios (same round, adjacent in time) are more robust than ratio of medians.
    // Their quartiles show how far a single round can be trusted.
    std::vector<double> paired_ratio(nv, 1.0), paired_q1(nv, 1.0), paired_q3(nv, 1.0);
    for (size_t j = 0; j < nv; ++j) {
      std::vector<double> r;
      for (size_t i = 0; i < variants[j].ms.size(); ++i)
        r.push_back(variants[j].ms[i] / variants[1].ms[i]);
      paired_ratio[j] = Median(r);
      paired_q1[j] = Quantile(r, 0.25);
      paired_q3[j] = Quantile(r, 0.75);
      if (j < 2) continue;
      std::printf(
          "  median per-round ratio %s / MoCo-v2: %.3f  (quartiles %.3f-%.3f, min %.3f, max "
          "%.3f)\n",
          variants[j].name.c_str(), paired_ratio[j], paired_q1[j], paired_q3[j],
          *std::min_element(r.begin(), r.end()), *std::max_element(r.begin(), r.end()));
    }
    if (const std::string dir = absl::GetFlag(FLAGS_json_dir); !dir.empty()) {
      for (size_t j = 0; j < nv; ++j) {
        const Variant& variant = variants[j];
        const double ms = Median(variant.ms);
        const std::string path =
            absl::StrCat(mochi::ResolvePath(dir), "/k", k, "_", VariantSlug(variant.name), ".json");
        mochi::proto::BenchmarkResult result;
        result.set_variant(variant.name);
        result.set_queue_size(static_cast<int32_t>(k));
        result.set_batch(static_cast<int32_t>(batch));
        result.set_threads(threads);
        result.set_rounds(steps);
        result.set_step_ms_median(ms);
        result.set_step_ms_min(*std::min_element(variant.ms.begin(), variant.ms.end()));
        result.set_ratio_to_mocov2_paired_median(paired_ratio[j]);
        result.set_ratio_to_mocov2_paired_q1(paired_q1[j]);
        result.set_ratio_to_mocov2_paired_q3(paired_q3[j]);
        result.set_ratio_to_backbone(ms / backbone_ms);
        result.set_images_per_second(1e3 * batch / ms);
        result.set_step_peak_mib(variant.step_peak_bytes / 1048576.0);
        if (absl::Status status = mochi::WriteJsonProto(path, result); !status.ok()) {
          return Fail(status);
        }
        // A run directory's env.txt keys, so the report's provenance block can read them.
        const std::string env =
            mochi::RunEnvironmentText(g_device.str(), cpu_threads.intra_op, {}, started);
        if (absl::Status status = mochi::WriteFileAtomically(
                absl::StrCat(mochi::ResolvePath(dir), "/k", k, "_", VariantSlug(variant.name),
                             "_env.txt"),
                env);
            !status.ok()) {
          return Fail(status);
        }
      }
    }
    if (absl::GetFlag(FLAGS_pieces)) {
      // The streamed head's pieces at the config's tile size, or the default one if the config
      // materialises the logits.
      const int64_t tile_rows = base->moco().loss_head_tile_rows();
      TimePieces(batch, base->head().output_dim(), k, piece_mixings, base->moco().temperature(),
                 tile_rows > 0 ? tile_rows : mochi::ssl::MocoOptions{}.loss_head_tile_rows,
                 moco_ms, absl::GetFlag(FLAGS_piece_reps));
    }
  }

  if (absl::GetFlag(FLAGS_backbone_study)) {
    auto config = mochi::LoadConfig<mochi::proto::PretrainConfig>(config_path);
    if (!config.ok()) return Fail(config.status());
    const int64_t batch = config->batch_size();
    const at::Tensor input =
        at::randn({batch, config->backbone().in_channels(), config->augmentation().crop_size(),
                   config->augmentation().crop_size()});
    std::printf("\nbackbone study: fwd+bwd+SGD, batch %lld, interleaved, median of %d\n",
                static_cast<long long>(batch), steps);
    struct Case {
      std::string name;
      int threads;
      std::shared_ptr<BackboneStep> step;
      std::vector<double> wall, cpu;
    };
    std::vector<Case> cases;
    for (const int64_t t : ParseInts(absl::GetFlag(FLAGS_study_threads))) {
      for (const bool cl : {false, true}) {
        auto b = MakeBackboneStep(*config, input, cl);
        if (!b.ok()) return Fail(b.status());
        cases.push_back({absl::StrCat(cl ? "channels_last" : "contiguous", ", threads ", t),
                         static_cast<int>(t),
                         std::make_shared<BackboneStep>(std::move(*b)),
                         {},
                         {}});
      }
    }
    for (int round = 0; round < warmup + steps; ++round) {
      for (size_t j = 0; j < cases.size(); ++j) {
        Case& c = cases[(round + j) % cases.size()];
        at::set_num_threads(c.threads);
        const double cpu0 = ProcessCpuSeconds();
        const double s = Time([&] { c.step->Run(); });
        const double cpu = ProcessCpuSeconds() - cpu0;
        if (round >= warmup) {
          c.wall.push_back(s);
          c.cpu.push_back(cpu);
        }
      }
    }
    std::printf("  %-28s %10s %10s %10s %14s\n", "case", "step ms", "img/s", "CPU/wall",
                "img/CPU-s");
    for (const Case& c : cases) {
      const double w = Median(c.wall), cpu = Median(c.cpu);
      std::printf("  %-28s %10.1f %10.0f %10.2f %14.0f\n", c.name.c_str(), 1e3 * w, batch / w,
                  cpu / w, batch / cpu);
    }
    at::set_num_threads(threads);
  }
  return 0;
}
