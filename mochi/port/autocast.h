// Scoped bf16 autocast for one device type (LibTorch's C++ counterpart of torch.autocast):
// inside, matmuls and convolutions run in bfloat16 while reductions stay float32. Disabled, it
// does nothing, so callers can construct it unconditionally from a config flag.
#ifndef MOCHI_PORT_AUTOCAST_H_
#define MOCHI_PORT_AUTOCAST_H_

#include "ATen/autocast_mode.h"
#include "c10/core/DeviceType.h"
#include "c10/core/ScalarType.h"

namespace mochi {

class Bf16AutocastGuard {
 public:
  Bf16AutocastGuard(c10::DeviceType device_type, bool enabled)
      : device_type_(device_type), enabled_(enabled) {
    if (!enabled_) return;
    was_enabled_ = at::autocast::is_autocast_enabled(device_type_);
    previous_dtype_ = at::autocast::get_autocast_dtype(device_type_);
    at::autocast::set_autocast_enabled(device_type_, true);
    at::autocast::set_autocast_dtype(device_type_, at::kBFloat16);
    at::autocast::increment_nesting();
  }
  ~Bf16AutocastGuard() {
    if (!enabled_) return;
    // As torch.autocast's __exit__: the cast-weight cache lives for the outermost region only.
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(device_type_, was_enabled_);
    at::autocast::set_autocast_dtype(device_type_, previous_dtype_);
  }
  Bf16AutocastGuard(const Bf16AutocastGuard&) = delete;
  Bf16AutocastGuard& operator=(const Bf16AutocastGuard&) = delete;

 private:
  c10::DeviceType device_type_;
  bool enabled_;
  bool was_enabled_ = false;
  c10::ScalarType previous_dtype_ = at::kBFloat16;
};

}  // namespace mochi

#endif  // MOCHI_PORT_AUTOCAST_H_
