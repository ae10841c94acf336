#include "mochi/ssl/row_top_n.h"

#include <limits>

#include "ATen/ATen.h"
#include "ATen/Parallel.h"
#include "c10/util/Exception.h"
#include "gtest/gtest.h"

namespace mochi::ssl {
namespace {

// Each row's indices in increasing order, so sets can be compared.
at::Tensor Sorted(const at::Tensor& indices) { return std::get<0>(indices.sort(1)); }

// The reference: a full descending sort's first n (values distinct, so the set is unique).
at::Tensor ReferenceTopN(const at::Tensor& values, int64_t n) {
  return std::get<1>(values.sort(1, /*descending=*/true)).slice(1, 0, n);
}

TEST(RowTopNTest, HandExample) {
  const at::Tensor values = at::tensor({0.1f, 0.9f, -0.5f, 0.7f, 0.3f}).reshape({1, 5});
  const at::Tensor top = RowTopN(values, 2);
  EXPECT_TRUE(at::equal(Sorted(top), at::tensor({1, 3}, at::kLong).reshape({1, 2})));
}

// The sizes the mixing uses (sampled path) and the ones that fall back to a whole-row sort.
TEST(RowTopNTest, SameSetAsAFullSortForEveryPath) {
  at::manual_seed(3);
  struct Case {
    int64_t batch, k, n;
  };
  for (const Case c : {Case{128, 4096, 256}, Case{128, 4096, 1024}, Case{16, 65536, 1024},
                       Case{16, 65536, 16384}, Case{8, 4096, 1}, Case{8, 4096, 4096},
                       Case{8, 300, 37}, Case{8, 4096, 2000}}) {
    const at::Tensor values = at::randn({c.batch, c.k});
    const at::Tensor top = RowTopN(values, c.n);
    ASSERT_EQ(top.sizes(), (at::IntArrayRef{c.batch, c.n}));
    EXPECT_TRUE(at::equal(Sorted(top), Sorted(ReferenceTopN(values, c.n))))
        << "B " << c.batch << " K " << c.k << " N " << c.n;
  }
}

// Similarities of a trained model are far from Gaussian: a few near 1, most near 0. Also rows
// sorted ascending or descending, where a strided sample sees the extremes.
TEST(RowTopNTest, SkewedAndSortedRows) {
  at::manual_seed(4);
  const at::Tensor skewed = at::rand({32, 4096}).pow(12);
  const at::Tensor ascending = at::arange(4096, at::kFloat).repeat({4, 1});
  const at::Tensor descending = ascending.flip(1);
  for (const at::Tensor& values : {skewed, ascending, descending}) {
    for (int64_t n : {256, 1024}) {
      EXPECT_TRUE(at::equal(Sorted(RowTopN(values, n)), Sorted(ReferenceTopN(values, n))));
    }
  }
}

// A row built so the strided sample overestimates the threshold: the sample (every 4th value at
// K = 4096) starts with 100 values far above the rest, and for n = 256 the threshold is the
// sample's 100th largest, which keeps only those 100. The row must fall back to a whole-row
// selection and still be exact.
TEST(RowTopNTest, MisjudgedSampleFallsBackToTheWholeRow) {
  at::manual_seed(8);
  at::Tensor values = at::rand({2, 4096});  // in [0, 1)
  for (int64_t i = 0; i < 100; ++i) values.select(1, 4 * i).fill_(10.0 + i);
  const int64_t n = 256;
  EXPECT_TRUE(at::equal(Sorted(RowTopN(values, n)), Sorted(ReferenceTopN(values, n))));
}

// Ties at the n-th value: any n indices whose values are the n largest are correct.
TEST(RowTopNTest, TiesAtTheBoundaryGiveTheTopValues) {
  at::manual_seed(5);
  const at::Tensor values = at::randint(0, 20, {16, 4096}).to(at::kFloat);
  const int64_t n = 300;
  const at::Tensor top = RowTopN(values, n);
  const at::Tensor taken = std::get<0>(values.gather(1, top).sort(1, /*descending=*/true));
  const at::Tensor expected = std::get<0>(values.sort(1, /*descending=*/true)).slice(1, 0, n);
  EXPECT_TRUE(at::equal(taken, expected));
  // No index twice.
  const at::Tensor sorted = Sorted(top);
  EXPECT_TRUE((sorted.slice(1, 1) > sorted.slice(1, 0, n - 1)).all().item<bool>());
}

TEST(RowTopNTest, SameResultForAnyThreadCount) {
  at::manual_seed(6);
  const at::Tensor values = at::randn({64, 4096});
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const at::Tensor one = RowTopN(values, 512);
  at::set_num_threads(2);
  const at::Tensor two = RowTopN(values, 512);
  at::set_num_threads(threads);
  EXPECT_TRUE(at::equal(one, two));
}

TEST(RowTopNTest, DoubleInputUsesTopkAndAgrees) {
  at::manual_seed(7);
  const at::Tensor values = at::randn({8, 4096}, at::kDouble);
  EXPECT_TRUE(at::equal(Sorted(RowTopN(values, 100)), Sorted(ReferenceTopN(values, 100))));
}

TEST(RowTopNTest, RejectsNaNAndBadN) {
  at::Tensor values = at::randn({4, 4096});
  values[2][77] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(RowTopN(values, 256), c10::Error);
  EXPECT_THROW(RowTopN(values.to(at::kDouble), 256), c10::Error);
  EXPECT_THROW(RowTopN(at::randn({4, 10}), 0), c10::Error);
  EXPECT_THROW(RowTopN(at::randn({4, 10}), 11), c10::Error);
  EXPECT_THROW(RowTopN(at::randn({10}), 1), c10::Error);
}

// The streamed selection keeps the same set as a full sort, for blocks smaller and larger than
// N, blocks that do not divide the row, N = K, and skewed rows whose threshold rises late.
TEST(StreamingRowTopNTest, SameSetAsAFullSortForAnyBlocking) {
  at::manual_seed(9);
  struct Case {
    int64_t batch, k, n, block;
  };
  for (const Case c : {Case{16, 4096, 256, 1000}, Case{16, 4096, 1024, 8192}, Case{8, 300, 37, 7},
                       Case{8, 300, 300, 64}, Case{8, 1000, 1, 33}, Case{4, 65536, 1024, 8192}}) {
    for (const bool skewed : {false, true}) {
      const at::Tensor values =
          skewed ? at::rand({c.batch, c.k}).pow(12) * at::linspace(0, 1, c.k) : at::randn({c.batch, c.k});
      StreamingRowTopN top(c.batch, c.n);
      for (int64_t first = 0; first < c.k; first += c.block) {
        top.Add(values.narrow(1, first, std::min(c.block, c.k - first)), first);
      }
      const StreamingRowTopN::Result result = top.Finish();
      ASSERT_EQ(result.indices.sizes(), (at::IntArrayRef{c.batch, c.n}));
      EXPECT_TRUE(at::equal(Sorted(result.indices), Sorted(ReferenceTopN(values, c.n))))
          << "B " << c.batch << " K " << c.k << " N " << c.n << " block " << c.block;
      EXPECT_TRUE(at::equal(result.values, values.gather(1, result.indices)));
    }
  }
}

TEST(StreamingRowTopNTest, FailsOnNaNAndOnTooFewColumns) {
  at::Tensor values = at::randn({4, 100});
  values[1][5] = std::numeric_limits<float>::quiet_NaN();
  StreamingRowTopN all(4, 100);
  all.Add(values, 0);
  EXPECT_THROW(all.Finish(), c10::Error);
  StreamingRowTopN short_rows(4, 50);
  short_rows.Add(at::randn({4, 49}), 0);
  EXPECT_THROW(short_rows.Finish(), c10::Error);
  EXPECT_THROW(short_rows.Add(at::randn({3, 10}), 49), c10::Error);
  EXPECT_THROW(short_rows.Add(at::randn({4, 10}, at::kDouble), 49), c10::Error);
}

}  // namespace
}  // namespace mochi::ssl
