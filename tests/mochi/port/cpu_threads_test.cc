#include "mochi/port/cpu_threads.h"

#include <dlfcn.h>

#include <thread>

#include "ATen/Parallel.h"
#include "gtest/gtest.h"

namespace mochi {
namespace {

TEST(CpuThreadsTest, SetsTheRequestedIntraOpThreads) {
  const CpuThreads threads = ConfigureCpuThreads(2);
  EXPECT_EQ(threads.intra_op, 2);
  EXPECT_EQ(at::get_num_threads(), 2);
}

TEST(CpuThreadsTest, ZeroMeansOneThreadPerHardwareThread) {
  const CpuThreads threads = ConfigureCpuThreads(0);
  EXPECT_EQ(threads.intra_op, static_cast<int>(std::thread::hardware_concurrency()));
}

// tools/setup.sh installs libopenblas0-pthread; without it matmul runs on reference BLAS, ~30x
// slower (../shared/notes/toolchain.md), so its absence is a setup defect worth failing on.
TEST(CpuThreadsTest, OpenBlasIsLoadedAndMovedToTheCallingThread) {
  using SetThreads = void (*)(int);
  const auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  ASSERT_NE(set, nullptr) << "libblas.so.3 is not OpenBLAS: run tools/setup.sh";
  set(2);  // as if the environment had asked for a pool
  EXPECT_EQ(ConfigureCpuThreads(2).blas, 1);
}

}  // namespace
}  // namespace mochi
