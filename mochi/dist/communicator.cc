#include "mochi/dist/communicator.h"

#include <chrono>
#include <cstdlib>
#include <utility>

#include "ATen/ATen.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "mochi/port/torch_status.h"
#include "torch/csrc/distributed/c10d/Backend.hpp"
#include "torch/csrc/distributed/c10d/ProcessGroupGloo.hpp"
#include "torch/csrc/distributed/c10d/TCPStore.hpp"
#ifdef USE_C10D_NCCL
#include "torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp"
#endif

namespace mochi::dist {
namespace {

// The first variable of `names` that is set, parsed as an int; `fallback` if none is.
absl::StatusOr<int> IntFromEnv(std::initializer_list<const char*> names, int fallback) {
  for (const char* name : names) {
    if (const char* value = std::getenv(name)) {
      int parsed = 0;
      if (!absl::SimpleAtoi(value, &parsed)) {
        return absl::InvalidArgumentError(absl::StrCat(name, "=", value, ": not an integer"));
      }
      return parsed;
    }
  }
  return fallback;
}

}  // namespace

struct Communicator::ProcessGroupHolder {
  c10::intrusive_ptr<c10d::Store> store;
  // Since LibTorch 2.0 Gloo and NCCL are c10d::Backends (a ProcessGroup dispatches to them).
  c10::intrusive_ptr<c10d::Backend> group;
};

absl::StatusOr<DistributedEnv> DistributedEnvFromEnvironment() {
  DistributedEnv env;
  absl::StatusOr<int> world = IntFromEnv({"WORLD_SIZE", "SLURM_NTASKS"}, 1);
  absl::StatusOr<int> rank = IntFromEnv({"RANK", "SLURM_PROCID"}, 0);
  absl::StatusOr<int> local = IntFromEnv({"LOCAL_RANK", "SLURM_LOCALID"}, 0);
  absl::StatusOr<int> port = IntFromEnv({"MASTER_PORT"}, env.master_port);
  for (const auto* s : {&world, &rank, &local, &port}) {
    if (!s->ok()) return s->status();
  }
  env.world_size = *world;
  env.rank = *rank;
  env.local_rank = *local;
  env.master_port = *port;
  if (const char* addr = std::getenv("MASTER_ADDR")) env.master_addr = addr;
  if (env.world_size < 1 || env.rank < 0 || env.rank >= env.world_size) {
    return absl::InvalidArgumentError(absl::StrCat("distributed environment: RANK = ", env.rank,
                                                   " must be in [0, WORLD_SIZE = ",
                                                   env.world_size, ")"));
  }
  if (env.master_port <= 0 || env.master_port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("MASTER_PORT = ", env.master_port));
  }
  return env;
}

Communicator::Communicator(DistributedEnv env, std::unique_ptr<ProcessGroupHolder> group)
    : env_(std::move(env)), group_(std::move(group)) {}

Communicator::~Communicator() = default;

absl::StatusOr<std::unique_ptr<Communicator>> Communicator::Create(const DistributedEnv& env,
                                                                   const c10::Device& device,
                                                                   absl::Duration timeout) {
  auto holder = std::make_unique<ProcessGroupHolder>();
  if (env.world_size > 1) {
    const auto timeout_ms = std::chrono::milliseconds(absl::ToInt64Milliseconds(timeout));
    absl::Status status = TorchToStatus(
        absl::StrCat("connecting rank ", env.rank, " of ", env.world_size, " to ",
                     env.master_addr, ":", env.master_port),
        [&] {
          c10d::TCPStoreOptions store_options;
          store_options.port = static_cast<std::uint16_t>(env.master_port);
          store_options.isServer = env.rank == 0;
          store_options.numWorkers = env.world_size;
          store_options.timeout = timeout_ms;
          holder->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, store_options);
          if (device.is_cuda()) {
#ifdef USE_C10D_NCCL
            auto options = c10d::ProcessGroupNCCL::Options::create();
            options->timeout = timeout_ms;
            holder->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(
                holder->store, env.rank, env.world_size, options);
            return;
#else
            TORCH_CHECK(false, "device is CUDA but this binary was built without NCCL: build "
                               "with bazel --config=cuda");
#endif
          }
          auto options = c10d::ProcessGroupGloo::Options::create();
          options->timeout = timeout_ms;
          options->devices.push_back(
              c10d::ProcessGroupGloo::createDeviceForHostname(env.master_addr));
          holder->group = c10::make_intrusive<c10d::ProcessGroupGloo>(holder->store, env.rank,
                                                                      env.world_size, options);
        });
    if (!status.ok()) return status;
  }
  return std::unique_ptr<Communicator>(new Communicator(env, std::move(holder)));
}

std::string Communicator::backend() const {
  return group_->group ? group_->group->getBackendName() : "none (1 process)";
}

void Communicator::AverageGradients(const std::vector<at::Tensor>& parameters) {
  if (env_.world_size == 1) return;
  std::vector<at::Tensor> grads;
  for (const at::Tensor& p : parameters) grads.push_back(p.grad());
  AllReduceMean(grads);
}

void Communicator::AllReduceMean(const std::vector<at::Tensor>& tensors) {
  if (!group_->group || tensors.empty()) return;
  std::vector<at::Tensor> flat;
  for (const at::Tensor& t : tensors) flat.push_back(t.reshape(-1));
  std::vector<at::Tensor> buffer = {at::cat(flat)};
  group_->group->allreduce(buffer)->wait();
  buffer[0].div_(env_.world_size);
  int64_t offset = 0;
  for (const at::Tensor& t : tensors) {
    t.copy_(buffer[0].slice(0, offset, offset + t.numel()).view_as(t));
    offset += t.numel();
  }
}

at::Tensor Communicator::AllGather(const at::Tensor& local) {
  if (!group_->group) return local;
  std::vector<at::Tensor> input = {local.contiguous()};
  std::vector<std::vector<at::Tensor>> output(1);
  for (int r = 0; r < env_.world_size; ++r) output[0].push_back(at::empty_like(input[0]));
  group_->group->allgather(output, input)->wait();
  return at::cat(output[0]);
}

void Communicator::Broadcast(const at::Tensor& tensor, int root) {
  if (!group_->group) return;
  std::vector<at::Tensor> buffer = {tensor};
  c10d::BroadcastOptions options;
  options.rootRank = root;
  group_->group->broadcast(buffer, options)->wait();
}

void Communicator::Barrier() {
  if (group_->group) group_->group->barrier()->wait();
}

}  // namespace mochi::dist
