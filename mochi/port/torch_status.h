// The one bridge from c10::Error (thrown by LibTorch) to absl::Status.
#ifndef MOCHI_PORT_TORCH_STATUS_H_
#define MOCHI_PORT_TORCH_STATUS_H_

#include <exception>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "c10/util/Exception.h"

namespace mochi {

// Runs `fn`, turning LibTorch exceptions into a Status prefixed with `context`.
template <typename Fn>
absl::Status TorchToStatus(absl::string_view context, Fn&& fn) {
  try {
    std::forward<Fn>(fn)();
  } catch (const c10::ValueError& e) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": ", e.what_without_backtrace()));
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat(context, ": ", e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(context, ": ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace mochi

#endif  // MOCHI_PORT_TORCH_STATUS_H_
