#include "mochi/data/loader.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ATen/ATen.h"
#include "ATen/core/grad_mode.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/data/dataset.h"
#include "mochi/data/rng.h"
#include "tests/testing/status_matchers.h"

namespace mochi::data {
namespace {

using ::mochi::testing::StatusIs;
using ::testing::HasSubstr;

constexpr int64_t kSize = 103;

// Images [1, 4, 4] whose pixel (0, 0) is index % 256 and (0, 1) index / 256; label index % 10.
class IndexDataset : public Dataset {
 public:
  explicit IndexDataset(int64_t size, int64_t failing_index = -1)
      : size_(size), failing_index_(failing_index) {}

  int64_t size() const override { return size_; }
  int num_classes() const override { return 10; }
  int channels() const override { return 1; }
  absl::StatusOr<Example> Get(int64_t index) const override {
    if (index < 0 || index >= size_) return absl::OutOfRangeError(absl::StrCat("index ", index));
    if (index == failing_index_) {
      return absl::DataLossError(absl::StrCat("corrupt record ", index));
    }
    Example example;
    example.image = at::zeros({1, 4, 4}, at::kByte);
    example.image[0][0][0] = index % 256;
    example.image[0][0][1] = index / 256;
    example.label = index % 10;
    return example;
  }
  std::string Describe() const override { return absl::StrCat("index_dataset(", size_, ")"); }

 private:
  int64_t size_;
  int64_t failing_index_;
};

// Two views: image + seeded noise in [0, 0.5) per pixel, so floor() recovers the pixel and any
// seed mix-up changes the bits. Sleeps a little, varying by index, so workers finish out of
// order.
absl::StatusOr<std::vector<at::Tensor>> NoisyViews(const Example& example, uint64_t seed) {
  std::this_thread::sleep_for(std::chrono::microseconds(50 * (example.label % 3)));
  std::vector<at::Tensor> views;
  for (int v = 0; v < 2; ++v) {
    Rng rng(MixSeed(seed, v));
    at::Tensor noise = at::empty({1, 4, 4}, at::kFloat);
    float* data = noise.data_ptr<float>();
    for (int i = 0; i < 16; ++i) data[i] = static_cast<float>(rng.Uniform(0.0, 0.5));
    views.push_back(example.image.to(at::kFloat) + noise);
  }
  return views;
}

LoaderOptions Options(int64_t batch_size) {
  LoaderOptions o;
  o.batch_size = batch_size;
  o.seed = 1234;
  return o;
}

std::unique_ptr<DataLoader> MakeLoader(const Dataset* dataset, const LoaderOptions& options,
                                       SampleTransform transform = NoisyViews) {
  absl::StatusOr<std::unique_ptr<DataLoader>> loader =
      DataLoader::Create(dataset, std::move(transform), options);
  EXPECT_TRUE(loader.ok()) << loader.status();
  return loader.ok() ? *std::move(loader) : nullptr;
}

std::vector<Batch> RunEpoch(DataLoader& loader, int64_t epoch) {
  std::vector<Batch> batches;
  EXPECT_TRUE(loader.StartEpoch(epoch).ok());
  while (true) {
    absl::StatusOr<std::optional<Batch>> next = loader.Next();
    EXPECT_TRUE(next.ok()) << next.status();
    if (!next.ok() || !next->has_value()) break;
    batches.push_back(std::move(**next));
  }
  return batches;
}

std::vector<int64_t> Indices(const std::vector<Batch>& batches) {
  std::vector<int64_t> indices;
  for (const Batch& batch : batches) {
    for (int64_t i = 0; i < batch.indices.size(0); ++i) {
      indices.push_back(batch.indices[i].item<int64_t>());
    }
  }
  return indices;
}

void ExpectSameBatches(const std::vector<Batch>& a, const std::vector<Batch>& b,
                       const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].step_in_epoch, b[i].step_in_epoch) << what;
    ASSERT_EQ(a[i].views.size(), b[i].views.size()) << what;
    for (size_t v = 0; v < a[i].views.size(); ++v) {
      EXPECT_TRUE(at::equal(a[i].views[v], b[i].views[v])) << what << " batch " << i;
    }
    EXPECT_TRUE(at::equal(a[i].labels, b[i].labels)) << what << " batch " << i;
    EXPECT_TRUE(at::equal(a[i].indices, b[i].indices)) << what << " batch " << i;
  }
}

TEST(DataLoaderTest, BatchesIdenticalForAnyWorkerCountAndPrefetch) {
  IndexDataset dataset(kSize);
  LoaderOptions o = Options(8);
  o.num_workers = 0;
  std::unique_ptr<DataLoader> reference = MakeLoader(&dataset, o);
  ASSERT_NE(reference, nullptr);
  const std::vector<Batch> epoch0 = RunEpoch(*reference, 0);
  const std::vector<Batch> epoch1 = RunEpoch(*reference, 1);
  ASSERT_EQ(epoch0.size(), 12u);  // floor(103 / 8)
  for (int workers : {1, 2, 3}) {
    for (int prefetch : {1, 4}) {
      o.num_workers = workers;
      o.prefetch_batches = prefetch;
      std::unique_ptr<DataLoader> loader = MakeLoader(&dataset, o);
      ASSERT_NE(loader, nullptr);
      const std::string what = absl::StrCat("workers ", workers, " prefetch ", prefetch);
      ExpectSameBatches(RunEpoch(*loader, 0), epoch0, what + " epoch 0");
      ExpectSameBatches(RunEpoch(*loader, 1), epoch1, what + " epoch 1");
    }
  }
}

TEST(DataLoaderTest, BatchContentsMatchIndicesAndShapes) {
  IndexDataset dataset(kSize);
  LoaderOptions o = Options(8);
  std::unique_ptr<DataLoader> loader = MakeLoader(&dataset, o);
  ASSERT_NE(loader, nullptr);
  for (const Batch& batch : RunEpoch(*loader, 3)) {
    ASSERT_EQ(batch.views.size(), 2u);
    EXPECT_EQ(batch.views[0].sizes(), at::IntArrayRef({8, 1, 4, 4}));
    EXPECT_EQ(batch.views[0].scalar_type(), at::kFloat);
    EXPECT_FALSE(batch.views[0].requires_grad());
    EXPECT_EQ(batch.labels.scalar_type(), at::kLong);
    EXPECT_EQ(batch.indices.scalar_type(), at::kLong);
    EXPECT_TRUE(at::equal(batch.labels, batch.indices.remainder(10)));
    at::Tensor decoded = batch.views[1].select(1, 0).select(1, 0).select(1, 0).floor().to(at::kLong);
    EXPECT_TRUE(at::equal(decoded, batch.indices.remainder(256)));
    // The two views of a sample use different seeds.
    EXPECT_FALSE(at::equal(batch.views[0], batch.views[1]));
  }
}

TEST(DataLoaderTest, EveryIndexOncePerEpochWithPartialLastBatch) {
  IndexDataset dataset(kSize);
  LoaderOptions o = Options(10);
  o.drop_last = false;
  std::unique_ptr<DataLoader> loader = MakeLoader(&dataset, o);
  ASSERT_NE(loader, nullptr);
  EXPECT_EQ(loader->batches_per_epoch(), 11);
  for (int64_t epoch : {0, 1}) {
    const std::vector<Batch> batches = RunEpoch(*loader, epoch);
    ASSERT_EQ(batches.size(), 11u);
    for (size_t i = 0; i < batches.size(); ++i) {
      EXPECT_EQ(batches[i].step_in_epoch, static_cast<int64_t>(i));
      EXPECT_EQ(batches[i].indices.size(0), i + 1 < batches.size() ? 10 : 3);
      EXPECT_EQ(batches[i].views[0].size(0), batches[i].indices.size(0));
    }
    std::vector<int64_t> indices = Indices(batches);
    std::multiset<int64_t> seen(indices.begin(), indices.end());
    ASSERT_EQ(seen.size(), static_cast<size_t>(kSize));
    for (int64_t i = 0; i < kSize; ++i) EXPECT_EQ(seen.count(i), 1u) << "index " << i;
  }
}

TEST(DataLoaderTest, DropLastDropsPartialBatch) {
  IndexDataset dataset(kSize);
  std::unique_ptr<DataLoader> loader = MakeLoader(&dataset, Options(10));
  ASSERT_NE(loader, nullptr);
  EXPECT_EQ(loader->batches_per_epoch(), 10);
  const std::vector<Batch> batches = RunEpoch(*loader, 0);
  ASSERT_EQ(batches.size(), 10u);
  for (const Batch& batch : batches) EXPECT_EQ(batch.indices.size(0), 10);
  const std::vector<int64_t> indices = Indices(batches);
  EXPECT_EQ(std::set<int64_t>(indices.begin(), indices.end()).size(), 100u);
  // After the last batch, Next() keeps reporting the end of the epoch.
  absl::StatusOr<std::optional<Batch>> next = loader->Next();
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->has_value());
}

TEST(DataLoaderTest, ShuffleDiffersAcrossEpochsAndIsReproducible) {
  IndexDataset dataset(kSize);
  LoaderOptions o = Options(10);
  o.drop_last = false;
  std::unique_ptr<DataLoader> a = MakeLoader(&dataset, o);
  std::unique_ptr<DataLoader> b = MakeLoader(&dataset, o);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  const std::vector<int64_t> a0 = Indices(RunEpoch(*a, 0));
  const std::vector<int64_t> a1 = Indices(RunEpoch(*a, 1));
  EXPECT_NE(a0, a1);
  EXPECT_EQ(a0, Permutation(kSize, MixSeed(o.seed, 0)));
  // A fresh loader (a new run) reproduces both epochs, in either order.
  EXPECT_EQ(Indices(RunEpoch(*b, 1)), a1);
  EXPECT_EQ(Indices(RunEpoch(*b, 0)), a0);
  // Another seed shuffles differently; no shuffle is the identity.
  o.seed = 99;
  std::unique_ptr<DataLoader> c = MakeLoader(&dataset, o);
  ASSERT_NE(c, nullptr);
  EXPECT_NE(Indices(RunEpoch(*c, 0)), a0);
  o.shuffle = false;
  std::unique_ptr<DataLoader> d = MakeLoader(&dataset, o);
  ASSERT_NE(d, nullptr);
  std::vector<int64_t> identity(kSize);
  for (int64_t i = 0; i < kSize; ++i) identity[i] = i;
  EXPECT_EQ(Indices(RunEpoch(*d, 0)), identity);
  EXPECT_EQ(Indices(RunEpoch(*d, 1)), identity);
}

TEST(DataLoaderTest, DistributedShardsAreDisjointAndCover) {
  IndexDataset dataset(kSize);
  for (bool drop_last : {true, false}) {
    std::vector<std::vector<int64_t>> shards;
    for (int rank : {0, 1}) {
      LoaderOptions o = Options(17);
      o.world_size = 2;
      o.rank = rank;
      o.drop_last = drop_last;
      std::unique_ptr<DataLoader> loader = MakeLoader(&dataset, o);
      ASSERT_NE(loader, nullptr);
      shards.push_back(Indices(RunEpoch(*loader, 5)));
    }
    const std::vector<int64_t> perm = Permutation(kSize, MixSeed(1234, 5));
    if (drop_last) {
      // floor(103 / 2) = 51 = 3 batches of 17 per rank.
      ASSERT_EQ(shards[0].size(), 51u);
      ASSERT_EQ(shards[1].size(), 51u);
    } else {
      ASSERT_EQ(shards[0].size(), 52u);
      ASSERT_EQ(shards[1].size(), 51u);
    }
    // Rank r takes positions r, r + 2, ... of the epoch's permutation.
    for (int rank : {0, 1}) {
      for (size_t k = 0; k < shards[rank].size(); ++k) {
        ASSERT_EQ(shards[rank][k], perm[rank + 2 * k]) << "rank " << rank << " k " << k;
      }
    }
    std::set<int64_t> all(shards[0].begin(), shards[0].end());
    all.insert(shards[1].begin(), shards[1].end());
    EXPECT_EQ(all.size(), shards[0].size() + shards[1].size()) << "shards overlap";
    EXPECT_EQ(all.size(), drop_last ? 102u : 103u);
  }
}

TEST(DataLoaderTest, DatasetErrorSurfacesFromNext) {
  constexpr int64_t kBad = 57;
  IndexDataset dataset(kSize, kBad);
  for (int workers : {0, 2}) {
    LoaderOptions o = Options(8);
    o.num_workers = workers;
    o.shuffle = false;
    std::unique_ptr<DataLoader> loader = MakeLoader(&dataset, o);
    ASSERT_NE(loader, nullptr);
    ASSERT_TRUE(loader->StartEpoch(0).ok());
    // Batches 0..6 hold indices 0..55; batch 7 holds 56..63.
    for (int step = 0; step < 7; ++step) {
      absl::StatusOr<std::optional<Batch>> next = loader->Next();
      ASSERT_TRUE(next.ok()) << next.status();
      ASSERT_TRUE(next->has_value());
    }
    absl::StatusOr<std::optional<Batch>> failed = loader->Next();
    EXPECT_THAT(failed, StatusIs(absl::StatusCode::kDataLoss, HasSubstr("corrupt record 57")));
    EXPECT_THAT(failed, StatusIs(absl::StatusCode::kDataLoss, HasSubstr("index 57")));
    // The epoch stays stopped.
    EXPECT_THAT(loader->Next(), StatusIs(absl::StatusCode::kDataLoss));
    // A new epoch starts cleanly (and fails at the same place).
    ASSERT_TRUE(loader->StartEpoch(1).ok());
    absl::StatusOr<std::optional<Batch>> next = loader->Next();
    while (next.ok() && next->has_value()) next = loader->Next();
    EXPECT_THAT(next, StatusIs(absl::StatusCode::kDataLoss, HasSubstr("corrupt record 57")));
  }
}

TEST(DataLoaderTest, TransformErrorsAndExceptionsBecomeStatus) {
  IndexDataset dataset(kSize);
  SampleTransform failing = [](const Example& example,
                               uint64_t seed) -> absl::StatusOr<std::vector<at::Tensor>> {
    if (example.label == 3) return absl::InvalidArgumentError("label 3 not allowed");
    return NoisyViews(example, seed);
  };
  SampleTransform throwing = [](const Example& example,
                                uint64_t seed) -> absl::StatusOr<std::vector<at::Tensor>> {
    if (example.label == 3) {
      // A shape error from LibTorch.
      return std::vector<at::Tensor>{at::matmul(at::ones({2, 3}), at::ones({2, 3}))};
    }
    return NoisyViews(example, seed);
  };
  for (int workers : {0, 3}) {
    LoaderOptions o = Options(8);
    o.num_workers = workers;
    std::unique_ptr<DataLoader> loader = MakeLoader(&dataset, o, failing);
    ASSERT_NE(loader, nullptr);
    ASSERT_TRUE(loader->StartEpoch(0).ok());
    absl::StatusOr<std::optional<Batch>> next = loader->Next();
    while (next.ok() && next->has_value()) next = loader->Next();
    EXPECT_THAT(next, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("label 3")));

    loader = MakeLoader(&dataset, o, throwing);
    ASSERT_NE(loader, nullptr);
    ASSERT_TRUE(loader->StartEpoch(0).ok());
    next = loader->Next();
    while (next.ok() && next->has_value()) next = loader->Next();
    EXPECT_THAT(next, StatusIs(absl::StatusCode::kInternal, HasSubstr("dataset index")));
  }
}

TEST(DataLoaderTest, WorkersRunWithoutAutograd) {
  IndexDataset dataset(kSize);
  std::atomic<int> grad_enabled{0};
  SampleTransform probe = [&grad_enabled](const Example& example, uint64_t seed) {
    if (at::GradMode::is_enabled()) ++grad_enabled;
    return NoisyViews(example, seed);
  };
  for (int workers : {0, 2}) {
    LoaderOptions o = Options(8);
    o.num_workers = workers;
    std::unique_ptr<DataLoader> loader = MakeLoader(&dataset, o, probe);
    ASSERT_NE(loader, nullptr);
    EXPECT_EQ(RunEpoch(*loader, 0).size(), 12u);
  }
  EXPECT_EQ(grad_enabled.load(), 0);
  // The caller's grad mode is untouched.
  EXPECT_TRUE(at::GradMode::is_enabled());
}

TEST(DataLoaderTest, DestroyOrRestartMidEpochDoesNotHang) {
  IndexDataset dataset(kSize);
  std::atomic<int> calls{0};
  SampleTransform slow = [&calls](const Example& example, uint64_t seed) {
    ++calls;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return NoisyViews(example, seed);
  };
  LoaderOptions o = Options(4);
  o.num_workers = 3;
  o.prefetch_batches = 2;
  {
    std::unique_ptr<DataLoader> loader = MakeLoader(&dataset, o, slow);
    ASSERT_NE(loader, nullptr);
    ASSERT_TRUE(loader->StartEpoch(0).ok());
    absl::StatusOr<std::optional<Batch>> next = loader->Next();
    ASSERT_TRUE(next.ok() && next->has_value());
    // Restart mid-epoch: the new epoch is complete and ordered.
    ASSERT_TRUE(loader->StartEpoch(1).ok());
    ASSERT_TRUE(loader->Next().ok());
    ASSERT_TRUE(loader->StartEpoch(1).ok());
    std::vector<Batch> batches;
    while (true) {
      absl::StatusOr<std::optional<Batch>> b = loader->Next();
      ASSERT_TRUE(b.ok());
      if (!b->has_value()) break;
      batches.push_back(std::move(**b));
    }
    ASSERT_EQ(batches.size(), 25u);
    for (size_t i = 0; i < batches.size(); ++i) EXPECT_EQ(batches[i].step_in_epoch, static_cast<int64_t>(i));
    // Destroy with workers mid-epoch, prefetch window full.
    ASSERT_TRUE(loader->StartEpoch(2).ok());
    ASSERT_TRUE(loader->Next().ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // The prefetch window bounds the work done ahead of the consumer: after one Next() workers
  // may have claimed batches 0..2 (1 consumed + 2 ahead) of 4 samples, and nothing more.
  calls = 0;
  {
    std::unique_ptr<DataLoader> loader = MakeLoader(&dataset, o, slow);
    ASSERT_NE(loader, nullptr);
    ASSERT_TRUE(loader->StartEpoch(0).ok());
    ASSERT_TRUE(loader->Next().ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_LE(calls.load(), (1 + o.prefetch_batches) * 4);
  }
  // Destroying before any Next(), and without any StartEpoch(), also returns.
  {
    std::unique_ptr<DataLoader> loader = MakeLoader(&dataset, o, slow);
    ASSERT_NE(loader, nullptr);
    ASSERT_TRUE(loader->StartEpoch(0).ok());
  }
  { std::unique_ptr<DataLoader> loader = MakeLoader(&dataset, o, slow); }
}

TEST(DataLoaderTest, CreateValidatesOptions) {
  IndexDataset dataset(kSize);
  LoaderOptions o = Options(0);
  EXPECT_THAT(DataLoader::Create(&dataset, NoisyViews, o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("batch_size")));
  o = Options(8);
  o.rank = 2;
  o.world_size = 2;
  EXPECT_THAT(DataLoader::Create(&dataset, NoisyViews, o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("rank")));
  o = Options(8);
  o.num_workers = -1;
  EXPECT_THAT(DataLoader::Create(&dataset, NoisyViews, o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("num_workers")));
  o = Options(8);
  o.prefetch_batches = 0;
  EXPECT_THAT(DataLoader::Create(&dataset, NoisyViews, o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("prefetch_batches")));
  o = Options(200);  // drop_last: no full batch
  EXPECT_THAT(DataLoader::Create(&dataset, NoisyViews, o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no batch")));
  o.drop_last = false;
  EXPECT_TRUE(DataLoader::Create(&dataset, NoisyViews, o).ok());
  EXPECT_THAT(DataLoader::Create(nullptr, NoisyViews, o),
              StatusIs(absl::StatusCode::kInvalidArgument));

  std::unique_ptr<DataLoader> loader = MakeLoader(&dataset, Options(8));
  ASSERT_NE(loader, nullptr);
  EXPECT_THAT(loader->Next(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(loader->StartEpoch(-1), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace mochi::data
