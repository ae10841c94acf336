// Status propagation macros (the project's own namespace; see style guide §8).
#ifndef MOCHI_PORT_STATUS_MACROS_H_
#define MOCHI_PORT_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define MOCHI_STATUS_CONCAT_INNER_(a, b) a##b
#define MOCHI_STATUS_CONCAT_(a, b) MOCHI_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define MOCHI_RETURN_IF_ERROR(expr)                  \
  do {                                               \
    ::absl::Status mochi_status_ = (expr);           \
    if (!mochi_status_.ok()) return mochi_status_;   \
  } while (false)

// `lhs = value of rexpr` (an absl::StatusOr<T>), or returns its error.
#define MOCHI_ASSIGN_OR_RETURN(lhs, rexpr) \
  MOCHI_ASSIGN_OR_RETURN_IMPL_(MOCHI_STATUS_CONCAT_(mochi_statusor_, __LINE__), lhs, rexpr)

#define MOCHI_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                 \
  if (!statusor.ok()) return statusor.status();            \
  lhs = std::move(statusor).value()

#endif  // MOCHI_PORT_STATUS_MACROS_H_
