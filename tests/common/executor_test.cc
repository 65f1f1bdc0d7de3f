// Executor and Strand: order, one task at a time per strand, Close.
#include "common/executor.h"

#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace southgate {
namespace {

TEST(ExecutorTest, RunsPostedAndDelayedTasks) {
  Executor executor(2);
  std::promise<void> now_done, later_done;
  executor.PostAfter(std::chrono::milliseconds(20),
                     [&] { later_done.set_value(); });
  executor.Post([&] { now_done.set_value(); });
  now_done.get_future().wait();
  later_done.get_future().wait();
}

TEST(ExecutorTest, DelayedTasksRunInDeadlineOrder) {
  Executor executor(1);
  std::vector<int> order;
  std::promise<void> done;
  // Posted in reverse; the single worker must run them by deadline.
  executor.PostAfter(std::chrono::milliseconds(60), [&] {
    order.push_back(3);
    done.set_value();
  });
  executor.PostAfter(std::chrono::milliseconds(40),
                     [&] { order.push_back(2); });
  executor.PostAfter(std::chrono::milliseconds(20),
                     [&] { order.push_back(1); });
  done.get_future().wait();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(StrandTest, RunsItsTasksInOrderOneAtATime) {
  Executor executor(4);
  Strand strand(executor);
  std::atomic<int> running{0};
  std::atomic<bool> overlapped{false};
  std::vector<int> order;  // only touched by the strand's tasks
  std::promise<void> done;
  constexpr int kTasks = 500;
  for (int i = 0; i < kTasks; ++i) {
    strand.Post([&, i] {
      if (running.fetch_add(1) != 0) overlapped = true;
      order.push_back(i);
      running.fetch_sub(1);
      if (i == kTasks - 1) done.set_value();
    });
  }
  done.get_future().wait();
  EXPECT_FALSE(overlapped);
  ASSERT_EQ(order.size(), static_cast<size_t>(kTasks));
  for (int i = 0; i < kTasks; ++i) EXPECT_EQ(order[i], i);
}

TEST(StrandTest, OneBusyStrandDoesNotBlockAnother) {
  Executor executor(2);
  Strand slow(executor), fast(executor);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> slow_started, fast_done;
  slow.Post([&] {
    slow_started.set_value();
    released.wait();
  });
  slow.Post([] {});  // queued behind the blocked task, holds no thread
  slow_started.get_future().wait();
  fast.Post([&] { fast_done.set_value(); });
  fast_done.get_future().wait();  // would hang if `slow` held both threads
  release.set_value();
}

TEST(StrandTest, CloseWaitsForTheRunningTaskAndDropsTheRest) {
  Executor executor(2);
  Strand strand(executor);
  std::promise<void> started, release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> first_finished{false}, second_ran{false},
      delayed_ran{false};
  strand.Post([&] {
    started.set_value();
    released.wait();
    first_finished = true;
  });
  strand.Post([&] { second_ran = true; });
  strand.PostAfter(std::chrono::milliseconds(1), [&] { delayed_ran = true; });
  started.get_future().wait();
  std::thread closer([&] { strand.Close(); });
  while (!strand.closed()) std::this_thread::yield();
  release.set_value();
  closer.join();
  EXPECT_TRUE(first_finished);  // Close returned only after it finished
  // Anything still queued is dropped; give the delayed one time to fire.
  std::promise<void> flushed;
  executor.PostAfter(std::chrono::milliseconds(20),
                     [&] { flushed.set_value(); });
  flushed.get_future().wait();
  EXPECT_FALSE(second_ran);
  EXPECT_FALSE(delayed_ran);
  strand.Post([&] { second_ran = true; });  // closed: ignored
  EXPECT_FALSE(second_ran);
}

}  // namespace
}  // namespace southgate
