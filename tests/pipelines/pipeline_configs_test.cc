// Every pretraining, linear evaluation and segmentation transfer the table pipelines define must
// be a valid config, so a typo in pipelines/tables.bzl fails here in seconds rather than hours
// into a pipeline.
#include <map>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
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

// Every run's resolved pretraining config by run name (random-init rows have none). A config that
// does not load fails the calling test and is left out.
std::map<std::string, proto::PretrainConfig> PretrainConfigsByName() {
  std::map<std::string, proto::PretrainConfig> config_of;
  for (const nlohmann::json& run : PipelineRuns()) {
    if (!run.contains("config")) continue;
    absl::StatusOr<proto::PretrainConfig> config =
        LoadConfig<proto::PretrainConfig>(run["config"], run["override"]);
    EXPECT_THAT(config, IsOk()) << run["name"];
    if (config.ok()) config_of[run["name"]] = *std::move(config);
  }
  return config_of;
}

int SeedOf(const std::string& run_name) {
  return std::stoi(run_name.substr(run_name.rfind("__s") + 3));
}

TEST(PipelineConfigsTest, EveryRunIsAValidConfigWithItsSeed) {
  const nlohmann::json runs = PipelineRuns();
  ASSERT_GT(runs.size(), 20u);
  std::set<std::string> names;
  for (const nlohmann::json& run : runs) {
    const std::string name = run["name"];
    names.insert(name);
    if (!run.contains("config")) continue;  // a random-init row: no pretraining
    absl::StatusOr<proto::PretrainConfig> config =
        LoadConfig<proto::PretrainConfig>(run["config"], run["override"]);
    ASSERT_THAT(config, IsOk()) << name;
    EXPECT_EQ(config->run().seed(), SeedOf(name)) << name;
    EXPECT_THAT(LoadConfig<proto::LinearEvalConfig>(run["lincls"]), IsOk()) << name;
  }
  // Shared rows (the MoCo-v2 baseline) appear in several tables under one run name.
  EXPECT_TRUE(names.count("default__mocov2__s0"));
  EXPECT_TRUE(names.count("ci__mocov2__s0"));
}

// Tables share a run by its name (the MoCo-v2 baseline is pretrained once); a name given to two
// different pretrainings would silently reuse the first one's results for the second.
TEST(PipelineConfigsTest, OneRunNameIsOnePretraining) {
  std::map<std::string, std::string> pretraining_of;
  for (const nlohmann::json& run : PipelineRuns()) {
    if (!run.contains("config")) continue;
    const std::string name = run["name"];
    const std::string pretraining = absl::StrCat(std::string(run["config"]), " --override=",
                                                 std::string(run["override"]), " lincls ",
                                                 std::string(run["lincls"]));
    const auto [it, inserted] = pretraining_of.emplace(name, pretraining);
    EXPECT_EQ(it->second, pretraining) << name << " names two different runs";
  }
  // Table 3's paper rows pretrain on ImageNet-1K, Table 1's on ImageNet-100: two names. Table 3
  // shares Table 2's 200-epoch ImageNet-1K run.
  EXPECT_TRUE(pretraining_of.count("paper__mocov2__s0"));
  EXPECT_TRUE(pretraining_of.count("paper__mocov2_in1k_e200__s0"));
}

// The converse: two names whose resolved configs are equal train the same model twice, and an
// ablation row whose override restates a base-config value (tau = 0.1 once the shipped config
// had moved to 0.1) silently repeats its baseline.
TEST(PipelineConfigsTest, TwoRunNamesAreTwoDifferentPretrainings) {
  std::map<std::string, std::string> name_of;
  for (const auto& [name, config] : PretrainConfigsByName()) {
    const auto [it, inserted] = name_of.emplace(ToTextProto(config), name);
    EXPECT_TRUE(inserted) << name << " and " << it->second << " resolve to the same config";
  }
}

TEST(PipelineConfigsTest, EveryTransferIsAValidConfigWithItsSeed) {
  std::set<std::string> segmented;
  std::set<std::string> detected;
  for (const nlohmann::json& run : PipelineRuns()) {
    const std::string name = run["name"];
    if (run.contains("segm_config")) {
      segmented.insert(name);
      absl::StatusOr<proto::SegmentationConfig> config =
          LoadConfig<proto::SegmentationConfig>(run["segm_config"], run["segm_override"]);
      ASSERT_THAT(config, IsOk()) << name;
      EXPECT_EQ(config->run().seed(), SeedOf(name)) << name;
    }
    if (run.contains("voc_config")) {
      detected.insert(name);
      absl::StatusOr<proto::DetectionConfig> config =
          LoadConfig<proto::DetectionConfig>(run["voc_config"], run["voc_override"]);
      ASSERT_THAT(config, IsOk()) << name;
      EXPECT_EQ(config->run().seed(), SeedOf(name)) << name;
    }
  }
  // Table 3: supervised and random init, MoCo-v2 and MoCHi. Three seeds each on the default
  // profile (TABLE3_SEEDS), one on the paper profile.
  EXPECT_EQ(segmented.size(), 4u * 3 + 4);
  EXPECT_TRUE(segmented.count("default__supervised__s2"));
  EXPECT_TRUE(segmented.count("default__random_init__s1"));
  EXPECT_TRUE(segmented.count("default__mochi_256_512_0__s1"));
  EXPECT_TRUE(segmented.count("paper__supervised_in1k__s0"));
  EXPECT_TRUE(segmented.count("paper__mochi_256_512_0_in1k_e200__s0"));
  // VOC: table 1's 4 rows and table 2's 6; the ci profile has no VOC cut.
  EXPECT_EQ(detected.size(), (4u + 6u) * 2 + (4 + 6));
  EXPECT_TRUE(detected.count("default__mocov2_e8__s0"));
  EXPECT_TRUE(detected.count("paper__mocov2_in1k_e800__s0"));
  EXPECT_TRUE(detected.count("default__mochi_256_2048_2048__s1"));
  EXPECT_TRUE(detected.count("paper__mochi_256_2048_2048__s0"));
  EXPECT_FALSE(detected.count("ci__mocov2__s0"));
}

TEST(PipelineConfigsTest, DefaultProfileRowsDifferOnlyByTheirMixingOrAblation) {
  for (const auto& [name, config] : PretrainConfigsByName()) {
    if (name.rfind("default__", 0) != 0) continue;
    EXPECT_EQ(config.run().profile(), proto::DEFAULT) << name;
    EXPECT_EQ(config.moco().has_mixing(), name.find("mochi") != std::string::npos) << name;
  }
}

// The selection ablation's random rows must be their hardest-N rows with only the selection
// changed, or the table would compare more than hardness.
TEST(PipelineConfigsTest, RandomSelectionRowsDifferFromTheirRowOnlyBySelection) {
  std::map<std::string, proto::PretrainConfig> config_of = PretrainConfigsByName();
  for (const std::string row : {"default__mochi_256_512_0", "default__mochi_1024_512_256"}) {
    for (const std::string seed : {"__s0", "__s1"}) {
      ASSERT_TRUE(config_of.count(row + "_random" + seed)) << row;
      ASSERT_TRUE(config_of.count(row + seed)) << row;
      proto::PretrainConfig random = config_of[row + "_random" + seed];
      EXPECT_EQ(random.moco().mixing().selection(), proto::HardNegativeMixing::RANDOM) << row;
      EXPECT_EQ(config_of[row + seed].moco().mixing().selection(),
                proto::HardNegativeMixing::HARDEST)
          << row;
      random.mutable_moco()->mutable_mixing()->clear_selection();
      EXPECT_EQ(ToTextProto(random), ToTextProto(config_of[row + seed])) << row;
    }
  }
}

}  // namespace
}  // namespace mochi
