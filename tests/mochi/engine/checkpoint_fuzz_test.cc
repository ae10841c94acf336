// Mutation fuzzing of checkpoint loading (tests/testing:mutation_fuzz): a valid checkpoint's
// bytes mutated (zip headers, pickled records, tensor data) must load or fail with a clear
// error, never crash, hang or exhaust memory, and never load as different weights.
#include <fstream>
#include <iterator>
#include <string>

#include "gtest/gtest.h"
#include "mochi/engine/checkpoint.h"
#include "tests/testing/mutation_fuzz.h"
#include "torch/torch.h"

namespace mochi {
namespace {

std::string TempPath(const std::string& name) {
  return std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
}

torch::nn::Sequential Model() {
  return torch::nn::Sequential(torch::nn::Linear(6, 4), torch::nn::BatchNorm1d(4),
                               torch::nn::Linear(4, 2));
}

void ExpectSameTensors(torch::nn::Module& saved, torch::nn::Module& loaded) {
  const auto a = saved.named_parameters(), b = loaded.named_parameters();
  for (const auto& item : a) {
    EXPECT_TRUE(at::equal(item.value(), b[item.key()])) << item.key() << " loaded differently";
  }
  const auto c = saved.named_buffers(), d = loaded.named_buffers();
  for (const auto& item : c) {
    EXPECT_TRUE(at::equal(item.value(), d[item.key()])) << item.key() << " loaded differently";
  }
}

// Mutations that load (in the zip's slack: comments, unused header fields) must give back the
// saved tensors exactly; every other mutation must be a clear error.
TEST(CheckpointFuzzTest, MutatedCheckpoints) {
  torch::nn::Sequential model = Model();
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  // One step so that the optimizer has momentum buffers to save.
  model->forward(torch::randn({3, 6})).sum().backward();
  optimizer.step();
  TrainPosition position;
  position.epoch = 2;
  position.config_text = "run { seed: 1 }";
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(5);
  const std::string seed_path = TempPath("seed.pt");
  ASSERT_TRUE(SaveCheckpoint(seed_path, *model, optimizer, position, {{"torch", generator}}).ok());
  std::ifstream in(seed_path, std::ios::binary);
  const std::string seed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  const std::string path = TempPath("fuzz.pt");
  const testing::FuzzReport report = testing::FuzzParser(
      {seed}, {"PK\x03\x04", "PK\x01\x02", "data/", "\x80\x02"}, 2000,
      [&](const std::string& bytes) {
        std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
        torch::nn::Sequential fresh = Model();
        torch::optim::SGD fresh_optimizer(fresh->parameters(),
                                          torch::optim::SGDOptions(0.1).momentum(0.9));
        at::Generator g = at::make_generator<at::CPUGeneratorImpl>(0);
        const absl::Status status =
            LoadCheckpoint(path, *fresh, &fresh_optimizer, {{"torch", g}}).status();
        // Whatever loads is exactly what was saved: no silent wrong weights.
        if (status.ok()) ExpectSameTensors(*model, *fresh);
        return status;
      });
  EXPECT_EQ(report.failures, 0) << report.first_failure;
  EXPECT_GT(report.rejected, 500);
}

}  // namespace
}  // namespace mochi
