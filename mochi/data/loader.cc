#include "mochi/data/loader.h"

#include <algorithm>
#include <exception>
#include <string>
#include <utility>

#include "ATen/Functions.h"
#include "ATen/core/grad_mode.h"
#include "absl/strings/str_cat.h"
#include "mochi/data/rng.h"
#include "mochi/port/torch_status.h"

namespace mochi::data {
namespace {

absl::Status Annotate(const absl::Status& status, int64_t epoch, int64_t index) {
  return absl::Status(status.code(), absl::StrCat("DataLoader epoch ", epoch, ", dataset index ",
                                                  index, ": ", status.message()));
}

at::Tensor Int64Tensor(const std::vector<int64_t>& values) {
  at::Tensor t = at::empty({static_cast<int64_t>(values.size())}, at::kLong);
  std::copy(values.begin(), values.end(), t.data_ptr<int64_t>());
  return t;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DataLoader>> DataLoader::Create(const Dataset* dataset,
                                                               SampleTransform transform,
                                                               LoaderOptions options) {
  if (dataset == nullptr) return absl::InvalidArgumentError("DataLoader: dataset is null");
  if (!transform) return absl::InvalidArgumentError("DataLoader: transform is empty");
  if (options.batch_size <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("LoaderOptions.batch_size = ", options.batch_size, ": must be > 0"));
  }
  if (options.num_workers < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("LoaderOptions.num_workers = ", options.num_workers, ": must be >= 0"));
  }
  if (options.prefetch_batches < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "LoaderOptions.prefetch_batches = ", options.prefetch_batches, ": must be >= 1"));
  }
  if (options.world_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("LoaderOptions.world_size = ", options.world_size, ": must be >= 1"));
  }
  if (options.rank < 0 || options.rank >= options.world_size) {
    return absl::InvalidArgumentError(absl::StrCat("LoaderOptions.rank = ", options.rank,
                                                   ": must be in [0, world_size = ",
                                                   options.world_size, ")"));
  }
  std::unique_ptr<DataLoader> loader(
      new DataLoader(dataset, std::move(transform), std::move(options)));
  if (loader->num_batches_ == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DataLoader: ", dataset->Describe(), " with ", dataset->size(), " samples gives rank ",
        loader->options_.rank, " of ", loader->options_.world_size, " no batch of ",
        loader->options_.batch_size, (loader->options_.drop_last ? " (drop_last)" : "")));
  }
  return loader;
}

DataLoader::DataLoader(const Dataset* dataset, SampleTransform transform, LoaderOptions options)
    : dataset_(dataset), transform_(std::move(transform)), options_(std::move(options)) {
  const int64_t n = dataset_->size();
  const int64_t ws = options_.world_size;
  if (options_.drop_last) {
    num_samples_ = n / ws;
    num_batches_ = num_samples_ / options_.batch_size;
  } else {
    num_samples_ = n > options_.rank ? (n - options_.rank + ws - 1) / ws : 0;
    num_batches_ = (num_samples_ + options_.batch_size - 1) / options_.batch_size;
  }
}

DataLoader::~DataLoader() { StopWorkers(); }

absl::Status DataLoader::StartEpoch(int64_t epoch) {
  if (epoch < 0) {
    return absl::InvalidArgumentError(absl::StrCat("DataLoader: epoch ", epoch, " < 0"));
  }
  StopWorkers();
  const int64_t n = dataset_->size();
  std::vector<int64_t> perm;
  if (options_.shuffle) {
    perm = Permutation(n, MixSeed(options_.seed, static_cast<uint64_t>(epoch)));
  } else {
    perm.resize(n);
    for (int64_t i = 0; i < n; ++i) perm[i] = i;
  }
  order_.clear();
  order_.reserve(num_samples_);
  for (int64_t k = 0; k < num_samples_; ++k) {
    order_.push_back(perm[options_.rank + k * options_.world_size]);
  }
  epoch_ = epoch;
  next_step_ = 0;
  error_ = absl::OkStatus();
  epoch_started_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = false;
    next_claim_ = 0;
    consumed_ = 0;
    ready_.clear();
  }
  const int64_t num_threads = std::min<int64_t>(options_.num_workers, num_batches_);
  for (int64_t i = 0; i < num_threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Batch>> DataLoader::Next() {
  if (!epoch_started_) {
    return absl::FailedPreconditionError("DataLoader::Next() before StartEpoch()");
  }
  if (!error_.ok()) return error_;
  if (next_step_ >= num_batches_) {
    StopWorkers();
    return std::optional<Batch>();
  }
  absl::StatusOr<Batch> result = absl::UnknownError("unset");
  if (workers_.empty()) {
    result = MakeBatch(next_step_);
  } else {
    {
      std::unique_lock<std::mutex> lock(mu_);
      ready_cv_.wait(lock, [this] { return ready_.count(next_step_) > 0; });
      auto it = ready_.find(next_step_);
      result = std::move(it->second);
      ready_.erase(it);
      consumed_ = next_step_ + 1;
    }
    work_cv_.notify_all();
  }
  ++next_step_;
  if (!result.ok()) {
    error_ = result.status();
    StopWorkers();
    return error_;
  }
  return std::optional<Batch>(std::move(result).value());
}

absl::StatusOr<Batch> DataLoader::MakeBatch(int64_t step) const {
  // Thread-local: no autograd graph for anything built here.
  at::NoGradGuard no_grad;
  const int64_t begin = step * options_.batch_size;
  const int64_t end = std::min<int64_t>(begin + options_.batch_size, num_samples_);
  std::vector<std::vector<at::Tensor>> per_view;
  std::vector<int64_t> labels;
  std::vector<int64_t> indices;
  labels.reserve(end - begin);
  indices.reserve(end - begin);
  for (int64_t pos = begin; pos < end; ++pos) {
    const int64_t index = order_[pos];
    absl::StatusOr<std::vector<at::Tensor>> views = absl::UnknownError("unset");
    absl::Status status = TorchToStatus("sample", [&] {
      absl::StatusOr<Example> example = dataset_->Get(index);
      if (!example.ok()) {
        views = example.status();
        return;
      }
      labels.push_back(example->label);
      views = transform_(*example, SampleSeed(options_.seed, epoch_, index, /*view=*/0));
    });
    if (!status.ok()) return Annotate(status, epoch_, index);
    if (!views.ok()) return Annotate(views.status(), epoch_, index);
    if (per_view.empty()) per_view.resize(views->size());
    if (views->size() != per_view.size()) {
      return Annotate(absl::InternalError(absl::StrCat("transform returned ", views->size(),
                                                       " views, earlier samples ",
                                                       per_view.size())),
                      epoch_, index);
    }
    for (size_t v = 0; v < views->size(); ++v) per_view[v].push_back(std::move((*views)[v]));
    indices.push_back(index);
  }
  Batch batch;
  batch.step_in_epoch = step;
  absl::Status status = TorchToStatus(absl::StrCat("DataLoader epoch ", epoch_, ", batch ", step,
                                                   ": stacking views"),
                                      [&] {
                                        batch.views.reserve(per_view.size());
                                        for (const auto& tensors : per_view) {
                                          batch.views.push_back(at::stack(tensors, 0));
                                        }
                                        batch.labels = Int64Tensor(labels);
                                        batch.indices = Int64Tensor(indices);
                                      });
  if (!status.ok()) return status;
  return batch;
}

void DataLoader::WorkerLoop() {
  while (true) {
    int64_t step = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [this] {
        return stop_ || next_claim_ >= num_batches_ ||
               next_claim_ < consumed_ + options_.prefetch_batches;
      });
      if (stop_ || next_claim_ >= num_batches_) return;
      step = next_claim_++;
    }
    absl::StatusOr<Batch> batch = absl::UnknownError("unset");
    try {
      batch = MakeBatch(step);
    } catch (...) {  // MakeBatch converts exceptions; this only guards the thread.
      batch = absl::InternalError(absl::StrCat("DataLoader: unknown exception in batch ", step));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
      ready_.emplace(step, std::move(batch));
    }
    ready_cv_.notify_all();
  }
}

void DataLoader::StopWorkers() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& worker : workers_) worker.join();
  workers_.clear();
  std::lock_guard<std::mutex> lock(mu_);
  ready_.clear();
}

}  // namespace mochi::data
