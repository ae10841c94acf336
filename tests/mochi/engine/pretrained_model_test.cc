// LoadPretrainedModel on a run written by RunPretrain: the run directory and its checkpoint file
// give the trained weights, load_weights = false keeps the initialisation, and a directory
// without config.pbtxt is a clear error.
#include "mochi/engine/pretrained_model.h"

#include <filesystem>
#include <string>

#include "ATen/ATen.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/tiny_run.h"

namespace mochi {
namespace {

using ::mochi::testing::IsOk;
using ::mochi::testing::StatusIs;
using ::testing::HasSubstr;

using ::mochi::testing::TestTempDir;
using ::mochi::testing::TinyMocoRun;

at::Tensor FirstConvWeight(const PretrainedModel& model) {
  return model.model.backbone->named_parameters()[0].value();
}

TEST(PretrainedModelTest, RunDirectoryAndCheckpointFileGiveTheSameTrainedWeights) {
  absl::StatusOr<PretrainedModel> from_dir = LoadPretrainedModel(TinyMocoRun(), true);
  ASSERT_THAT(from_dir, IsOk());
  EXPECT_EQ(from_dir->checkpoint_path, TinyMocoRun() + "/checkpoint.pt");
  EXPECT_EQ(from_dir->config.backbone().width(), 4);
  absl::StatusOr<PretrainedModel> from_file =
      LoadPretrainedModel(TinyMocoRun() + "/checkpoint.pt", true);
  ASSERT_THAT(from_file, IsOk());
  EXPECT_TRUE(at::equal(FirstConvWeight(*from_dir), FirstConvWeight(*from_file)));

  at::manual_seed(0);
  absl::StatusOr<PretrainedModel> initial = LoadPretrainedModel(TinyMocoRun(), false);
  ASSERT_THAT(initial, IsOk());
  EXPECT_FALSE(at::equal(FirstConvWeight(*initial), FirstConvWeight(*from_dir)));
}

TEST(PretrainedModelTest, ADirectoryWithoutARunIsNotFound) {
  const std::string empty = TestTempDir("empty");
  std::filesystem::create_directories(empty);
  EXPECT_THAT(LoadPretrainedModel(empty, true),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("config.pbtxt")));
}

}  // namespace
}  // namespace mochi
