#include "tests/testing/tiny_run.h"

#include <cstdlib>
#include <filesystem>

#include "gtest/gtest.h"
#include "mochi/config/validate.h"
#include "mochi/engine/pretrain.h"

namespace mochi::testing {

std::string TestTempDir(const std::string& name) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

const std::string& TinyMocoRun() {
  static const std::string* dir = [] {
    auto* dir = new std::string(TestTempDir("tiny_moco_run"));
    absl::StatusOr<proto::PretrainConfig> config = LoadConfig<proto::PretrainConfig>(
        "configs/pretrain/mocov2_fmnist.pbtxt",
        "run { num_threads: 2 } dataset { fashion_mnist { limit: 512 } } backbone { width: 4 } "
        "head { output_dim: 16 } batch_size: 128 epochs: 1 moco { queue_size: 256 } "
        "log_every_steps: 1000");
    EXPECT_TRUE(config.ok()) << config.status();
    PretrainRunOptions options;
    options.output_dir = *dir;
    const absl::Status status = RunPretrain(*config, options);
    EXPECT_TRUE(status.ok()) << status;
    return dir;
  }();
  return *dir;
}

}  // namespace mochi::testing
