// A parallel, deterministic batch loader over a Dataset.
//
// Epoch e visits the dataset in the order Permutation(N, MixSeed(seed, e)) (identity without
// shuffle). Process `rank` of `world_size` takes the positions rank, rank + world_size, ... of
// that order (torch DistributedSampler without padding): with drop_last every rank takes
// floor(N / world_size) samples and the last partial batch is dropped; without drop_last a rank
// takes every position p < N with p % world_size == rank (ranks may differ by one sample) and
// the last batch may be short. Sample i of epoch e is transformed with the seed
// SampleSeed(seed, e, i, /*view=*/0), so batches are bitwise identical for any num_workers and
// prefetch_batches.
//
// Workers are std::threads that each build whole batches (Get + transform + stack) with
// autograd disabled (NoGradGuard: the tensors are ordinary tensors, usable in training).
// Batches come out in order through a reorder buffer, at most prefetch_batches ahead of the
// consumer. The loader is driven from one thread (StartEpoch / Next are not re-entrant).
#ifndef MOCHI_DATA_LOADER_H_
#define MOCHI_DATA_LOADER_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "ATen/core/Tensor.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mochi/data/dataset.h"

namespace mochi::data {

// Turns one example into its views (e.g. the two MoCo crops), each float [C, H, W] of the
// same shape for every sample. Called concurrently from several workers: must be thread-safe.
// `sample_seed` is the only source of randomness; derive per-view seeds with MixSeed.
// Exceptions (c10::Error, std::exception) are caught and returned as a Status.
using SampleTransform =
    std::function<absl::StatusOr<std::vector<at::Tensor>>(const Example&, uint64_t sample_seed)>;

struct LoaderOptions {
  int64_t batch_size = 0;  // per process
  int num_workers = 2;     // 0: load in the thread that calls Next()
  int prefetch_batches = 4;
  bool shuffle = true;
  bool drop_last = true;
  uint64_t seed = 0;
  int rank = 0;
  int world_size = 1;
};

struct Batch {
  std::vector<at::Tensor> views;  // one per transform output, each float [B, C, H, W]
  at::Tensor labels;              // int64 [B]
  at::Tensor indices;             // int64 [B], dataset indices
  int64_t step_in_epoch = 0;      // 0-based batch number within the epoch
};

class DataLoader {
 public:
  // `dataset` must outlive the loader. InvalidArgument on bad options or when an epoch would
  // have no batch.
  static absl::StatusOr<std::unique_ptr<DataLoader>> Create(const Dataset* dataset,
                                                            SampleTransform transform,
                                                            LoaderOptions options);
  ~DataLoader();

  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  int64_t batches_per_epoch() const { return num_batches_; }
  // Samples this rank sees per epoch (including a short last batch without drop_last).
  int64_t samples_per_epoch() const { return static_cast<int64_t>(num_samples_); }
  const LoaderOptions& options() const { return options_; }

  // Starts (or restarts) epoch `epoch` >= 0; an epoch in progress is abandoned and its workers
  // are joined first.
  absl::Status StartEpoch(int64_t epoch);

  // The next batch in order, nullopt at the end of the epoch, or the first error of the epoch
  // (from Dataset::Get or the transform, annotated with the epoch and dataset index). After an
  // error the epoch is stopped and Next() keeps returning that error until StartEpoch().
  // FailedPrecondition before the first StartEpoch().
  absl::StatusOr<std::optional<Batch>> Next();

 private:
  DataLoader(const Dataset* dataset, SampleTransform transform, LoaderOptions options);

  // Builds batch `step` of the current epoch. Thread-safe; never throws.
  absl::StatusOr<Batch> MakeBatch(int64_t step) const;
  void WorkerLoop();
  void StopWorkers();

  const Dataset* const dataset_;
  const SampleTransform transform_;
  const LoaderOptions options_;
  int64_t num_samples_ = 0;  // per rank per epoch
  int64_t num_batches_ = 0;

  // Epoch state: written only by the consumer thread while no worker runs.
  bool epoch_started_ = false;
  int64_t epoch_ = 0;
  std::vector<int64_t> order_;  // dataset indices this rank visits, in order
  int64_t next_step_ = 0;       // next batch Next() returns
  absl::Status error_;          // sticky error of the epoch

  // Shared with workers, guarded by mu_.
  std::mutex mu_;
  std::condition_variable work_cv_;   // workers wait for room in the prefetch window
  std::condition_variable ready_cv_;  // the consumer waits for batch next_step_
  bool stop_ = false;
  int64_t next_claim_ = 0;      // next batch a worker builds
  int64_t consumed_ = 0;        // batches taken by Next() (mirror of next_step_ under mu_)
  std::map<int64_t, absl::StatusOr<Batch>> ready_;
  std::vector<std::thread> workers_;
};

}  // namespace mochi::data

#endif  // MOCHI_DATA_LOADER_H_
