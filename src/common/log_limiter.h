// Keeps a flood from becoming a flood of log lines: at most one line per
// kind per interval, and the next line that passes says how many were
// left out meanwhile.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace southgate {

class LogLimiter {
 public:
  explicit LogLimiter(
      std::chrono::steady_clock::duration interval = std::chrono::seconds(1))
      : interval_(interval) {}

  // The number of lines of `kind` suppressed since the last one logged
  // when this one may be logged now; nullopt when it must be left out.
  std::optional<uint64_t> Admit(const std::string& kind) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    Slot& slot = slots_[kind];
    if (slot.logged_once && now - slot.last < interval_) {
      ++slot.suppressed;
      return std::nullopt;
    }
    const uint64_t suppressed = slot.suppressed;
    slot = Slot{now, true, 0};
    return suppressed;
  }

  // " [N more not logged]" for a nonzero count, else "".
  static std::string Suffix(uint64_t suppressed) {
    return suppressed == 0 ? std::string()
                           : " [" + std::to_string(suppressed) +
                                 " more like this not logged]";
  }

 private:
  struct Slot {
    std::chrono::steady_clock::time_point last;
    bool logged_once = false;
    uint64_t suppressed = 0;
  };
  const std::chrono::steady_clock::duration interval_;
  std::mutex mutex_;
  // Kinds are a fixed set chosen by the code, never client input.
  std::unordered_map<std::string, Slot> slots_;
};

}  // namespace southgate
