#include "mochi/config/validate.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/port/text_proto.h"
#include "tests/testing/status_matchers.h"

namespace mochi {
namespace {

using ::mochi::testing::IsOk;
using ::mochi::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kBaseline[] = "configs/pretrain/mocov2_fmnist.pbtxt";

proto::PretrainConfig Baseline() {
  absl::StatusOr<proto::PretrainConfig> config = LoadConfig<proto::PretrainConfig>(kBaseline);
  EXPECT_THAT(config, IsOk());
  return *config;
}

absl::Status WithOverride(const std::string& override_text) {
  return LoadConfig<proto::PretrainConfig>(kBaseline, override_text).status();
}

TEST(ValidateTest, BaselineIsValid) { EXPECT_THAT(Validate(Baseline()), IsOk()); }

TEST(ValidateTest, QueueNotMultipleOfBatchNamesFileFieldAndValue) {
  EXPECT_THAT(WithOverride("moco { queue_size: 1000 }"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(kBaseline), HasSubstr("moco.queue_size (K) = 1000"),
                             HasSubstr("multiple of the global batch size 128"))));
}

TEST(ValidateTest, PairMixingNeedsTwoHardNegatives) {
  EXPECT_THAT(
      WithOverride("moco { mixing { num_hardest: 1 num_mixed_pairs: 4 num_query_mixed: 0 } }"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("moco.mixing.num_hardest (N) = 1"), HasSubstr("needs N >= 2"))));
  // Query mixing alone is fine with N = 1.
  EXPECT_THAT(
      WithOverride("moco { mixing { num_hardest: 1 num_mixed_pairs: 0 num_query_mixed: 4 } }"),
      IsOk());
}

TEST(ValidateTest, BetaRangeIsEnforced) {
  const std::string mixing = "moco { mixing { num_hardest: 16 num_mixed_pairs: 4 num_query_mixed: 4 ";
  EXPECT_THAT(WithOverride(mixing + "query_mix_max: 0.7 } }"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("moco.mixing.query_mix_max (beta max) = 0.7")));
  EXPECT_THAT(WithOverride(mixing + "query_mix_max: 0 } }"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("query_mix_max")));
  EXPECT_THAT(WithOverride(mixing + "query_mix_max: 0.5 } }"), IsOk());
}

TEST(ValidateTest, HardestBeyondQueueIsRejected) {
  EXPECT_THAT(
      WithOverride("moco { mixing { num_hardest: 5000 num_mixed_pairs: 4 num_query_mixed: 0 } }"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("moco.mixing.num_hardest (N) = 5000: must be in [1, queue_size K = 4096]")));
}

TEST(ValidateTest, MixingFieldsHaveNoSilentDefaults) {
  EXPECT_THAT(WithOverride("moco { mixing { num_hardest: 16 } }"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("moco.mixing.num_mixed_pairs (s): required"),
                             HasSubstr("moco.mixing.num_query_mixed (s'): required"))));
}

TEST(ValidateTest, ReportsEveryViolationAtOnce) {
  absl::Status status = WithOverride("epochs: 0 batch_size: -1 moco { temperature: 0 }");
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                               AllOf(HasSubstr("epochs = 0"), HasSubstr("batch_size = -1"),
                                     HasSubstr("moco.temperature (tau) = 0"))));
}

constexpr char kSupervised[] = "configs/pretrain/supervised_fmnist.pbtxt";

TEST(ValidateTest, SupervisedRunNeedsItsClassCount) {
  EXPECT_THAT(LoadConfig<proto::PretrainConfig>(kSupervised, "supervised { num_classes: 0 }"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("supervised.num_classes = 0: must be > 0")));
}

// The objective is a oneof: a config trains MoCo or the supervised baseline, and an override
// that would switch it (merging `moco {}` clears `supervised`) is an error, not a silent switch.
TEST(ValidateTest, AnOverrideCannotChangeTheObjective) {
  EXPECT_THAT(
      LoadConfig<proto::PretrainConfig>(
          kSupervised, "moco { mixing { num_hardest: 32 num_mixed_pairs: 16 num_query_mixed: 8 } }"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("sets `moco`, but the config's objective is `supervised`"),
                     HasSubstr("cannot change what is trained"))));
  EXPECT_THAT(WithOverride("supervised { num_classes: 10 }"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("sets `supervised`, but the config's objective is `moco`")));
  // Overriding within the objective is fine.
  EXPECT_THAT(WithOverride("moco { temperature: 0.2 }"), IsOk());
}

TEST(ValidateTest, TheSupervisedBaselineHasNoProjectionHead) {
  EXPECT_THAT(LoadConfig<proto::PretrainConfig>(kSupervised, "head { output_dim: 128 }"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("head = set: the supervised baseline has no projection head")));
}

TEST(ValidateTest, AConfigNeedsAnObjective) {
  proto::PretrainConfig config = Baseline();
  config.clear_moco();
  EXPECT_THAT(Validate(config),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("the objective (moco or supervised): required but not set")));
}

TEST(ValidateTest, GrayscaleInputMustBeExplicit) {
  proto::PretrainConfig config = Baseline();
  config.mutable_augmentation()->clear_grayscale_input();
  EXPECT_THAT(Validate(config), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("augmentation.grayscale_input")));
}

TEST(ValidateTest, KeepGrayRejectsColourTermsThatWouldDoNothing) {
  EXPECT_THAT(WithOverride("augmentation { hue: 0.1 }"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("augmentation.hue = 0.1: has no effect with grayscale_input")));
}

TEST(ValidateTest, BackboneChannelsMustMatchAugmentation) {
  // RANDOM_TINT outputs RGB, so a 1-channel backbone (and 1-value mean/std) is wrong.
  EXPECT_THAT(WithOverride("augmentation { grayscale_input: RANDOM_TINT }"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("backbone.in_channels = 1"),
                             HasSubstr("augmentation.mean = [0.286]"))));
}

TEST(ValidateTest, StepMilestonesMustIncreaseWithinEpochs) {
  proto::LinearEvalConfig config;
  MOCHI_ASSERT_OK(ParseTextProtoFile("configs/lincls/fmnist.pbtxt", &config));
  config.mutable_optimizer()->mutable_step()->set_milestones(1, 10);
  EXPECT_THAT(Validate(config), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("optimizer.step.milestones[1] = 10")));
}

TEST(ValidateTest, CachedFeaturesForbidAugmentation) {
  proto::LinearEvalConfig config;
  MOCHI_ASSERT_OK(ParseTextProtoFile("configs/lincls/fmnist.pbtxt", &config));
  config.mutable_train_augmentation()->set_crop_size(28);
  EXPECT_THAT(Validate(config), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("cache_features = true")));
}

TEST(ValidateTest, AugmentedLinearTrainingNeedsAnAugmentation) {
  proto::LinearEvalConfig config;
  MOCHI_ASSERT_OK(ParseTextProtoFile("configs/lincls/fmnist.pbtxt", &config));
  config.set_cache_features(false);
  EXPECT_THAT(Validate(config), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("cache_features = false")));
  config.mutable_train_augmentation()->set_crop_size(28);
  config.mutable_train_augmentation()->set_grayscale_input(proto::Augmentation::KEEP_GRAY);
  config.mutable_train_augmentation()->set_saturation(0);  // colour terms do nothing on gray
  config.mutable_train_augmentation()->set_hue(0);
  config.mutable_train_augmentation()->set_grayscale_prob(0);
  config.mutable_train_augmentation()->add_mean(0.286f);
  config.mutable_train_augmentation()->add_std(0.353f);
  EXPECT_THAT(Validate(config), IsOk());
}

TEST(ValidateTest, DetectionStepsBeyondMaxIterAreRejected) {
  proto::DetectionConfig config;
  MOCHI_ASSERT_OK(ParseTextProtoFile("configs/detection/voc_r50_c4_24k.pbtxt", &config));
  EXPECT_THAT(Validate(config), IsOk());
  config.set_max_iter(20000);
  EXPECT_THAT(Validate(config), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("steps[1] = 22000")));
}

TEST(ValidateTest, DetectionNmsThresholdsOfZeroAreRejectedAsTheDetectorRejectsThem) {
  proto::DetectionConfig config;
  MOCHI_ASSERT_OK(ParseTextProtoFile("configs/detection/voc_r50_c4_24k.pbtxt", &config));
  config.set_test_nms_thresh(0);
  EXPECT_THAT(Validate(config), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("test_nms_thresh = 0: must be in (0, 1]")));
  config.set_test_nms_thresh(0.5);
  config.set_rpn_nms_thresh(0);
  EXPECT_THAT(Validate(config), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("rpn_nms_thresh = 0: must be in (0, 1]")));
  config.set_rpn_nms_thresh(1);
  EXPECT_THAT(Validate(config), IsOk());
}

TEST(LoadConfigTest, UnknownFieldNamesFileLineAndField) {
  EXPECT_THAT(LoadConfig<proto::PretrainConfig>("tests/mochi/config/testdata/unknown_field.pbtxt"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("tests/mochi/config/testdata/unknown_field.pbtxt:3:"),
                             HasSubstr("queue_sise"))));
}

TEST(LoadConfigTest, DeclaredMessageMustMatch) {
  EXPECT_THAT(LoadConfig<proto::PretrainConfig>("tests/mochi/config/testdata/wrong_message.pbtxt"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("declares '# proto-message: mochi.proto.LinearEvalConfig'")));
}

TEST(LoadConfigTest, MissingFileIsNotFound) {
  EXPECT_THAT(LoadConfig<proto::PretrainConfig>("configs/pretrain/no_such.pbtxt"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no_such.pbtxt")));
}

TEST(LoadConfigTest, BadOverrideIsReportedAsOverride) {
  EXPECT_THAT(WithOverride("moco { nope: 1 }"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--override:1:"), HasSubstr("nope"))));
}

TEST(LoadConfigTest, OverrideMergesOverFile) {
  absl::StatusOr<proto::PretrainConfig> config =
      LoadConfig<proto::PretrainConfig>(kBaseline, "epochs: 3 moco { queue_size: 512 }");
  MOCHI_ASSERT_OK(config);
  EXPECT_EQ(config->epochs(), 3);
  EXPECT_EQ(config->moco().queue_size(), 512);
  EXPECT_FLOAT_EQ(config->moco().temperature(), 0.1f);  // untouched fields keep the file's value
}

}  // namespace
}  // namespace mochi
