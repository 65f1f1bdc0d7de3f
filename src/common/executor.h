// A fixed pool of worker threads that runs tasks now or after a delay, and
// Strands on top of it that run one owner's tasks one at a time. Many owners
// (e.g. a thousand devices with keepalives, reconnects and polls) share a
// few threads instead of a thread each; a strand never holds more than one
// pool thread, so one slow owner cannot take the whole pool.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

namespace southgate {

class Executor {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Executor(size_t threads) {
    for (size_t i = 0; i < threads; ++i) {
      workers_.emplace_back([this] { Run(); });
    }
  }
  ~Executor() { Stop(); }
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  void Post(std::function<void()> task) {
    PostAt(Clock::now(), std::move(task));
  }
  void PostAfter(Clock::duration delay, std::function<void()> task) {
    PostAt(Clock::now() + delay, std::move(task));
  }
  // Tasks posted after Stop() (or pending at Stop()) are dropped unrun.
  void PostAt(Clock::time_point due, std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopped_) return;
      queue_.push(Entry{due, sequence_++, std::move(task)});
    }
    wake_.notify_one();
  }

  size_t threads() const { return workers_.size(); }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopped_) return;
      stopped_ = true;
    }
    wake_.notify_all();
    for (auto& worker : workers_) worker.join();
    // Dropped outside the lock: what the tasks captured may post again.
    decltype(queue_) pending;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      pending.swap(queue_);
    }
  }

 private:
  struct Entry {
    Clock::time_point due;
    uint64_t sequence;
    std::function<void()> task;
    bool operator>(const Entry& other) const {
      return due != other.due ? due > other.due : sequence > other.sequence;
    }
  };

  void Run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopped_) {
      if (queue_.empty()) {
        wake_.wait(lock);
        continue;
      }
      if (queue_.top().due > Clock::now()) {
        wake_.wait_until(lock, queue_.top().due);
        continue;
      }
      // priority_queue::top is const; the entry is popped right after.
      std::function<void()> task =
          std::move(const_cast<Entry&>(queue_.top()).task);
      queue_.pop();
      // Another worker may have to wait for a later deadline now.
      if (!queue_.empty()) wake_.notify_one();
      lock.unlock();
      task();
      task = nullptr;  // captured state released outside the lock
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue_;
  uint64_t sequence_ = 0;
  bool stopped_ = false;
  std::vector<std::thread> workers_;
};

// Runs its tasks in order, one at a time, on an Executor. Close() drops what
// is pending and waits for a task in progress, so afterwards nothing the
// owner posted runs again. Tasks must not call Close() of their own strand.
class Strand {
 public:
  explicit Strand(Executor& executor)
      : executor_(executor), state_(std::make_shared<State>()) {}
  ~Strand() { Close(); }
  Strand(const Strand&) = delete;
  Strand& operator=(const Strand&) = delete;

  void Post(std::function<void()> task) { Enqueue(state_, std::move(task)); }
  void PostAfter(Executor::Clock::duration delay, std::function<void()> task) {
    std::weak_ptr<State> weak = state_;
    Executor* executor = &executor_;
    executor_.PostAfter(delay, [weak, executor, task = std::move(task)] {
      if (auto state = weak.lock()) Enqueue(state, task, executor);
    });
  }

  bool closed() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->closed;
  }

  void Close() {
    std::deque<std::function<void()>> dropped;
    std::unique_lock<std::mutex> lock(state_->mutex);
    state_->closed = true;
    dropped.swap(state_->tasks);
    state_->idle.wait(lock, [this] { return !state_->executing; });
  }

 private:
  struct State {
    mutable std::mutex mutex;
    std::condition_variable idle;
    std::deque<std::function<void()>> tasks;
    bool running = false;    // a Drain is posted or running
    bool executing = false;  // a task is running right now
    bool closed = false;
  };

  void Enqueue(const std::shared_ptr<State>& state,
               std::function<void()> task) {
    Enqueue(state, std::move(task), &executor_);
  }
  static void Enqueue(const std::shared_ptr<State>& state,
                      std::function<void()> task, Executor* executor) {
    {
      std::lock_guard<std::mutex> lock(state->mutex);
      if (state->closed) return;
      state->tasks.push_back(std::move(task));
      if (state->running) return;
      state->running = true;
    }
    executor->Post([state, executor] { Drain(state, executor); });
  }
  // Runs one task, then hands the rest back to the pool so that a busy
  // strand does not keep a thread from other strands.
  static void Drain(const std::shared_ptr<State>& state, Executor* executor) {
    std::function<void()> task;
    {
      std::lock_guard<std::mutex> lock(state->mutex);
      if (state->closed || state->tasks.empty()) {
        state->running = false;
        return;
      }
      task = std::move(state->tasks.front());
      state->tasks.pop_front();
      state->executing = true;
    }
    task();
    task = nullptr;
    {
      std::lock_guard<std::mutex> lock(state->mutex);
      state->executing = false;
      state->idle.notify_all();
      if (state->closed || state->tasks.empty()) {
        state->running = false;
        return;
      }
    }
    executor->Post([state, executor] { Drain(state, executor); });
  }

  Executor& executor_;
  std::shared_ptr<State> state_;
};

}  // namespace southgate
