#include "telemetry/timer_service.h"

namespace southgate::telemetry {

namespace {
thread_local bool on_timer_thread = false;
}  // namespace

void TimerService::Timer::Cancel() {
  cancelled = true;
  if (on_timer_thread) return;
  std::lock_guard lock(mutex);
  callback = nullptr;  // drops what the callback captured right away
}

TimerService::TimerService() : thread_([this] { Run(); }) {}

TimerService::~TimerService() { Stop(); }

void TimerService::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stop_) return;
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Drop what pending callbacks hold now, while their owners still exist.
  decltype(queue_) pending;
  {
    std::lock_guard lock(mutex_);
    pending.swap(queue_);
  }
}

std::shared_ptr<TimerService::Timer> TimerService::Schedule(
    Clock::duration delay, Clock::duration period,
    std::function<void()> callback) {
  auto timer = std::make_shared<Timer>();
  timer->period = period;
  timer->callback = std::move(callback);
  {
    std::lock_guard lock(mutex_);
    if (stop_) return timer;
    queue_.push(Entry{Clock::now() + delay, sequence_++, timer});
  }
  wake_.notify_one();
  return timer;
}

void TimerService::Run() {
  on_timer_thread = true;
  std::unique_lock lock(mutex_);
  while (!stop_) {
    if (queue_.empty()) {
      wake_.wait(lock);
      continue;
    }
    auto now = Clock::now();
    if (queue_.top().due > now) {
      // A copy: a Schedule() while waiting may reallocate the queue.
      const Clock::time_point due = queue_.top().due;
      wake_.wait_until(lock, due);
      continue;
    }
    Entry entry = queue_.top();
    queue_.pop();
    lock.unlock();
    bool again = false;
    {
      std::lock_guard timer_lock(entry.timer->mutex);
      if (!entry.timer->cancelled && entry.timer->callback) {
        entry.timer->callback();
        again = entry.timer->period > Clock::duration::zero() &&
                !entry.timer->cancelled;
      }
      if (!again) entry.timer->callback = nullptr;
    }
    lock.lock();
    if (again) {
      // Fixed rate, but a late timer does not fire a burst to catch up.
      auto due = entry.due + entry.timer->period;
      now = Clock::now();
      if (due <= now) due = now + entry.timer->period;
      queue_.push(Entry{due, sequence_++, std::move(entry.timer)});
    }
  }
}

}  // namespace southgate::telemetry
