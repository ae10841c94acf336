#include "mochi/port/cpu_threads.h"

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

}  // namespace
}  // namespace mochi
