// Parses and validates every configs/**/*.pbtxt against the message its header declares, and runs
// the builders a binary runs on it (model, mixing, views; the detector with its own option
// checks), so a typo or a value only a builder rejects fails CI rather than a training job.
#include <filesystem>
#include <string>
#include <vector>

#include "eval/detection/detection_builders.h"
#include "eval/detection/faster_rcnn.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/config/validate.h"
#include "mochi/engine/builders.h"
#include "mochi/port/status_macros.h"
#include "mochi/port/text_proto.h"
#include "tests/testing/status_matchers.h"

namespace mochi {
namespace {

std::vector<std::string> ConfigFiles() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator("configs")) {
    if (entry.path().extension() == ".pbtxt") files.push_back(entry.path().string());
  }
  return files;
}

absl::Status BuildPretraining(const proto::PretrainConfig& config) {
  MOCHI_RETURN_IF_ERROR(BuildPretrainModel(config).status());
  BuildMixingOptions(config.moco());
  const int source_channels = config.dataset().has_fashion_mnist() ? 1 : 3;
  return BuildViewTransform(config.augmentation(), source_channels, config.has_supervised() ? 1 : 2)
      .status();
}

// The detector as //eval:detect builds it, on a randomly initialised backbone (the configs'
// pretrained checkpoints are runs that need not exist here).
absl::Status BuildDetector(const proto::DetectionConfig& config, bool mask_on) {
  eval::detection::FasterRcnnOptions options = eval::detection::BuildFasterRcnnOptions(config);
  options.mask_on = mask_on;
  MOCHI_ASSIGN_OR_RETURN(models::ResNet backbone,
                         models::MakeResNet(BuildResNetOptions(config.backbone(), 0)));
  return eval::detection::MakeFasterRcnn(backbone, options).status();
}

absl::Status LoadAsDeclared(const std::string& path) {
  absl::StatusOr<std::string> declared = DeclaredProtoMessage(path);
  if (!declared.ok()) return declared.status();
  if (*declared == "mochi.proto.PretrainConfig") {
    MOCHI_ASSIGN_OR_RETURN(proto::PretrainConfig config, LoadConfig<proto::PretrainConfig>(path));
    return BuildPretraining(config);
  }
  if (*declared == "mochi.proto.LinearEvalConfig") {
    return LoadConfig<proto::LinearEvalConfig>(path).status();
  }
  if (*declared == "mochi.proto.DetectionConfig") {
    MOCHI_ASSIGN_OR_RETURN(proto::DetectionConfig config, LoadConfig<proto::DetectionConfig>(path));
    return BuildDetector(config, /*mask_on=*/false);
  }
  if (*declared == "mochi.proto.SegmentationConfig") {
    MOCHI_ASSIGN_OR_RETURN(proto::SegmentationConfig config,
                           LoadConfig<proto::SegmentationConfig>(path));
    return BuildDetector(config.detection(), /*mask_on=*/true);
  }
  return absl::InvalidArgumentError(path + ": unknown proto-message " + *declared);
}

TEST(ConfigZooTest, FindsTheConfigs) {
  // Guards against the glob silently matching nothing (e.g. a moved directory).
  EXPECT_GE(ConfigFiles().size(), 10u);
}

TEST(ConfigZooTest, EveryConfigParsesAndValidates) {
  for (const std::string& path : ConfigFiles()) {
    SCOPED_TRACE(path);
    EXPECT_THAT(LoadAsDeclared(path), testing::IsOk());
  }
}

TEST(ConfigZooTest, EveryConfigHasAHeaderComment) {
  // TF-OD style: each instance says what it reproduces and what it should reach.
  for (const std::string& path : ConfigFiles()) {
    absl::StatusOr<std::string> text = ReadFileToString(path);
    MOCHI_ASSERT_OK(text);
    EXPECT_THAT(*text, ::testing::HasSubstr("Expected")) << path;
  }
}

}  // namespace
}  // namespace mochi
