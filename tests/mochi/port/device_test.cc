// run.device resolution: CPU always; CUDA only where the binary has it and the machine has a GPU,
// with an error that says which of the two is missing. The test runs in both builds (plain and
// --config=cuda) and on machines with or without a GPU, and checks the answer each must give.
#include "mochi/port/device.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/port/cuda_runtime.h"
#include "tests/testing/status_matchers.h"
#include "torch/cuda.h"

namespace mochi {
namespace {

using ::mochi::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ResolveDeviceTest, CpuIsAlwaysThere) {
  absl::StatusOr<c10::Device> device = ResolveDevice("cpu");
  MOCHI_ASSERT_OK(device);
  EXPECT_TRUE(device->is_cpu());
}

TEST(ResolveDeviceTest, RejectsWhatIsNotADevice) {
  EXPECT_THAT(ResolveDevice("gpu0"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is not a device")));
  EXPECT_THAT(ResolveDevice(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ResolveDevice("meta"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("only \"cpu\" and \"cuda\"")));
}

TEST(ResolveDeviceTest, CudaSaysWhatIsMissing) {
  if (!CudaBuiltIn()) {
    EXPECT_THAT(ResolveDevice("cuda"), StatusIs(absl::StatusCode::kFailedPrecondition,
                                                 HasSubstr("built without CUDA")));
    EXPECT_EQ(DescribeCudaRuntime(), "cuda: not built in (bazel --config=cuda)");
    return;
  }
  // A --config=cuda build: libtorch_cuda is linked, so its hooks answer device_count().
  const int64_t count = torch::cuda::device_count();
  EXPECT_THAT(DescribeCudaRuntime(), HasSubstr("cuda runtime 130"));
  if (count == 0) {
    EXPECT_THAT(ResolveDevice("cuda"), StatusIs(absl::StatusCode::kFailedPrecondition,
                                                HasSubstr("no CUDA device is present")));
    return;
  }
  absl::StatusOr<c10::Device> device = ResolveDevice("cuda", /*default_cuda_index=*/0);
  MOCHI_ASSERT_OK(device);
  EXPECT_TRUE(device->is_cuda());
  EXPECT_EQ(device->index(), 0);
  EXPECT_THAT(ResolveDevice("cuda:" + std::to_string(count)),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("CUDA device(s)")));
}

}  // namespace
}  // namespace mochi
