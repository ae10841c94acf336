// Can data loading ever be the bottleneck? Measures, for one pretraining config:
//   - loader throughput: samples/s through DataLoader with the MoCo-v2 two-view augmentation,
//   - backbone throughput: samples/s of the query backbone's forward + backward + SGD step
//     alone (random input of the same shape and batch size),
// and prints their ratio. Run: bazel run //bench:loader_vs_backbone_benchmark -- [--config=...]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "ATen/ATen.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "bench/sample_statistics.h"
#include "mochi/config/validate.h"
#include "mochi/engine/builders.h"
#include "mochi/port/cpu_threads.h"
#include "mochi/port/paths.h"
#include "torch/optim/sgd.h"

ABSL_FLAG(std::string, config, "configs/pretrain/mocov2_fmnist.pbtxt", "PretrainConfig.");
ABSL_FLAG(int, batches, 20, "Batches measured for each side (after one warm-up batch).");
ABSL_FLAG(int, workers, -1, "Loader workers (-1: the config's).");

namespace {

using Clock = std::chrono::steady_clock;

using ::mochi::bench::Median;

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "%s\n", status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  auto config = mochi::LoadConfig<mochi::proto::PretrainConfig>(
      mochi::ResolvePath(absl::GetFlag(FLAGS_config)));
  if (!config.ok()) return Fail(config.status());
  const int threads = config->run().num_threads() > 0 ? config->run().num_threads() : 2;
  mochi::ConfigureCpuThreads(threads);
  const int batches = absl::GetFlag(FLAGS_batches);
  const int64_t batch_size = config->batch_size();

  auto dataset = mochi::BuildDataset(config->dataset());
  if (!dataset.ok()) return Fail(dataset.status());
  auto transform = mochi::BuildViewTransform(config->augmentation(), (*dataset)->channels(),
                                             /*num_views=*/2);
  if (!transform.ok()) return Fail(transform.status());
  mochi::data::LoaderOptions loader_options;
  loader_options.batch_size = batch_size;
  loader_options.num_workers = absl::GetFlag(FLAGS_workers) >= 0 ? absl::GetFlag(FLAGS_workers)
                                                                 : config->loader().num_workers();
  loader_options.prefetch_batches = config->loader().prefetch_batches();
  auto loader = mochi::data::DataLoader::Create(dataset->get(), *transform, loader_options);
  if (!loader.ok()) return Fail(loader.status());

  // Loader alone: the consumer does nothing, so this is the loader's ceiling.
  if (auto s = (*loader)->StartEpoch(0); !s.ok()) return Fail(s);
  std::vector<int64_t> shape;
  auto first = (*loader)->Next();  // warm-up (workers start)
  if (!first.ok() || !first->has_value()) return Fail(first.status());
  shape = (*first)->views[0].sizes().vec();
  const auto loader_start = Clock::now();
  for (int i = 0; i < batches; ++i) {
    auto batch = (*loader)->Next();
    if (!batch.ok()) return Fail(batch.status());
    if (!batch->has_value()) break;
  }
  const double loader_seconds =
      std::chrono::duration<double>(Clock::now() - loader_start).count();
  const double loader_rate = batches * batch_size / loader_seconds;

  // Backbone alone: forward + backward + SGD step of the query backbone with a linear probe on
  // top (a stand-in for the head), on a fixed random batch.
  auto backbone = mochi::models::MakeResNet(mochi::BuildResNetOptions(config->backbone(), 128));
  if (!backbone.ok()) return Fail(backbone.status());
  torch::optim::SGD sgd((*backbone)->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  const at::Tensor input = at::randn(shape);
  const at::Tensor target = at::randint(128, {shape[0]}, at::kLong);
  std::vector<double> step_seconds;
  for (int i = 0; i <= batches; ++i) {
    const auto t0 = Clock::now();
    sgd.zero_grad();
    at::cross_entropy_loss((*backbone)->forward(input), target).backward();
    sgd.step();
    if (i > 0) step_seconds.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  const double backbone_rate = batch_size / Median(step_seconds);

  std::printf("config: %s\n", absl::GetFlag(FLAGS_config).c_str());
  std::string view = "";
  for (size_t i = 1; i < shape.size(); ++i) view += (i > 1 ? "x" : "") + std::to_string(shape[i]);
  std::printf("batch %lld, view %s, intra-op threads %d, loader workers %d\n",
              static_cast<long long>(batch_size), view.c_str(), threads,
              loader_options.num_workers);
  std::printf("loader (2 augmented views/sample): %8.0f samples/s\n", loader_rate);
  std::printf("backbone fwd+bwd+SGD (1 view):     %8.0f samples/s\n", backbone_rate);
  std::printf("loader / backbone ratio: %.2f  (a MoCo step costs ~1.33x a backbone step, so the\n"
              "loader is a bottleneck only if this ratio falls below ~0.75; both sides share the\n"
              "same %d cores when run together)\n",
              loader_rate / backbone_rate, threads);
  return 0;
}
