// bazel run //eval:linear -- --checkpoint=runs/mocov2_fmnist --config=configs/lincls/fmnist.pbtxt
//     [--features=checkpoint|random_init|raw_pixels]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "eval/lincls/linear_eval.h"
#include "mochi/config/validate.h"
#include "mochi/port/paths.h"

ABSL_FLAG(std::string, checkpoint, "", "Pretraining run directory (config.pbtxt + checkpoint.pt).");
ABSL_FLAG(std::string, config, "configs/lincls/fmnist.pbtxt", "LinearEvalConfig text proto.");
ABSL_FLAG(std::string, override, "", "Text proto merged over --config.");
ABSL_FLAG(std::string, features, "checkpoint",
          "checkpoint (trained backbone), random_init (same architecture, untrained) or "
          "raw_pixels (no network).");
ABSL_FLAG(std::string, output, "", "Metrics JSON (default <checkpoint>/lincls_<features>.json).");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  mochi::eval::LinearEvalRun run;
  run.run_dir = mochi::ResolvePath(absl::GetFlag(FLAGS_checkpoint));
  run.output = absl::GetFlag(FLAGS_output).empty() ? "" : mochi::ResolvePath(absl::GetFlag(FLAGS_output));
  const std::string features = absl::GetFlag(FLAGS_features);
  if (features == "checkpoint") {
    run.source = mochi::eval::FeatureSource::kCheckpoint;
  } else if (features == "random_init") {
    run.source = mochi::eval::FeatureSource::kRandomInit;
  } else if (features == "raw_pixels") {
    run.source = mochi::eval::FeatureSource::kRawPixels;
  } else {
    std::fprintf(stderr, "--features=%s: use checkpoint, random_init or raw_pixels\n", features.c_str());
    return EXIT_FAILURE;
  }
  if (run.run_dir.empty()) {
    std::fprintf(stderr, "--checkpoint=<pretraining run directory> is required\n");
    return EXIT_FAILURE;
  }
  auto config = mochi::LoadConfig<mochi::proto::LinearEvalConfig>(
      mochi::ResolvePath(absl::GetFlag(FLAGS_config)), absl::GetFlag(FLAGS_override));
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", std::string(config.status().message()).c_str());
    return EXIT_FAILURE;
  }
  const absl::Status status = mochi::eval::RunLinearEval(*config, run);
  if (!status.ok()) {
    std::fprintf(stderr, "linear: %s\n", status.ToString().c_str());
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
