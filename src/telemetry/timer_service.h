// One thread with a deadline-ordered queue that runs short callbacks for
// every stream's SAMPLE and heartbeat timers (never a thread per stream).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace southgate::telemetry {

class TimerService {
 public:
  using Clock = std::chrono::steady_clock;

  // A scheduled callback. Cancel() waits for a run in progress, so once it
  // returns the callback never runs again (called on the timer thread itself
  // it only marks the timer, as that run is the caller).
  class Timer {
   public:
    void Cancel();

   private:
    friend class TimerService;
    std::mutex mutex;  // held while the callback runs
    std::atomic<bool> cancelled{false};
    Clock::duration period{};  // zero: one-shot
    std::function<void()> callback;
  };

  TimerService();
  ~TimerService();
  TimerService(const TimerService&) = delete;
  TimerService& operator=(const TimerService&) = delete;

  // Runs `callback` on the timer thread after `delay`, then every `period`
  // (zero: once). Callbacks must be short and must not block.
  std::shared_ptr<Timer> Schedule(Clock::duration delay, Clock::duration period,
                                  std::function<void()> callback);
  // Runs `callback` soon on the timer thread (for work that must leave the
  // calling thread, e.g. releasing subscriptions from under a lock).
  void Post(std::function<void()> callback) {
    Schedule(Clock::duration::zero(), Clock::duration::zero(),
             std::move(callback));
  }
  void Stop();

 private:
  struct Entry {
    Clock::time_point due;
    uint64_t sequence;
    std::shared_ptr<Timer> timer;
    bool operator>(const Entry& other) const {
      return due != other.due ? due > other.due : sequence > other.sequence;
    }
  };
  void Run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue_;
  uint64_t sequence_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace southgate::telemetry
