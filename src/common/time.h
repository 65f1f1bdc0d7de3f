#pragma once

#include <chrono>
#include <cstdint>

namespace southgate {

// Nanoseconds since the Unix epoch, as gNMI timestamps are.
inline int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace southgate
