// Two Gloo processes on the two halves of a batch must produce the gradients of one process
// that computes both halves (per-process BN, as MoCo/DDP) and averages them, and the same queue:
// keys are gathered in rank order before enqueueing.
//
// The test binary re-executes itself as the worker processes (MOCHI_DIST_WORKER_OUT set).
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "ATen/ATen.h"
#include "gtest/gtest.h"
#include "mochi/dist/communicator.h"
#include "mochi/ssl/moco.h"
#include "tests/testing/tiny_encoder.h"
#include "torch/serialize/archive.h"

namespace mochi {
namespace {

constexpr int64_t kBatch = 8;  // global; 4 per process

ssl::Moco TinyMoco(bool shuffle_bn) {
  at::manual_seed(123);
  ssl::MocoOptions options;
  options.queue_size = 32;
  options.momentum = 0.9;
  options.temperature = 0.2;
  options.shuffle_bn = shuffle_bn;
  ssl::Encoder q = testing::TinyEncoder(8);
  ssl::Encoder k = testing::TinyEncoder(8);
  return ssl::Moco(q, k, options);
}

struct Inputs {
  at::Tensor im_q, im_k, labels;
};

Inputs GlobalBatch() {
  at::manual_seed(7);
  return {at::randn({kBatch, 1, 12, 12}), at::randn({kBatch, 1, 12, 12}),
          at::arange(kBatch, at::kLong)};
}

at::Tensor FlatGrads(ssl::Moco& moco) {
  std::vector<at::Tensor> grads;
  for (const at::Tensor& p : moco->encoder_q->parameters()) grads.push_back(p.grad().reshape(-1));
  return at::cat(grads);
}

// One MoCo step on rows [begin, end) of the global batch. Returns the loss.
at::Tensor Step(ssl::Moco& moco, const Inputs& in, int64_t begin, int64_t end) {
  auto out = moco->forward(in.im_q.slice(0, begin, end), in.im_k.slice(0, begin, end), nullptr,
                           c10::nullopt);
  out.loss.backward();
  return out.k;
}

int RunWorker(const std::string& out_path) {
  at::set_num_threads(1);
  auto env = dist::DistributedEnvFromEnvironment();
  if (!env.ok()) return 2;
  auto comm = dist::Communicator::Create(*env, at::kCPU, absl::Seconds(60));
  if (!comm.ok()) return 3;
  const bool shuffle_bn = std::getenv("MOCHI_DIST_SHUFFLE_BN") != nullptr;
  ssl::Moco moco = TinyMoco(shuffle_bn);
  moco->set_communicator(comm->get());
  const Inputs in = GlobalBatch();
  const int64_t local = kBatch / env->world_size;
  moco->MomentumUpdate();
  const at::Tensor keys = Step(moco, in, env->rank * local, (env->rank + 1) * local);
  std::vector<at::Tensor> grads;
  for (const at::Tensor& p : moco->encoder_q->parameters()) grads.push_back(p.grad());
  (*comm)->AllReduceMean(grads);
  moco->Enqueue(keys, in.labels.slice(0, env->rank * local, (env->rank + 1) * local));
  torch::serialize::OutputArchive archive;
  archive.write("grads", FlatGrads(moco));
  archive.write("queue", moco->queue);
  archive.write("queue_labels", moco->queue_labels);
  archive.write("queue_ptr", moco->queue_ptr);
  archive.save_to(out_path);
  return 0;
}

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

struct WorkerResult {
  at::Tensor grads, queue, queue_labels, queue_ptr;
};

// Runs `world` worker processes of this binary and reads what each wrote.
std::vector<WorkerResult> RunWorkers(int world, bool shuffle_bn) {
  const std::string port = std::to_string(FreePort());
  const std::string tmp = std::getenv("TEST_TMPDIR");
  std::vector<pid_t> pids;
  for (int rank = 0; rank < world; ++rank) {
    const pid_t pid = fork();
    if (pid == 0) {
      setenv("RANK", std::to_string(rank).c_str(), 1);
      setenv("WORLD_SIZE", std::to_string(world).c_str(), 1);
      setenv("MASTER_ADDR", "127.0.0.1", 1);
      setenv("MASTER_PORT", port.c_str(), 1);
      if (shuffle_bn) setenv("MOCHI_DIST_SHUFFLE_BN", "1", 1);
      setenv("MOCHI_DIST_WORKER_OUT", (tmp + "/rank" + std::to_string(rank) + ".pt").c_str(), 1);
      execl("/proc/self/exe", "distributed_moco_worker", static_cast<char*>(nullptr));
      _exit(127);
    }
    pids.push_back(pid);
  }
  std::vector<WorkerResult> results;
  for (int rank = 0; rank < world; ++rank) {
    int status = 0;
    waitpid(pids[rank], &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "rank " << rank << " failed";
    torch::serialize::InputArchive archive;
    archive.load_from(tmp + "/rank" + std::to_string(rank) + ".pt");
    WorkerResult r;
    archive.read("grads", r.grads);
    archive.read("queue", r.queue);
    archive.read("queue_labels", r.queue_labels);
    archive.read("queue_ptr", r.queue_ptr);
    results.push_back(r);
  }
  return results;
}

TEST(DistributedMocoTest, TwoProcessesMatchOneProcessOnTheConcatenatedBatch) {
  at::set_num_threads(1);
  // Reference: one process, the two halves as two per-process BN batches, gradients averaged.
  ssl::Moco reference = TinyMoco(/*shuffle_bn=*/false);
  const Inputs in = GlobalBatch();
  reference->MomentumUpdate();
  const at::Tensor k0 = Step(reference, in, 0, kBatch / 2);
  const at::Tensor k1 = Step(reference, in, kBatch / 2, kBatch);
  const at::Tensor expected_grads = FlatGrads(reference) / 2;
  reference->Enqueue(at::cat({k0, k1}), in.labels);

  const std::vector<WorkerResult> ranks = RunWorkers(2, /*shuffle_bn=*/false);
  ASSERT_EQ(ranks.size(), 2u);
  EXPECT_TRUE(at::allclose(ranks[0].grads, expected_grads, 1e-4, 1e-6))
      << "max diff " << (ranks[0].grads - expected_grads).abs().max();
  EXPECT_TRUE(at::equal(ranks[0].grads, ranks[1].grads));
  EXPECT_TRUE(at::allclose(ranks[0].queue, reference->queue, 1e-5, 1e-6));
  EXPECT_TRUE(at::equal(ranks[0].queue_labels, reference->queue_labels));
  EXPECT_EQ(ranks[0].queue_ptr.item<int64_t>(), kBatch);
  EXPECT_TRUE(at::equal(ranks[0].queue, ranks[1].queue));
}

TEST(DistributedMocoTest, ShuffledBnKeepsProcessesInStep) {
  const std::vector<WorkerResult> ranks = RunWorkers(2, /*shuffle_bn=*/true);
  ASSERT_EQ(ranks.size(), 2u);
  EXPECT_TRUE(at::equal(ranks[0].grads, ranks[1].grads));
  EXPECT_TRUE(at::equal(ranks[0].queue, ranks[1].queue));
  // Keys are still unit vectors and every label arrived once, in rank order.
  const at::Tensor written = ranks[0].queue.slice(0, 0, kBatch);
  EXPECT_TRUE(at::allclose(written.norm(2, 1), at::ones({kBatch}), 1e-5, 1e-6));
  EXPECT_TRUE(at::equal(ranks[0].queue_labels.slice(0, 0, kBatch), at::arange(kBatch, at::kLong)));
}

TEST(DistributedEnvTest, RejectsRankOutsideWorld) {
  setenv("RANK", "2", 1);
  setenv("WORLD_SIZE", "2", 1);
  EXPECT_FALSE(dist::DistributedEnvFromEnvironment().ok());
  setenv("RANK", "x", 1);
  EXPECT_FALSE(dist::DistributedEnvFromEnvironment().ok());
  unsetenv("RANK");
  unsetenv("WORLD_SIZE");
  auto env = dist::DistributedEnvFromEnvironment();
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->world_size, 1);
}

}  // namespace
}  // namespace mochi

int main(int argc, char** argv) {
  if (const char* out = std::getenv("MOCHI_DIST_WORKER_OUT")) return mochi::RunWorker(out);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
