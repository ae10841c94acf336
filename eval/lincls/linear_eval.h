// //eval:linear: linear classification (and kNN) of a pretrained backbone, frozen.
#ifndef EVAL_LINCLS_LINEAR_EVAL_H_
#define EVAL_LINCLS_LINEAR_EVAL_H_

#include <string>

#include "absl/status/status.h"
#include "mochi/proto/lincls.pb.h"

namespace mochi::eval {

enum class FeatureSource {
  kCheckpoint,  // the run's query backbone, as trained
  kRandomInit,  // the same architecture, randomly initialised (lower bound)
  kRawPixels,   // normalised pixels, no network
};

struct LinearEvalRun {
  // A pretraining run directory (config.pbtxt + checkpoint.pt). Needed for all sources: it
  // defines the architecture even for kRandomInit.
  std::string run_dir;
  FeatureSource source = FeatureSource::kCheckpoint;
  // Metrics JSON; default <run_dir>/lincls_<source>.json.
  std::string output;
};

absl::Status RunLinearEval(const proto::LinearEvalConfig& config, const LinearEvalRun& run);

}  // namespace mochi::eval

#endif  // EVAL_LINCLS_LINEAR_EVAL_H_
