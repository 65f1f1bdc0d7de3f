// The telemetry hub: one driver subscription per (device, xpath, mode,
// interval), shared by every northbound stream that asks for it, with the
// latest value of every leaf it delivered (the device's leaf cache).
//
// Threads and locks: driver threads push into an Upstream (its lock held
// while it updates its cache and hands the leaves to its listeners, so a
// listener sees values in order and a listener that joins late gets the
// cache then every later change, never an older value after a newer one).
// Lock order: hub, then upstream, then whatever a listener locks. A
// listener must not call back into the hub from its callbacks.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "devices/device_manager.h"
#include "schema/gnmi_translator.h"
#include "southgate/driver.h"
#include "telemetry/wire.h"

namespace southgate::telemetry {

struct TelemetryStats {
  uint64_t upstream_subscriptions = 0;  // live driver subscriptions
  uint64_t client_streams = 0;          // open Subscribe RPCs
  uint64_t cached_leaves = 0;           // leaves held across all caches
  uint64_t slow_clients_cut = 0;        // streams ended RESOURCE_EXHAUSTED
};

// What a northbound stream gives the hub for one (subscription, device).
// Called with the upstream's lock held: queue and return, never block.
class Listener {
 public:
  virtual ~Listener() = default;
  // New values and deletes (Leaf::deleted), in the order they happened.
  virtual void OnLeaves(const std::vector<LeafPtr>& leaves) = 0;
  // Everything the device had when the subscription started was delivered.
  virtual void OnSynced() = 0;
  // The driver ended the subscription (device lost).
  virtual void OnError(const absl::Status& status) = 0;
};

class Upstream;

// One stream's share of an Upstream; destroying it leaves (the last one
// out ends the driver subscription, off the calling thread).
class Membership {
 public:
  ~Membership();
  Membership(const Membership&) = delete;
  Membership& operator=(const Membership&) = delete;
  // The latest value of every leaf the subscription currently covers.
  std::vector<LeafPtr> Snapshot() const;
  // The listener has room for more; a driver that makes data on demand
  // may make more (flow control, see NotificationSink::SetDemandCallback).
  // Call once per OnLeaves at most (also from inside it); may be called
  // under the listener's own lock.
  void AskForMore();

 private:
  friend class Hub;
  Membership(std::shared_ptr<Upstream> upstream, Listener* listener)
      : upstream_(std::move(upstream)), listener_(listener) {}
  std::shared_ptr<Upstream> upstream_;
  Listener* listener_;
};

struct HubOptions {
  // How often a driver that cannot push (Subscribe answers UNIMPLEMENTED)
  // is read with Get for ON_CHANGE/TARGET_DEFINED/ONCE/POLL; the hub diffs
  // successive reads into changes and deletes. SAMPLE polls at its interval.
  std::chrono::milliseconds poll_interval{1000};
};

class Hub {
 public:
  explicit Hub(HubOptions options = {});
  ~Hub();  // ends every driver subscription
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // Adds `listener` to the upstream for (device, spec), creating the driver
  // subscription when it is the first. The listener gets the cached leaves
  // (and OnSynced when the upstream has synced) before Join returns, or as
  // they arrive. May block (a driver's Subscribe): call off gRPC threads.
  // `listener` must outlive the Membership.
  absl::StatusOr<std::unique_ptr<Membership>> Join(
      std::shared_ptr<devices::Device> device,
      std::shared_ptr<const schema::GnmiTranslator> translator,
      const SubscriptionSpec& spec, Listener* listener);

  TelemetryStats Stats() const;
  void StreamOpened();
  void StreamClosed();
  void SlowClientCut() { slow_cut_.fetch_add(1, std::memory_order_relaxed); }

 private:
  friend class Membership;
  friend class Upstream;
  using Key = std::tuple<std::string, std::string, int, int64_t>;
  void Leave(const std::shared_ptr<Upstream>& upstream, Listener* listener);
  void Forget(Upstream* upstream);
  // Ends driver subscriptions on the reaper thread: a driver may wait for a
  // delivery in progress, which must not happen under our locks or on a
  // gRPC thread.
  void Reap(std::unique_ptr<Subscription> subscription);
  void ReapLoop();
  void LogStats(const char* why) const;
  // Emulation for drivers without Subscribe: reads and diffs.
  void PollLoop();
  static absl::Status PollOnce(Upstream& upstream);

  const HubOptions options_;

  mutable std::mutex mutex_;
  std::map<Key, std::shared_ptr<Upstream>> upstreams_;

  std::atomic<uint64_t> live_upstreams_{0};
  std::atomic<uint64_t> streams_{0};
  std::atomic<int64_t> cached_leaves_{0};
  std::atomic<uint64_t> slow_cut_{0};

  std::mutex reap_mutex_;
  std::condition_variable reap_wake_;
  std::vector<std::unique_ptr<Subscription>> reap_queue_;
  bool reap_stop_ = false;
  std::thread reaper_;

  std::mutex poll_mutex_;
  std::condition_variable poll_wake_;
  std::vector<std::weak_ptr<Upstream>> polled_;
  bool poll_stop_ = false;
  std::thread poller_;
};

}  // namespace southgate::telemetry
