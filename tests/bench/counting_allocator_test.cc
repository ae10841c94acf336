#include "bench/counting_allocator.h"

#include "ATen/ATen.h"
#include "c10/core/CPUAllocator.h"
#include "gtest/gtest.h"

namespace mochi::bench {
namespace {

TEST(CountingCpuAllocatorTest, CountsLiveBytesAndKeepsThePeak) {
  CountingCpuAllocator counting(c10::GetDefaultCPUAllocator());
  {
    c10::DataPtr a = counting.allocate(100);
    c10::DataPtr b = counting.allocate(28);
    EXPECT_NE(a.get(), nullptr);
    EXPECT_EQ(counting.live(), 128);
    a.clear();  // frees through the wrapped allocator's deleter
    EXPECT_EQ(counting.live(), 28);
    c10::DataPtr c = counting.allocate(50);
    EXPECT_EQ(counting.live(), 78);
  }
  EXPECT_EQ(counting.live(), 0);
  EXPECT_EQ(counting.peak(), 128);
  counting.ResetPeak();
  EXPECT_EQ(counting.peak(), 0);
  c10::DataPtr d = counting.allocate(10);
  EXPECT_EQ(counting.peak(), 10);
}

// oneDNN allocates through raw_allocate, which needs context == data and a raw deleter.
TEST(CountingCpuAllocatorTest, RawAllocationsAreCountedAndFreed) {
  CountingCpuAllocator counting(c10::GetDefaultCPUAllocator());
  void* raw = counting.raw_allocate(64);
  ASSERT_NE(raw, nullptr);
  EXPECT_EQ(counting.live(), 64);
  counting.raw_deallocate(raw);
  EXPECT_EQ(counting.live(), 0);
  c10::DataPtr empty = counting.allocate(0);  // nothing to count
  EXPECT_EQ(counting.live(), 0);
  counting.raw_deallocate(counting.raw_allocate(0));  // oneDNN does this; must not throw
}

TEST(CountingCpuAllocatorTest, InstalledItCountsTensorStorage) {
  // Allocated before Install(): freed after it, never counted.
  const at::Tensor before = at::ones({300}, at::kFloat);
  CountingCpuAllocator* memory = CountingCpuAllocator::Install();
  EXPECT_EQ(CountingCpuAllocator::Install(), memory);
  EXPECT_EQ(c10::GetCPUAllocator(), memory);
  // Installed disabled: nothing counted, raw allocations still freed.
  const int64_t off = memory->live();
  const at::Tensor uncounted = at::empty({100}, at::kFloat);
  memory->raw_deallocate(memory->raw_allocate(32));
  EXPECT_EQ(memory->live(), off);
  memory->set_enabled(true);
  const int64_t base = memory->live();
  memory->ResetPeak();
  {
    const at::Tensor floats = at::empty({1000}, at::kFloat);
    EXPECT_EQ(memory->live() - base, 4000);
    const at::Tensor doubles = at::empty({250}, at::kDouble);
    EXPECT_EQ(memory->live() - base, 6000);
    // Tensors still compute through the wrapper, convolutions included.
    EXPECT_EQ(at::arange(10, at::kLong).sum().item<int64_t>(), 45);
    const at::Tensor image = at::ones({1, 1, 8, 8});
    EXPECT_FLOAT_EQ(at::conv2d(image, at::ones({2, 1, 3, 3})).sum().item<float>(), 2 * 36 * 9);
  }
  EXPECT_EQ(memory->live(), base);
  EXPECT_GE(memory->peak() - base, 6000);
  memory->set_enabled(false);
  EXPECT_FLOAT_EQ(before.sum().item<float>(), 300.0f);
}

}  // namespace
}  // namespace mochi::bench
