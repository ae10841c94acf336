// Parses and validates every configs/**/*.pbtxt against the message its header declares, so a
// typo in a config fails CI rather than a training job.
#include <filesystem>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/config/validate.h"
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

absl::Status LoadAsDeclared(const std::string& path) {
  absl::StatusOr<std::string> declared = DeclaredProtoMessage(path);
  if (!declared.ok()) return declared.status();
  if (*declared == "mochi.proto.PretrainConfig") return LoadConfig<proto::PretrainConfig>(path).status();
  if (*declared == "mochi.proto.LinearEvalConfig") {
    return LoadConfig<proto::LinearEvalConfig>(path).status();
  }
  if (*declared == "mochi.proto.DetectionConfig") {
    return LoadConfig<proto::DetectionConfig>(path).status();
  }
  if (*declared == "mochi.proto.SegmentationConfig") {
    return LoadConfig<proto::SegmentationConfig>(path).status();
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
