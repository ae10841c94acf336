#include "mochi/engine/pretrain.h"

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "ATen/ATen.h"
#include "ATen/CPUGeneratorImpl.h"
#include "ATen/Parallel.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "c10/core/DeviceGuard.h"
#include "mochi/dist/communicator.h"
#include "mochi/engine/builders.h"
#include "mochi/engine/checkpoint.h"
#include "mochi/engine/hooks.h"
#include "mochi/engine/lr_schedule.h"
#include "mochi/engine/objectives.h"
#include "mochi/engine/trainer.h"
#include "mochi/port/cpu_threads.h"
#include "mochi/port/device.h"
#include "mochi/port/paths.h"
#include "mochi/port/run_environment.h"
#include "mochi/port/status_macros.h"
#include "mochi/port/text_proto.h"
#include "mochi/port/torch_status.h"
#include "torch/optim/sgd.h"

namespace mochi {
namespace {

// The config minus the settings that may change on resume (logging, loader, cadence).
std::string ResumeIdentity(proto::PretrainConfig config) {
  config.clear_loader();
  config.clear_log_every_steps();
  config.clear_checkpoint_every_epochs();
  config.clear_stats_queries();
  return ToTextProto(config);
}

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

  // What is trained, as the checkpoint holds it: MoCo, or the supervised classifier.
  MOCHI_ASSIGN_OR_RETURN(const PretrainModel built, BuildPretrainModel(config));
  const std::shared_ptr<torch::nn::Module> model = built.module;
  ssl::Moco moco = built.moco;
  models::Classifier classifier = built.classifier;
  if (!supervised) moco->set_communicator(communicator.get());
  model->to(device);
  {
    // Identical starting weights everywhere (DDP broadcasts them from rank 0 too).
    torch::NoGradGuard no_grad;
    for (const at::Tensor& p : model->parameters()) communicator->Broadcast(p.detach(), 0);
    for (const at::Tensor& b : model->buffers()) communicator->Broadcast(b, 0);
  }
  // What the optimizer moves: MoCo's query encoder (the key encoder follows it by momentum), or
  // the whole classifier.
  const std::vector<at::Tensor> trained =
      supervised ? classifier->parameters() : moco->encoder_q->parameters();
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
                           LoadCheckpoint(checkpoint_path, *model, &optimizer, generators,
                                          dist_env.rank, dist_env.world_size));
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
    // Only now: a run that fails on its data, config or checkpoint leaves no run directory.
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    if (error) return absl::InternalError(absl::StrCat(dir, ": cannot create: ", error.message()));
    MOCHI_RETURN_IF_ERROR(WriteFileAtomically(dir + "/config.pbtxt", position.config_text));
    MOCHI_RETURN_IF_ERROR(WriteFileAtomically(
        dir + "/env.txt",
        RunEnvironmentText(device.str(), threads.intra_op,
                           {{"loader_workers", absl::StrCat(loader_options.num_workers)},
                            {"dataset", dataset->Describe()},
                            {"processes", absl::StrCat(dist_env.world_size, " (",
                                                       communicator->backend(), ")")}},
                           absl::Now())));
  }
  std::unique_ptr<MetricsLog> metrics;
  if (is_chief) {
    MOCHI_ASSIGN_OR_RETURN(metrics, MetricsLog::Open(dir + "/metrics.jsonl"));
  }

  std::unique_ptr<Objective> objective;
  std::unique_ptr<ssl::MixingOptions> mixing;  // MoCHi's (N, s, s'); null for MoCo-v2
  if (supervised) {
    objective = std::make_unique<SupervisedObjective>(classifier, optimizer, trained,
                                                      *communicator, device);
  } else {
    mixing = BuildMixingOptions(config.moco());
    MocoObjectiveOptions moco_options;
    moco_options.mixing = mixing.get();
    moco_options.mixing_start_epoch = config.moco().mixing().start_epoch();
    moco_options.stats_queries = config.stats_queries();
    objective = std::make_unique<MocoObjective>(moco, optimizer, trained, *communicator,
                                                mixing_generator, device, moco_options);
  }
  std::vector<std::unique_ptr<HookBase>> hooks;
  const proto::Optimizer schedule = config.optimizer();
  const int64_t epochs = config.epochs();
  hooks.push_back(std::make_unique<LrScheduleHook>(
      [schedule, epochs](int64_t epoch) { return ScheduledLearningRate(schedule, epoch, epochs); },
      &optimizer));
  if (is_chief) {
    hooks.push_back(
        std::make_unique<ProgressHook>(config.log_every_steps(), config.batch_size(), *objective));
  }
  hooks.push_back(
      std::make_unique<StopHook>(*communicator, device, options.max_steps, checkpoint_path));
  if (is_chief) hooks.push_back(std::make_unique<EpochMetricsHook>(*metrics));
  hooks.push_back(std::make_unique<CheckpointHook>(checkpoint_path,
                                                   config.checkpoint_every_epochs(), *model,
                                                   optimizer, generators, *communicator));
  const PretrainContext context{&config, built.backbone, dataset.get(), device, dir, is_chief};
  for (const PretrainHookFactory& factory : options.extra_hooks) {
    MOCHI_ASSIGN_OR_RETURN(std::unique_ptr<HookBase> hook, factory(context));
    if (hook != nullptr) hooks.push_back(std::move(hook));
  }
  TrainerState state;
  state.epochs = config.epochs();
  state.steps_per_epoch = loader->batches_per_epoch();
  state.position = position;
  return Train(*loader, *objective, hooks, state);
}

}  // namespace mochi
