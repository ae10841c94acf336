#include "bench/counting_allocator.h"

#include <mutex>
#include <unordered_map>

#include "c10/core/CPUAllocator.h"
#include "c10/util/Exception.h"

namespace mochi::bench {
namespace {

// What Free() needs for a counted pointer. The DataPtr's context must be its data pointer
// (raw_allocate asserts it), so this lives in a table keyed by the pointer.
struct Counted {
  int64_t bytes;
  std::atomic<int64_t>* live;
  c10::DeleterFnPtr wrapped_deleter;
};

std::mutex& TableMutex() {
  static auto* const mutex = new std::mutex;
  return *mutex;
}

std::unordered_map<void*, Counted>& Table() {
  static auto* const table = new std::unordered_map<void*, Counted>;
  return *table;
}

// Frees raw allocations made while counting was off (they are not in the table).
std::atomic<c10::DeleterFnPtr> uncounted_raw_deleter{nullptr};

}  // namespace

CountingCpuAllocator::CountingCpuAllocator(c10::Allocator* wrapped) : wrapped_(wrapped) {
  TORCH_CHECK(wrapped->raw_deleter() != nullptr,
              "CountingCpuAllocator: the wrapped allocator has no raw deleter");
  uncounted_raw_deleter.store(wrapped->raw_deleter());
}

CountingCpuAllocator* CountingCpuAllocator::Install() {
  // Never deleted: tensors may outlive main().
  static CountingCpuAllocator* const instance = [] {
    auto* allocator = new CountingCpuAllocator(c10::GetCPUAllocator());
    allocator->set_enabled(false);
    c10::SetCPUAllocator(allocator, /*priority=*/1);
    return allocator;
  }();
  return instance;
}

c10::DataPtr CountingCpuAllocator::allocate(size_t bytes) {
  c10::DataPtr wrapped = wrapped_->allocate(bytes);
  if (!enabled_.load()) return wrapped;
  void* data = wrapped.get();
  // Empty allocations, and allocators whose context is not the data pointer, pass uncounted.
  if (data == nullptr || wrapped.get_context() != data) return wrapped;
  const c10::DeleterFnPtr wrapped_deleter = wrapped.get_deleter();
  wrapped.release_context();
  {
    std::lock_guard<std::mutex> lock(TableMutex());
    Table()[data] = Counted{static_cast<int64_t>(bytes), &live_, wrapped_deleter};
  }
  const int64_t now = live_ += static_cast<int64_t>(bytes);
  int64_t peak = peak_.load();
  while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
  }
  return {data, data, &Free, c10::Device(c10::DeviceType::CPU)};
}

void CountingCpuAllocator::Free(void* data) {
  if (data == nullptr) return;  // raw_deallocate of an empty raw_allocate
  Counted counted;
  {
    std::lock_guard<std::mutex> lock(TableMutex());
    auto it = Table().find(data);
    if (it == Table().end()) {  // raw_allocate'd while counting was off
      uncounted_raw_deleter.load()(data);
      return;
    }
    counted = it->second;
    Table().erase(it);
  }
  *counted.live -= counted.bytes;
  counted.wrapped_deleter(data);
}

}  // namespace mochi::bench
