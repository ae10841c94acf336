// CountingCpuAllocator: LibTorch's CPU allocator wrapped to count the bytes of live tensor storage
// and their peak, for memory columns in benchmarks (e.g. the overhead figure's step peak).
//
// Only storage that LibTorch allocates through c10::GetCPUAllocator() is seen; scratch memory that
// OpenBLAS or oneDNN allocate themselves is not. Bytes are the sizes requested, before the
// allocator's alignment. While enabled, each allocation takes a mutex: fine for benchmarks, not
// for training.
//
// Example:
//   CountingCpuAllocator* memory = CountingCpuAllocator::Install();
//   memory->set_enabled(true);
//   const int64_t before = memory->live();
//   memory->ResetPeak();
//   Step();
//   const int64_t step_peak = memory->peak() - before;
#ifndef MOCHI_BENCH_COUNTING_ALLOCATOR_H_
#define MOCHI_BENCH_COUNTING_ALLOCATOR_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "c10/core/Allocator.h"

namespace mochi::bench {

class CountingCpuAllocator final : public c10::Allocator {
 public:
  // Wraps the current CPU allocator and makes the wrapper the CPU allocator (priority 1 wins over
  // LibTorch's 0), disabled. The first call installs it; later calls return the same instance.
  // Storage allocated before the call is never counted, even when freed later.
  static CountingCpuAllocator* Install();

  // Enabled. `wrapped` frees with a raw deleter that takes the data pointer alone (LibTorch's
  // default CPU allocator does).
  explicit CountingCpuAllocator(c10::Allocator* wrapped);

  c10::DataPtr allocate(size_t bytes) override;
  void copy_data(void* dest, const void* src, std::size_t count) const override {
    default_copy_data(dest, src, count);
  }
  // LibTorch's raw_allocate (used by oneDNN) needs a deleter that frees by data pointer alone.
  c10::DeleterFnPtr raw_deleter() const override { return &Free; }

  // While disabled (the default after Install), allocations pass straight through and are never
  // counted; counting itself slows allocation (a mutex and a table), so time with it off.
  void set_enabled(bool enabled) { enabled_.store(enabled); }

  // Bytes of counted storage alive now.
  int64_t live() const { return live_.load(); }
  // Largest live() since construction or the last ResetPeak().
  int64_t peak() const { return peak_.load(); }
  void ResetPeak() { peak_.store(live_.load()); }

 private:
  static void Free(void* data);

  c10::Allocator* wrapped_;
  std::atomic<bool> enabled_{true};
  mutable std::atomic<int64_t> live_{0};
  mutable std::atomic<int64_t> peak_{0};
};

}  // namespace mochi::bench

#endif  // MOCHI_BENCH_COUNTING_ALLOCATOR_H_
