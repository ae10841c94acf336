#include "mochi/port/run_environment.h"

#include <cstdlib>
#include <string>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mochi {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(RunEnvironmentTest, TheActionsRevisionWinsAndKeysComeInOrder) {
  setenv("MOCHI_GIT_REVISION", "abc123 (with uncommitted changes)", 1);
  EXPECT_EQ(CodeRevision(), "abc123 (with uncommitted changes)");
  const std::string text = RunEnvironmentText(
      "cpu", 2, {{"dataset", "fashion_mnist(train)"}, {"processes", "1"}},
      absl::FromUnixSeconds(0));
  EXPECT_THAT(text, StartsWith("git_revision: abc123 (with uncommitted changes)\nlibtorch: "));
  EXPECT_THAT(text, HasSubstr("\ndevice: cpu\nintra_op_threads: 2\ncpu: "));
  EXPECT_THAT(text, HasSubstr("\ndataset: fashion_mnist(train)\nprocesses: 1\n"));
  // In the machine's time zone, as every env.txt writes it.
  EXPECT_THAT(text, HasSubstr("\nstarted: " + absl::FormatTime(absl::FromUnixSeconds(0)) + "\n"));
  EXPECT_EQ(text.back(), '\n');
}

TEST(RunEnvironmentTest, CpuModelFromCpuinfo) {
  EXPECT_EQ(CpuModel("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9B14\n"
                     "processor\t: 1\nmodel name\t: AMD EPYC 9B14\n"),
            "AMD EPYC 9B14");
  EXPECT_EQ(CpuModel("processor\t: 0\nmodel name\t:   \n"), "unknown CPU");
  EXPECT_EQ(CpuModel(""), "unknown CPU");
}

TEST(RunEnvironmentTest, WithoutRevisionOrWorkspaceItIsUnknown) {
  unsetenv("MOCHI_GIT_REVISION");
  unsetenv("BUILD_WORKSPACE_DIRECTORY");
  EXPECT_EQ(CodeRevision(), "unknown");
}

}  // namespace
}  // namespace mochi
