// Multi-process data parallelism on c10d: Gloo on CPU, NCCL where the LibTorch has CUDA.
// Processes find each other through the usual launcher variables (torchrun, SLURM).
#ifndef MOCHI_DIST_COMMUNICATOR_H_
#define MOCHI_DIST_COMMUNICATOR_H_

#include <memory>
#include <string>
#include <vector>

#include "ATen/core/Tensor.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "c10/core/Device.h"

namespace mochi::dist {

struct DistributedEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
};

// RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT (torchrun), falling back to
// SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID. Nothing set = a single process.
// InvalidArgument for inconsistent values (e.g. RANK >= WORLD_SIZE).
absl::StatusOr<DistributedEnv> DistributedEnvFromEnvironment();

class Communicator {
 public:
  // World size 1 creates no process group; every collective is then the identity.
  static absl::StatusOr<std::unique_ptr<Communicator>> Create(const DistributedEnv& env,
                                                              const c10::Device& device,
                                                              absl::Duration timeout);
  ~Communicator();

  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }
  std::string backend() const;

  // Averages `tensors` in place across processes (one fused buffer; DDP's gradient mean).
  void AllReduceMean(const std::vector<at::Tensor>& tensors);
  // Data-parallel SGD: replaces each parameter's gradient by its mean over all processes.
  void AverageGradients(const std::vector<at::Tensor>& parameters);
  // Concatenates every process's `local` along dim 0, in rank order.
  at::Tensor AllGather(const at::Tensor& local);
  // Overwrites `tensor` with rank `root`'s value.
  void Broadcast(const at::Tensor& tensor, int root);
  void Barrier();

 private:
  struct ProcessGroupHolder;
  Communicator(DistributedEnv env, std::unique_ptr<ProcessGroupHolder> group);

  DistributedEnv env_;
  std::unique_ptr<ProcessGroupHolder> group_;
};

}  // namespace mochi::dist

#endif  // MOCHI_DIST_COMMUNICATOR_H_
