#include "mochi/port/torch_status.h"

#include "ATen/ATen.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mochi {
namespace {

using ::mochi::testing::StatusIs;
using ::testing::HasSubstr;

TEST(TorchToStatusTest, OkWhenNothingThrows) {
  MOCHI_EXPECT_OK(TorchToStatus("add", [] { at::ones({2}) + at::ones({2}); }));
}

TEST(TorchToStatusTest, ShapeErrorBecomesStatusWithContext) {
  absl::Status status = TorchToStatus("matmul", [] { at::matmul(at::ones({2, 3}), at::ones({2, 3})); });
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInternal, HasSubstr("matmul: ")));
}

TEST(TorchToStatusTest, ValueErrorIsInvalidArgument) {
  absl::Status status = TorchToStatus("check", [] { TORCH_CHECK_VALUE(false, "bad value 7"); });
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad value 7")));
}

}  // namespace
}  // namespace mochi
