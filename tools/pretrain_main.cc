// bazel run //tools:pretrain -- --config=configs/pretrain/mocov2_fmnist.pbtxt [--output_dir=...]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "eval/knn/knn_monitor.h"
#include "mochi/config/validate.h"
#include "mochi/engine/pretrain.h"
#include "mochi/port/paths.h"

ABSL_FLAG(std::string, config, "", "Text-proto PretrainConfig (configs/pretrain/*.pbtxt).");
ABSL_FLAG(std::string, override, "",
          "Text proto merged over --config, e.g. 'epochs: 2' (repeated fields append).");
ABSL_FLAG(std::string, output_dir, "", "Run directory (default: runs/<run.name>).");
ABSL_FLAG(bool, resume, false, "Continue from <output_dir>/checkpoint.pt.");
ABSL_FLAG(int64_t, max_steps, 0, "Stop with a checkpoint after this many steps (0 = all).");
ABSL_FLAG(bool, knn_eval, true, "kNN-evaluate the backbone on Fashion-MNIST test at the end.");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "MoCo-v2 / MoCHi pretraining, or the supervised baseline (configs/pretrain/supervised_*). "
      "See docs/pretraining.md.");
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_config).empty()) {
    std::fprintf(stderr, "--config is required (e.g. configs/pretrain/mocov2_fmnist.pbtxt)\n");
    return EXIT_FAILURE;
  }
  const auto config = mochi::LoadConfig<mochi::proto::PretrainConfig>(
      mochi::ResolvePath(absl::GetFlag(FLAGS_config)), absl::GetFlag(FLAGS_override));
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", std::string(config.status().message()).c_str());
    return EXIT_FAILURE;
  }
  mochi::PretrainRunOptions options;
  options.output_dir = mochi::ResolvePath(absl::GetFlag(FLAGS_output_dir).empty()
                                              ? "runs/" + config->run().name()
                                              : absl::GetFlag(FLAGS_output_dir));
  options.resume = absl::GetFlag(FLAGS_resume);
  options.max_steps = absl::GetFlag(FLAGS_max_steps);
  if (absl::GetFlag(FLAGS_knn_eval)) options.extra_hooks.push_back(mochi::eval::KnnMonitor());
  std::fprintf(stderr, "Run directory: %s\n", options.output_dir.c_str());
  const absl::Status status = mochi::RunPretrain(*config, options);
  if (!status.ok()) {
    std::fprintf(stderr, "pretrain: %s\n", status.ToString().c_str());
    return status.code() == absl::StatusCode::kCancelled ? 130 : EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
