// Checkpoints: each rank resumes its own RNG states, and a process killed with SIGKILL while it
// writes a checkpoint leaves the previous one loadable (fault injection).
//
// The test binary re-executes itself as the writer (MOCHI_CHECKPOINT_WRITER set).
#include "mochi/engine/checkpoint.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>

#include "ATen/ATen.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "torch/torch.h"

namespace mochi {
namespace {

using ::mochi::testing::IsOk;

// About 17 MB of weights, so that writing one checkpoint takes tens of milliseconds.
torch::nn::Sequential Model() {
  return torch::nn::Sequential(torch::nn::Linear(2048, 2048), torch::nn::Linear(2048, 16));
}

std::string TempPath(const std::string& name) {
  return std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
}

// Writes checkpoints to `path` forever, checkpoint i with every weight equal to i.
int RunWriter(const std::string& path) {
  torch::nn::Sequential model = Model();
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.1));
  for (int64_t i = 1;; ++i) {
    {
      torch::NoGradGuard no_grad;
      for (at::Tensor& p : model->parameters()) p.fill_(static_cast<double>(i));
    }
    TrainPosition position;
    position.global_step = i;
    if (!SaveCheckpoint(path, *model, optimizer, position, {}).ok()) return 1;
  }
}

TEST(CheckpointTest, EachRankResumesItsOwnRngStates) {
  torch::nn::Sequential model = Model();
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.1));
  at::Generator rank0 = at::make_generator<at::CPUGeneratorImpl>(10);
  at::Generator rank1 = at::make_generator<at::CPUGeneratorImpl>(11);
  const RngStatesByRank by_rank = {{"mixing", at::stack({rank0.get_state(), rank1.get_state()})}};
  const std::string path = TempPath("ranks.pt");
  ASSERT_THAT(SaveCheckpoint(path, *model, optimizer, {}, {{"mixing", rank0}}, by_rank), IsOk());

  // Rank 1 of 2 continues rank 1's stream.
  at::Generator resumed = at::make_generator<at::CPUGeneratorImpl>(99);
  ASSERT_THAT(LoadCheckpoint(path, *model, nullptr, {{"mixing", resumed}}, 1, 2), IsOk());
  EXPECT_TRUE(at::equal(at::rand({8}, resumed), at::rand({8}, rank1)));
  // One process (or another count) takes the writer's, rank 0's.
  ASSERT_THAT(LoadCheckpoint(path, *model, nullptr, {{"mixing", resumed}}, 0, 1), IsOk());
  at::Generator rank0_again = at::make_generator<at::CPUGeneratorImpl>(10);
  EXPECT_TRUE(at::equal(at::rand({8}, resumed), at::rand({8}, rank0_again)));
  ASSERT_THAT(LoadCheckpoint(path, *model, nullptr, {{"mixing", resumed}}, 2, 3), IsOk());
  at::Generator rank0_third = at::make_generator<at::CPUGeneratorImpl>(10);
  EXPECT_TRUE(at::equal(at::rand({8}, resumed), at::rand({8}, rank0_third)));
}

// 25 times: start a writer, kill it with SIGKILL at a random moment (most land mid-write: the
// temporary file exists), then load. The checkpoint must always load, and be one whole version:
// every weight equal to its global step, never a mix or a truncated file. The stale temporary
// file a kill leaves is overwritten by the next writer.
TEST(CheckpointTest, SigkillDuringAWriteLeavesThePreviousCheckpointLoadable) {
  const std::string path = TempPath("killed/checkpoint.pt");
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::mt19937 rng(20261207);
  int mid_write = 0;
  constexpr int kTrials = 25;
  for (int trial = 0; trial < kTrials; ++trial) {
    const pid_t pid = fork();
    if (pid == 0) {
      setenv("MOCHI_CHECKPOINT_WRITER", path.c_str(), 1);
      execl("/proc/self/exe", "checkpoint_writer", static_cast<char*>(nullptr));
      _exit(127);
    }
    ASSERT_GT(pid, 0);
    // The first trial waits for a first complete checkpoint; later ones have the previous one.
    for (int i = 0; i < 30000 && !std::filesystem::exists(path); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_TRUE(std::filesystem::exists(path)) << "the writer never wrote a checkpoint";
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 400)(rng)));
    if (std::filesystem::exists(path + ".tmp")) ++mid_write;
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the writer ended on its own (status " << status << ")";

    torch::nn::Sequential model = Model();
    absl::StatusOr<TrainPosition> position = LoadCheckpoint(path, *model, nullptr, {});
    ASSERT_THAT(position, IsOk()) << "trial " << trial;
    ASSERT_GE(position->global_step, 1);
    for (const at::Tensor& p : model->parameters()) {
      ASSERT_TRUE(at::equal(p, at::full_like(p, static_cast<double>(position->global_step))))
          << "trial " << trial << ": weights from more than one checkpoint";
    }
  }
  // The kills must have hit writes, or this tests nothing.
  EXPECT_GE(mid_write, kTrials / 4) << mid_write << " of " << kTrials << " kills during a write";
  std::printf("%d of %d kills landed during a checkpoint write; every checkpoint loaded whole\n",
              mid_write, kTrials);
}

}  // namespace
}  // namespace mochi

int main(int argc, char** argv) {
  if (const char* path = std::getenv("MOCHI_CHECKPOINT_WRITER")) return mochi::RunWriter(path);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
