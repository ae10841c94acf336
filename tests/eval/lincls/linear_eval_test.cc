// //eval:linear end to end on a checkpoint written by the pretraining engine: cached and
// augmented training, the metrics JSON, and clear errors for checkpoints that do not fit.
#include "eval/lincls/linear_eval.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/config/validate.h"
#include "mochi/engine/pretrain.h"
#include "mochi/port/json_proto.h"
#include "mochi/port/text_proto.h"
#include "mochi/proto/results.pb.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/tiny_run.h"

namespace mochi::eval {
namespace {

using ::mochi::testing::IsOk;
using ::mochi::testing::StatusIs;
using ::testing::HasSubstr;

using ::mochi::testing::TestTempDir;
using ::mochi::testing::TinyMocoRun;

// fmnist.pbtxt on 2000 train / 1000 test images for 3 epochs (lr x0.1 after epochs 1 and 2).
proto::LinearEvalConfig SmallEval(const std::string& extra = "") {
  absl::StatusOr<proto::LinearEvalConfig> config = LoadConfig<proto::LinearEvalConfig>(
      "configs/lincls/fmnist.pbtxt",
      "run { num_threads: 2 } train_dataset { fashion_mnist { limit: 2000 } } "
      "test_dataset { fashion_mnist { limit: 1000 } } optimizer { base_lr: 1 } " +
          extra);
  EXPECT_THAT(config, IsOk());
  config->set_epochs(3);
  config->mutable_optimizer()->mutable_step()->clear_milestones();
  config->mutable_optimizer()->mutable_step()->add_milestones(1);
  config->mutable_optimizer()->mutable_step()->add_milestones(2);
  EXPECT_THAT(Validate(*config), IsOk());
  return *config;
}

proto::LinearEvalResult ReadResult(const std::string& path) {
  absl::StatusOr<proto::LinearEvalResult> result =
      ReadJsonProtoFile<proto::LinearEvalResult>(path);
  EXPECT_THAT(result, IsOk());
  return result.ok() ? *result : proto::LinearEvalResult();
}

TEST(LinearEvalTest, ReadsAPretrainingCheckpointAndWritesItsIdentity) {
  LinearEvalRun run{TinyMocoRun(), FeatureSource::kCheckpoint, TestTempDir("cached.json")};
  MOCHI_ASSERT_OK(RunLinearEval(SmallEval(), run));
  const proto::LinearEvalResult result = ReadResult(run.output);
  EXPECT_EQ(result.features(), "checkpoint");
  EXPECT_EQ(result.checkpoint_md5().size(), 32u);
  // Ten balanced classes: a 4-step backbone plus a linear layer is far above chance (0.1).
  EXPECT_GT(result.top1(), 0.3);
  EXPECT_LE(result.top1(), result.top5());
  EXPECT_EQ(result.per_class_top1_size(), 10);
  EXPECT_EQ(result.epoch_loss_size(), 3);
  EXPECT_EQ(result.final_train_loss(), result.epoch_loss(2));
  ASSERT_TRUE(result.has_knn());  // fmnist.pbtxt asks for kNN
  EXPECT_GT(result.knn().top1(), 0.1);
  EXPECT_EQ(result.knn().k(), 200);
  EXPECT_THAT(result.config(), HasSubstr("cache_features: true"));
  EXPECT_THAT(result.pretrain_config(), HasSubstr("width: 4"));
}

TEST(LinearEvalTest, TrainsOnAugmentedImagesWithoutCaching) {
  LinearEvalRun run{TinyMocoRun(), FeatureSource::kCheckpoint, TestTempDir("augmented.json")};
  MOCHI_ASSERT_OK(RunLinearEval(
      SmallEval(
          "cache_features: false train_augmentation { crop_size: 28 crop_scale_min: 0.5 "
          "color_jitter_prob: 0 saturation: 0 hue: 0 grayscale_prob: 0 blur_prob: 0 flip_prob: 0.5 "
          "grayscale_input: KEEP_GRAY "
          "mean: 0.2860 std: 0.3530 }"),
      run));
  const proto::LinearEvalResult result = ReadResult(run.output);
  // The path learns: twice chance (0.1) and a falling loss. Three epochs on augmented images put
  // this 4-step backbone and random-init features alike at about 0.3, so a higher bar would
  // measure the fixture, not the path.
  EXPECT_GT(result.top1(), 0.2);
  ASSERT_EQ(result.epoch_loss_size(), 3);
  EXPECT_LT(result.epoch_loss(2), result.epoch_loss(0));
  EXPECT_FALSE(result.has_knn());  // no fixed train bank without caching
  EXPECT_THAT(result.config(), HasSubstr("train_augmentation"));
}

TEST(LinearEvalTest, CheckpointOfAnotherWidthIsRejectedNotLoaded) {
  const std::string dir = TestTempDir("other_width");
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(TinyMocoRun() + "/checkpoint.pt", dir + "/checkpoint.pt");
  absl::StatusOr<std::string> text = ReadFileToString(TinyMocoRun() + "/config.pbtxt");
  MOCHI_ASSERT_OK(text);
  std::string config = *text;
  const size_t at = config.find("width: 4");
  ASSERT_NE(at, std::string::npos);
  config.replace(at, 8, "width: 8");
  MOCHI_ASSERT_OK(WriteFileAtomically(dir + "/config.pbtxt", config));
  EXPECT_THAT(
      RunLinearEval(SmallEval(), {dir, FeatureSource::kCheckpoint, dir + "/out.json"}),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("weights do not fit this model")));
  EXPECT_FALSE(std::filesystem::exists(dir + "/out.json"));
}

TEST(LinearEvalTest, MissingOrTruncatedCheckpointIsAClearError) {
  const std::string dir = TestTempDir("broken");
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(TinyMocoRun() + "/config.pbtxt", dir + "/config.pbtxt");
  const LinearEvalRun run{dir, FeatureSource::kCheckpoint, dir + "/out.json"};
  EXPECT_THAT(RunLinearEval(SmallEval(), run),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no checkpoint")));
  absl::StatusOr<std::string> bytes = ReadFileToString(TinyMocoRun() + "/checkpoint.pt");
  MOCHI_ASSERT_OK(bytes);
  MOCHI_ASSERT_OK(WriteFileAtomically(dir + "/checkpoint.pt", bytes->substr(0, bytes->size() / 2)));
  EXPECT_THAT(RunLinearEval(SmallEval(), run),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("corrupt or truncated")));
}

TEST(LinearEvalTest, RandomInitNeedsNoCheckpointButTheArchitecture) {
  const std::string dir = TestTempDir("config_only");
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(TinyMocoRun() + "/config.pbtxt", dir + "/config.pbtxt");
  const LinearEvalRun run{dir, FeatureSource::kRandomInit, dir + "/out.json"};
  MOCHI_ASSERT_OK(RunLinearEval(SmallEval(), run));
  EXPECT_EQ(ReadResult(run.output).checkpoint_md5(), "none");
}

}  // namespace
}  // namespace mochi::eval
