// Early-return helpers that keep absl::Status call sites flat.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SOUTHGATE_CONCAT_INNER(a, b) a##b
#define SOUTHGATE_CONCAT(a, b) SOUTHGATE_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    ::absl::Status status_macro_ = (expr);         \
    if (!status_macro_.ok()) return status_macro_; \
  } while (0)

#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()

#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(SOUTHGATE_CONCAT(statusor_, __LINE__), lhs, expr)
