#include "mochi/engine/checkpoint.h"

#include <cstdio>
#include <filesystem>
#include <map>
#include <vector>

#include "ATen/ATen.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mochi/port/text_proto.h"
#include "mochi/port/zip_integrity.h"
#include "torch/serialize/archive.h"

namespace mochi {
namespace {

constexpr int64_t kFormatVersion = 1;

at::Tensor StringToTensor(const std::string& s) {
  return at::from_blob(const_cast<char*>(s.data()), {static_cast<int64_t>(s.size())}, at::kByte)
      .clone();
}

std::string TensorToString(const at::Tensor& t) {
  const at::Tensor bytes = t.to(at::kCPU, at::kByte).contiguous();
  return std::string(reinterpret_cast<const char*>(bytes.data_ptr<uint8_t>()), bytes.numel());
}

std::map<std::string, std::vector<int64_t>> Shapes(const torch::nn::Module& model) {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& item : model.named_parameters()) shapes[item.key()] = item.value().sizes().vec();
  for (const auto& item : model.named_buffers()) shapes[item.key()] = item.value().sizes().vec();
  return shapes;
}

// LibTorch's own errors without their C++ backtrace; the TorchScript reader's (a corrupt
// archive's code records) and the standard library's as they are.
std::string ErrorText(const std::exception& e) {
  const auto* torch_error = dynamic_cast<const c10::Error*>(&e);
  return torch_error != nullptr ? torch_error->what_without_backtrace() : e.what();
}

}  // namespace

absl::Status SaveCheckpoint(const std::string& path, torch::nn::Module& model,
                            torch::optim::Optimizer& optimizer, const TrainPosition& position,
                            const NamedGenerators& generators, const RngStatesByRank& by_rank) {
  const std::string temp = path + ".tmp";
  try {
    torch::serialize::OutputArchive archive;
    torch::serialize::OutputArchive model_archive;
    model.save(model_archive);
    archive.write("model", model_archive);
    torch::serialize::OutputArchive optimizer_archive;
    optimizer.save(optimizer_archive);
    archive.write("optimizer", optimizer_archive);
    archive.write("format_version", at::tensor({kFormatVersion}));
    archive.write("position",
                  at::tensor({position.epoch, position.step_in_epoch, position.global_step}));
    archive.write("config", StringToTensor(position.config_text));
    for (const auto& [name, generator] : generators) {
      archive.write("rng/" + name, generator.get_state());
    }
    for (const auto& [name, states] : by_rank) archive.write("rng_by_rank/" + name, states);
    archive.save_to(temp);
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat(temp, ": writing checkpoint failed: ", ErrorText(e)));
  }
  return CommitFile(temp, path);
}

absl::StatusOr<TrainPosition> LoadCheckpoint(const std::string& path, torch::nn::Module& model,
                                             torch::optim::Optimizer* optimizer,
                                             const NamedGenerators& generators, int rank,
                                             int world_size) {
  if (!std::filesystem::exists(path)) {
    return absl::NotFoundError(absl::StrCat(path, ": no checkpoint"));
  }
  // LibTorch's reader does not check the records' CRCs: a flipped bit would load silently.
  if (absl::Status intact = VerifyZipRecords(path); !intact.ok()) return intact;
  torch::serialize::InputArchive archive;
  try {
    // Onto the model's device: a checkpoint written on cuda:0 (rank 0) or on another machine's
    // device must not move this process's model there.
    const std::vector<at::Tensor> parameters = model.parameters();
    archive.load_from(path, parameters.empty() ? at::Device(at::kCPU) : parameters[0].device());
  } catch (const std::exception& e) {
    return absl::DataLossError(
        absl::StrCat(path, ": corrupt or truncated checkpoint (", ErrorText(e), ")"));
  }
  TrainPosition position;
  try {
    at::Tensor version;
    archive.read("format_version", version);
    if (version.item<int64_t>() != kFormatVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, ": checkpoint format ", version.item<int64_t>(), ", expected ", kFormatVersion));
    }
    at::Tensor where;
    archive.read("position", where);
    position.epoch = where[0].item<int64_t>();
    position.step_in_epoch = where[1].item<int64_t>();
    position.global_step = where[2].item<int64_t>();
    at::Tensor config;
    archive.read("config", config);
    position.config_text = TensorToString(config);
  } catch (const std::exception& e) {
    return absl::DataLossError(
        absl::StrCat(path, ": checkpoint lacks its metadata (", ErrorText(e), ")"));
  }
  // Module::load replaces tensors whatever their shape, so a checkpoint of another width would
  // load "fine" and silently change the model: compare every shape.
  const std::map<std::string, std::vector<int64_t>> expected_shapes = Shapes(model);
  try {
    torch::serialize::InputArchive model_archive;
    archive.read("model", model_archive);
    model.load(model_archive);
  } catch (const std::exception& e) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": weights do not fit this model (different architecture or config?): ",
                     ErrorText(e)));
  }
  std::map<std::string, std::vector<int64_t>> loaded_shapes = Shapes(model);
  for (const auto& [name, shape] : expected_shapes) {
    if (loaded_shapes[name] != shape) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, ": weights do not fit this model (different architecture or config?): ", name,
          " is [", absl::StrJoin(loaded_shapes[name], ", "), "] in the checkpoint but [",
          absl::StrJoin(shape, ", "), "] in the model"));
    }
  }
  try {
    if (optimizer != nullptr) {
      torch::serialize::InputArchive optimizer_archive;
      archive.read("optimizer", optimizer_archive);
      optimizer->load(optimizer_archive);
    }
    bool warned = false;
    for (const auto& [name, generator] : generators) {
      at::Tensor state;
      at::Tensor by_rank;
      if (world_size > 1 && archive.try_read("rng_by_rank/" + name, by_rank) &&
          by_rank.size(0) == world_size) {
        // A copy: set_state reads the storage from its start, and row `rank` of `by_rank` is
        // at an offset.
        state = by_rank[rank].clone();
      } else {
        archive.read("rng/" + name, state);
        if (world_size > 1 && !warned) {
          std::fprintf(stderr,
                       "%s: written by another number of processes than %d: every process "
                       "resumes with the writer's RNG states (correct, not bit for bit)\n",
                       path.c_str(), world_size);
          warned = true;
        }
      }
      at::Generator g = generator;
      g.set_state(state.to(at::kCPU));
    }
  } catch (const std::exception& e) {
    return absl::DataLossError(
        absl::StrCat(path, ": optimizer or RNG state unreadable: ", ErrorText(e)));
  }
  return position;
}

}  // namespace mochi
