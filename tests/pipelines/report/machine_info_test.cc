#include "pipelines/report/machine_info.h"

#include "gtest/gtest.h"

namespace mochi::report {
namespace {

TEST(MachineInfoTest, DescribesCpuCoresAndMemory) {
  const char cpuinfo[] =
      "processor\t: 0\nmodel name\t: Test EPYC 7B13\nflags\t\t: fpu\n\n"
      "processor\t: 1\nmodel name\t: Test EPYC 7B13\n";
  const char meminfo[] = "MemTotal:        8388608 kB\nMemFree:         1 kB\n";
  EXPECT_EQ(DescribeMachine(cpuinfo, meminfo), "Test EPYC 7B13, 2 logical cores, 8.0 GiB memory");
  EXPECT_EQ(DescribeMachine("", ""), "unknown CPU, unknown core count, unknown memory");
}

TEST(MachineInfoTest, Durations) {
  EXPECT_EQ(FormatDuration(42), "42 s");
  EXPECT_EQ(FormatDuration(754), "12.6 min");
  EXPECT_EQ(FormatDuration(9000), "2.50 h");
}

}  // namespace
}  // namespace mochi::report
