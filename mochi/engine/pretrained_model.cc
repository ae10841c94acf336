#include "mochi/engine/pretrained_model.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "mochi/config/validate.h"
#include "mochi/engine/builders.h"
#include "mochi/engine/checkpoint.h"
#include "mochi/port/status_macros.h"

namespace mochi {

absl::StatusOr<PretrainedModel> LoadPretrainedModel(const std::string& run, bool load_weights) {
  std::error_code error;
  const bool is_file = std::filesystem::is_regular_file(run, error);
  const std::string run_dir = is_file ? std::filesystem::path(run).parent_path().string() : run;
  PretrainedModel model;
  model.checkpoint_path = is_file ? run : run_dir + "/checkpoint.pt";
  MOCHI_ASSIGN_OR_RETURN(model.config,
                         LoadConfig<proto::PretrainConfig>(run_dir + "/config.pbtxt"));
  MOCHI_ASSIGN_OR_RETURN(model.model, BuildPretrainModel(model.config));
  if (load_weights) {
    MOCHI_RETURN_IF_ERROR(
        LoadCheckpoint(model.checkpoint_path, *model.model.module, nullptr, {}).status());
  }
  return model;
}

}  // namespace mochi
