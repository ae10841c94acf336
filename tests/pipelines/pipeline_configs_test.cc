// Every pretraining and linear evaluation the table pipelines define must be a valid config, so
// a typo in pipelines/tables.bzl fails here in seconds rather than hours into a pipeline.
#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/config/validate.h"
#include "mochi/port/text_proto.h"
#include "nlohmann/json.hpp"
#include "tests/testing/status_matchers.h"

namespace mochi {
namespace {

using ::mochi::testing::IsOk;

nlohmann::json PipelineRuns() {
  absl::StatusOr<std::string> text = ReadFileToString("pipelines/pipeline_runs.json");
  EXPECT_THAT(text, IsOk());
  return nlohmann::json::parse(text.ok() ? *text : "[]");
}

TEST(PipelineConfigsTest, EveryRunIsAValidConfigWithItsSeed) {
  const nlohmann::json runs = PipelineRuns();
  ASSERT_GT(runs.size(), 20u);
  std::set<std::string> names;
  for (const nlohmann::json& run : runs) {
    const std::string name = run["name"];
    names.insert(name);
    absl::StatusOr<proto::PretrainConfig> config =
        LoadConfig<proto::PretrainConfig>(run["config"], run["override"]);
    ASSERT_THAT(config, IsOk()) << name;
    EXPECT_EQ(config->run().seed(), std::stoi(name.substr(name.rfind("__s") + 3))) << name;
    EXPECT_THAT(LoadConfig<proto::LinearEvalConfig>(run["lincls"]), IsOk()) << name;
  }
  // Shared rows (the MoCo-v2 baseline) appear in several tables under one run name.
  EXPECT_TRUE(names.count("default__mocov2__s0"));
  EXPECT_TRUE(names.count("ci__mocov2__s0"));
}

TEST(PipelineConfigsTest, DefaultProfileRowsDifferOnlyByTheirMixingOrAblation) {
  for (const nlohmann::json& run : PipelineRuns()) {
    const std::string name = run["name"];
    if (name.rfind("default__", 0) != 0) continue;
    absl::StatusOr<proto::PretrainConfig> config =
        LoadConfig<proto::PretrainConfig>(run["config"], run["override"]);
    ASSERT_THAT(config, IsOk()) << name;
    EXPECT_EQ(config->run().profile(), proto::DEFAULT) << name;
    EXPECT_EQ(config->moco().has_mixing(), name.find("mochi") != std::string::npos) << name;
  }
}

}  // namespace
}  // namespace mochi
