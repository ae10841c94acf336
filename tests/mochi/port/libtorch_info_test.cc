// The LibTorch read at run time: the wheel's MKL, and the version the headers promised.
#include "mochi/port/libtorch_info.h"

#include <string>

#include "gtest/gtest.h"
#include "torch/version.h"

namespace mochi {
namespace {

// The matmuls of the queue products must not fall back to a reference BLAS (~30x slower): the
// linked LibTorch reports its BLAS, and the wheel's is MKL.
TEST(CpuThreadsTest, TheLinkedLibTorchHasMkl) {
  const LibTorchInfo info = LinkedLibTorch();
  EXPECT_TRUE(info.has_mkl);
  EXPECT_EQ(info.blas, "mkl");
  EXPECT_EQ(info.version, TORCH_VERSION);  // headers and library agree
}

TEST(BuildSettingTest, ReadsOneSettingOfTheBuildSettingsLine) {
  const std::string text =
      "  - Build settings: BLAS_INFO=mkl, BUILD_TYPE=Release, TORCH_VERSION=2.11.0, USE_CUDA=ON\n";
  EXPECT_EQ(BuildSetting(text, "BLAS_INFO"), "mkl");
  EXPECT_EQ(BuildSetting(text, "TORCH_VERSION"), "2.11.0");
  EXPECT_EQ(BuildSetting(text, "USE_CUDA"), "ON");
  EXPECT_EQ(BuildSetting(text, "CUDA"), "unknown");  // not the tail of USE_CUDA
  EXPECT_EQ(BuildSetting(text, "USE_ROCM"), "unknown");
}

}  // namespace
}  // namespace mochi
