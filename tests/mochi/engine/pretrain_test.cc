// End-to-end checks of the training loop on a tiny Fashion-MNIST cut: kill-and-resume equals an
// uninterrupted run bit for bit, bad resumes fail with clear errors, and the supervised baseline
// trains only the backbone and its classifier.
#include "mochi/engine/pretrain.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ATen/ATen.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/config/validate.h"
#include "mochi/engine/builders.h"
#include "mochi/engine/checkpoint.h"
#include "mochi/engine/pretrained_model.h"
#include "mochi/port/json_proto.h"
#include "mochi/port/text_proto.h"
#include "mochi/proto/results.pb.h"
#include "tests/testing/status_matchers.h"

namespace mochi {
namespace {

using ::mochi::testing::IsOk;
using ::mochi::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

// `config_file` cut to 512 images, a width-4 ResNet-18, batch 64 (8 steps per epoch).
proto::PretrainConfig TinyRun(const std::string& config_file, int epochs,
                              const std::string& extra_overrides = "") {
  const std::string overrides = absl::StrCat(
      "run { num_threads: 2 } dataset { fashion_mnist { limit: 512 } } "
      "backbone { width: 4 } batch_size: 64 epochs: ",
      epochs, " loader { num_workers: 2 } log_every_steps: 1000 ", extra_overrides);
  absl::StatusOr<proto::PretrainConfig> config =
      LoadConfig<proto::PretrainConfig>(config_file, overrides);
  EXPECT_THAT(config, IsOk());
  return *config;
}

// MoCo-v2 (or MoCHi) for 2 epochs with K = 256: 16 steps, a few seconds.
proto::PretrainConfig TinyConfig(bool with_mixing) {
  return TinyRun(
      "configs/pretrain/mocov2_fmnist.pbtxt", 2,
      absl::StrCat("head { output_dim: 16 } moco { queue_size: 256 } ",
                   with_mixing
                       ? "moco { mixing { num_hardest: 32 num_mixed_pairs: 16 num_query_mixed: 8 } }"
                       : ""));
}

std::string FreshDir(const std::string& name) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

PretrainRunOptions Options(const std::string& dir) {
  PretrainRunOptions options;
  options.output_dir = dir;
  return options;
}

// Every tensor (weights, BN statistics, queue, pointer) of a model, by name.
std::map<std::string, at::Tensor> AllTensors(torch::nn::Module& model) {
  std::map<std::string, at::Tensor> tensors;
  for (const auto& item : model.named_parameters()) tensors[item.key()] = item.value();
  for (const auto& item : model.named_buffers()) tensors[item.key()] = item.value();
  return tensors;
}

// The tensors of a checkpoint, loaded into the model `config` builds.
std::map<std::string, at::Tensor> ModelTensors(const proto::PretrainConfig& config,
                                               const std::string& checkpoint) {
  absl::StatusOr<PretrainModel> model = BuildPretrainModel(config);
  EXPECT_THAT(model, IsOk());
  EXPECT_THAT(LoadCheckpoint(checkpoint, *model->module, nullptr, {}), IsOk());
  return AllTensors(*model->module);
}

void ExpectSameModels(const proto::PretrainConfig& config, const std::string& a,
                      const std::string& b) {
  const auto ta = ModelTensors(config, a);
  const auto tb = ModelTensors(config, b);
  ASSERT_EQ(ta.size(), tb.size());
  ASSERT_GT(ta.size(), 50u);
  for (const auto& [key, tensor] : ta) {
    ASSERT_TRUE(tb.count(key)) << key;
    EXPECT_TRUE(at::equal(tensor, tb.at(key))) << key << " differs";
  }
}

class ResumeTest : public ::testing::TestWithParam<bool> {};

// The lines of metrics.jsonl, each a PretrainEpoch.
std::vector<proto::PretrainEpoch> EpochLines(const std::string& dir) {
  std::ifstream in(dir + "/metrics.jsonl");
  std::vector<proto::PretrainEpoch> epochs;
  for (std::string line; std::getline(in, line);) {
    epochs.emplace_back();
    EXPECT_THAT(ParseJsonProto(line, "metrics.jsonl", &epochs.back()), IsOk());
  }
  return epochs;
}

TEST_P(ResumeTest, KillAndResumeEqualsUninterruptedRun) {
  const proto::PretrainConfig config = TinyConfig(/*with_mixing=*/GetParam());
  const std::string straight = FreshDir("straight");
  ASSERT_THAT(RunPretrain(config, Options(straight)), IsOk());
  // metrics.jsonl: one typed line per epoch, with the paper's statistics.
  const std::vector<proto::PretrainEpoch> epochs = EpochLines(straight);
  ASSERT_EQ(epochs.size(), 2u);
  for (int e = 0; e < 2; ++e) {
    EXPECT_EQ(epochs[e].epoch(), e);
    EXPECT_EQ(epochs[e].objective(), "moco");
    EXPECT_EQ(epochs[e].mixing(), GetParam());
    EXPECT_GT(epochs[e].stats_queries(), 0);
    EXPECT_GT(epochs[e].top_negative_probabilities_size(), 0);
  }

  // Stop mid-epoch (step 5 of 8 in epoch 0), then resume to the end.
  const std::string resumed = FreshDir("resumed");
  PretrainRunOptions first = Options(resumed);
  first.max_steps = 5;
  ASSERT_THAT(RunPretrain(config, first), IsOk());
  PretrainRunOptions second = Options(resumed);
  second.resume = true;
  ASSERT_THAT(RunPretrain(config, second), IsOk());

  ExpectSameModels(config, straight + "/checkpoint.pt", resumed + "/checkpoint.pt");
  // Training moved the weights away from a fresh initialisation.
  const std::string short_run = FreshDir("short");
  PretrainRunOptions one_step = Options(short_run);
  one_step.max_steps = 1;
  ASSERT_THAT(RunPretrain(config, one_step), IsOk());
  const auto end = ModelTensors(config, straight + "/checkpoint.pt");
  const auto early = ModelTensors(config, short_run + "/checkpoint.pt");
  EXPECT_FALSE(at::equal(end.at("encoder_q.backbone.conv1.weight"),
                         early.at("encoder_q.backbone.conv1.weight")));
  // The queue pointer advanced by 16 steps x 64 keys mod 256 = 0, and the queue holds real keys.
  EXPECT_EQ(end.at("queue_ptr").item<int64_t>(), 0);
  EXPECT_GE(end.at("queue_labels").min().item<int64_t>(), 0);
}

INSTANTIATE_TEST_SUITE_P(MocoAndMochi, ResumeTest, ::testing::Bool());

TEST(PretrainTest, WritesRunDirectory) {
  const std::string dir = FreshDir("rundir");
  PretrainRunOptions options = Options(dir);
  options.max_steps = 2;
  ASSERT_THAT(RunPretrain(TinyConfig(false), options), IsOk());
  for (const char* file : {"config.pbtxt", "env.txt", "checkpoint.pt"}) {
    EXPECT_TRUE(std::filesystem::exists(dir + "/" + file)) << file;
  }
  absl::StatusOr<std::string> env = ReadFileToString(dir + "/env.txt");
  ASSERT_THAT(env, IsOk());
  EXPECT_THAT(*env, HasSubstr("libtorch: "));
  EXPECT_THAT(*env, HasSubstr("md5 verified"));
}

TEST(PretrainTest, RefusesToOverwriteAnExistingRun) {
  const std::string dir = FreshDir("overwrite");
  PretrainRunOptions options = Options(dir);
  options.max_steps = 1;
  ASSERT_THAT(RunPretrain(TinyConfig(false), options), IsOk());
  EXPECT_THAT(RunPretrain(TinyConfig(false), options),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("--resume")));
}

TEST(PretrainTest, ResumeWithADifferentConfigIsRefused) {
  const std::string dir = FreshDir("different");
  PretrainRunOptions options = Options(dir);
  options.max_steps = 1;
  ASSERT_THAT(RunPretrain(TinyConfig(false), options), IsOk());
  options.resume = true;
  proto::PretrainConfig changed = TinyConfig(false);
  changed.mutable_moco()->set_temperature(2 * changed.moco().temperature());
  EXPECT_THAT(RunPretrain(changed, options),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("different config")));
}

TEST(PretrainTest, CorruptCheckpointIsDataLoss) {
  const std::string dir = FreshDir("corrupt");
  PretrainRunOptions options = Options(dir);
  options.max_steps = 1;
  ASSERT_THAT(RunPretrain(TinyConfig(false), options), IsOk());
  const std::string path = dir + "/checkpoint.pt";
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  options.resume = true;
  EXPECT_THAT(RunPretrain(TinyConfig(false), options),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("checkpoint.pt")));
}

// A run that fails on its data (here a corrupt train-images file) leaves no run directory for
// a later step to mistake for a result.
TEST(PretrainTest, ARunThatFailsOnItsDataLeavesNoRunDirectory) {
  const std::string data = FreshDir("corrupt_data");
  std::filesystem::create_directories(data);
  for (const char* file : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                           "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}) {
    std::filesystem::copy_file(std::string("/usr/share/datasets/fashion-mnist/") + file,
                               data + "/" + file);
  }
  std::filesystem::resize_file(data + "/train-images-idx3-ubyte.gz", 1000);
  const std::string dir = FreshDir("failed_run");
  const proto::PretrainConfig config =
      TinyRun("configs/pretrain/mocov2_fmnist.pbtxt", 1,
              absl::StrCat("moco { queue_size: 256 } dataset { fashion_mnist { root: \"", data,
                           "\" } }"));
  EXPECT_FALSE(RunPretrain(config, Options(dir)).ok());
  EXPECT_FALSE(std::filesystem::exists(dir));
}

// The supervised baseline: 512 images, 4 epochs of 8 steps. It must learn the labels (training
// top-1 at 3x chance or more; a label mix-up would stay near 0.1), and its checkpoint holds its
// backbone and classifier only, both trained.
TEST(PretrainTest, SupervisedRunTrainsItsBackboneAndClassifier) {
  const proto::PretrainConfig config = TinyRun("configs/pretrain/supervised_fmnist.pbtxt", 4);
  const std::string dir = FreshDir("supervised");
  ASSERT_THAT(RunPretrain(config, Options(dir)), IsOk());

  const std::vector<proto::PretrainEpoch> epochs = EpochLines(dir);
  ASSERT_EQ(epochs.size(), 4u);
  EXPECT_EQ(epochs.back().epoch(), 3);
  EXPECT_EQ(epochs.back().objective(), "supervised");
  EXPECT_LT(epochs.back().loss(), 0.75 * epochs.front().loss());
  EXPECT_GT(epochs.back().proxy_acc(), 0.3);
  EXPECT_FALSE(epochs.back().has_stats_queries());  // MoCo's statistics only

  at::manual_seed(config.run().seed());  // as RunPretrain does before building
  absl::StatusOr<models::Classifier> built = BuildSupervisedModel(config);
  ASSERT_THAT(built, IsOk());
  const std::map<std::string, at::Tensor> initial = AllTensors(**built);
  const std::map<std::string, at::Tensor> trained = ModelTensors(config, dir + "/checkpoint.pt");
  ASSERT_EQ(trained.size(), initial.size());
  for (const auto& [key, tensor] : trained) {
    EXPECT_TRUE(absl::StartsWith(key, "backbone.") || absl::StartsWith(key, "classifier."))
        << key;
  }
  for (const char* key : {"classifier.weight", "classifier.bias", "backbone.conv1.weight"}) {
    ASSERT_TRUE(trained.count(key)) << key;
    EXPECT_FALSE(at::equal(trained.at(key), initial.at(key))) << key << " did not train";
  }
  // Evaluations read this backbone as they read a MoCo run's.
  absl::StatusOr<PretrainedModel> read = LoadPretrainedModel(dir, /*load_weights=*/true);
  ASSERT_THAT(read, IsOk());
  EXPECT_TRUE(at::equal(read->model.backbone->named_parameters()["conv1.weight"],
                        trained.at("backbone.conv1.weight")));
}

TEST(PretrainTest, SupervisedClassCountMustMatchTheData) {
  const proto::PretrainConfig config =
      TinyRun("configs/pretrain/supervised_fmnist.pbtxt", 1, "supervised { num_classes: 7 }");
  EXPECT_THAT(RunPretrain(config, Options(FreshDir("supervised_classes"))),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("supervised.num_classes = 7"), HasSubstr("10 classes"))));
}

// Each config stem reaches the ResNet options (the stride-2 stem is the small-input one).
TEST(PretrainTest, BackboneStemsMapToResNetOptions) {
  proto::Backbone backbone;
  backbone.set_architecture(proto::Backbone::RESNET18);
  backbone.set_stem(proto::Backbone::IMAGENET);
  EXPECT_FALSE(BuildResNetOptions(backbone, 0).small_input_stem());
  backbone.set_stem(proto::Backbone::SMALL_INPUT);
  EXPECT_TRUE(BuildResNetOptions(backbone, 0).small_input_stem());
  EXPECT_EQ(BuildResNetOptions(backbone, 0).small_input_stem_stride(), 1);
  backbone.set_stem(proto::Backbone::SMALL_INPUT_STRIDE2);
  EXPECT_TRUE(BuildResNetOptions(backbone, 0).small_input_stem());
  EXPECT_EQ(BuildResNetOptions(backbone, 0).small_input_stem_stride(), 2);
}

}  // namespace
}  // namespace mochi
