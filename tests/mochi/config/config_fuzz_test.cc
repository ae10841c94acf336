// Mutation fuzzing of the text-proto configs (tests/testing:mutation_fuzz): every mutated config
// file must load and validate or fail with a clear error; a pretraining config that validates
// must also build its model (BuildPretrainModel) or say why not, never crash.
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "mochi/config/validate.h"
#include "mochi/engine/builders.h"
#include "mochi/port/text_proto.h"
#include "tests/testing/mutation_fuzz.h"

namespace mochi {
namespace {

// The file's text; empty (and the test failed) when it cannot be read.
std::string Read(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : "";
}

std::string TempPath() { return std::string(std::getenv("TEST_TMPDIR")) + "/fuzz.pbtxt"; }

const std::vector<std::string> kDictionary = {"{",
                                              "}",
                                              ":",
                                              "-1",
                                              "0",
                                              "1e400",
                                              "inf",
                                              "nan",
                                              "\"",
                                              "9223372036854775807",
                                              "-9223372036854775808",
                                              "4294967296",
                                              "0.0000001",
                                              " epochs: 0",
                                              " batch_size: 0",
                                              " batch_size: 3",
                                              " queue_size: 0",
                                              " queue_size: 7",
                                              " num_hardest: 999999",
                                              " num_mixed_pairs: -5",
                                              " temperature: 0",
                                              " bn_groups: 3",
                                              " width: 0",
                                              " crop_size: 0",
                                              " mixing { num_hardest: 8 num_mixed_pairs: 4 }",
                                              " run { device: \"tpu\" }",
                                              " profile: PAPER",
                                              " architecture: RESNET50",
                                              "[",
                                              "]",
                                              "#",
                                              "\\"};

template <typename Config>
testing::FuzzReport FuzzConfigs(const std::vector<std::string>& files, int iterations,
                                const std::function<absl::Status(const Config&)>& use) {
  std::vector<std::string> seeds;
  for (const std::string& file : files) seeds.push_back(Read(file));
  for (const std::string& seed : seeds) EXPECT_FALSE(seed.empty());
  return testing::FuzzParser(seeds, kDictionary, iterations, [&](const std::string& text) {
    std::ofstream(TempPath(), std::ios::trunc) << text;
    absl::StatusOr<Config> config = LoadConfig<Config>(TempPath());
    if (!config.ok()) return config.status();
    return use(*config);
  });
}

void Expect(const testing::FuzzReport& report, int min_accepted) {
  EXPECT_EQ(report.failures, 0) << report.first_failure;
  EXPECT_GT(report.rejected, 100);
  EXPECT_GT(report.accepted, min_accepted);  // the mutations also reach past the validation
}

TEST(ConfigFuzzTest, PretrainConfigs) {
  Expect(FuzzConfigs<proto::PretrainConfig>({"configs/pretrain/mocov2_fmnist.pbtxt",
                                             "configs/pretrain/mochi_fmnist_n1024_s512_s256.pbtxt",
                                             "configs/pretrain/supervised_fmnist.pbtxt"},
                                            1500,
                                            [](const proto::PretrainConfig& config) {
                                              return BuildPretrainModel(config).status();
                                            }),
         100);
}

TEST(ConfigFuzzTest, EvaluationConfigs) {
  const auto ok = [](const auto&) { return absl::OkStatus(); };
  Expect(FuzzConfigs<proto::LinearEvalConfig>({"configs/lincls/fmnist.pbtxt"}, 1500, ok), 100);
  Expect(FuzzConfigs<proto::DetectionConfig>({"configs/detection/fms_voc_r18_c4.pbtxt"}, 1500, ok),
         100);
  Expect(FuzzConfigs<proto::SegmentationConfig>({"configs/segmentation/fms_coco_r18_c4.pbtxt"},
                                                1500, ok),
         100);
}

}  // namespace
}  // namespace mochi
