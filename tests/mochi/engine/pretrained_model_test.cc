// LoadPretrainedModel on a run written by RunPretrain: the run directory and its checkpoint file
// give the trained weights, load_weights = false keeps the initialisation, and a directory
// without config.pbtxt is a clear error.
#include "mochi/engine/pretrained_model.h"

#include <cstdlib>
#include <filesystem>
#include <string>

#include "ATen/ATen.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/config/validate.h"
#include "mochi/engine/pretrain.h"
#include "tests/testing/status_matchers.h"

namespace mochi {
namespace {

using ::mochi::testing::IsOk;
using ::mochi::testing::StatusIs;
using ::testing::HasSubstr;

std::string TempDir(const std::string& name) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

// A 2-step MoCo-v2 run of a width-4 ResNet-18.
const std::string& TrainedRun() {
  static const std::string* dir = [] {
    auto* dir = new std::string(TempDir("run"));
    absl::StatusOr<proto::PretrainConfig> config = LoadConfig<proto::PretrainConfig>(
        "configs/pretrain/mocov2_fmnist.pbtxt",
        "run { num_threads: 2 } dataset { fashion_mnist { limit: 256 } } backbone { width: 4 } "
        "head { output_dim: 16 } batch_size: 128 epochs: 1 moco { queue_size: 256 } "
        "log_every_steps: 1000");
    EXPECT_THAT(config, IsOk());
    PretrainRunOptions options;
    options.output_dir = *dir;
    EXPECT_THAT(RunPretrain(*config, options), IsOk());
    return dir;
  }();
  return *dir;
}

at::Tensor FirstConvWeight(const PretrainedModel& model) {
  return model.moco->encoder_q->backbone->named_parameters()[0].value();
}

TEST(PretrainedModelTest, RunDirectoryAndCheckpointFileGiveTheSameTrainedWeights) {
  absl::StatusOr<PretrainedModel> from_dir = LoadPretrainedModel(TrainedRun(), true);
  ASSERT_THAT(from_dir, IsOk());
  EXPECT_EQ(from_dir->checkpoint_path, TrainedRun() + "/checkpoint.pt");
  EXPECT_EQ(from_dir->config.backbone().width(), 4);
  absl::StatusOr<PretrainedModel> from_file =
      LoadPretrainedModel(TrainedRun() + "/checkpoint.pt", true);
  ASSERT_THAT(from_file, IsOk());
  EXPECT_TRUE(at::equal(FirstConvWeight(*from_dir), FirstConvWeight(*from_file)));

  at::manual_seed(0);
  absl::StatusOr<PretrainedModel> initial = LoadPretrainedModel(TrainedRun(), false);
  ASSERT_THAT(initial, IsOk());
  EXPECT_FALSE(at::equal(FirstConvWeight(*initial), FirstConvWeight(*from_dir)));
}

TEST(PretrainedModelTest, ADirectoryWithoutARunIsNotFound) {
  const std::string empty = TempDir("empty");
  std::filesystem::create_directories(empty);
  EXPECT_THAT(LoadPretrainedModel(empty, true),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("config.pbtxt")));
}

}  // namespace
}  // namespace mochi
