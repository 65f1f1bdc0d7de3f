// The sim driver: an in-memory device holding a libyang data tree seeded
// from a JSON file, with evolving state (interface counters, oper-status,
// clock) and change notifications. Used for demos, tests and load tests.
//
// Load generation: with the `change_rate` option a generator thread pushes
// that many counter changes per second (of `change_leaves` synthetic
// leaves, `change_batch` per Notification) straight to the sinks of
// ON_CHANGE/TARGET_DEFINED subscriptions whose paths cover them, without
// touching the datastore or diffing it (see sim_options.h). With
// `change_paced` it makes the next batch when its consumers ask for more
// (NotificationSink::SetDemandCallback) instead of on a clock.
//
// Subscriptions: the sink is called with the subscription's own lock held,
// so a sink must not destroy its Subscription from inside a callback (that
// would deadlock); hand the destruction to another thread instead.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <random>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "drivers/sim/sim_options.h"
#include "schema/data_tree.h"
#include "schema/yang_context.h"
#include "southgate/driver.h"

namespace southgate::drivers::sim {

class SubscriptionState;
struct SubscriberList;
struct GeneratorSignal;

class SimDriver : public Driver {
 public:
  SimDriver(DeviceSettings settings, DriverContext context, SimOptions options);
  ~SimDriver() override;

  absl::Status Connect() override;
  void Close() override;
  DeviceStatus Status() const override;
  std::shared_ptr<const schema::YangContext> Schema() const override;
  std::vector<ModelInfo> Models() const override;
  absl::StatusOr<std::string> Get(const std::vector<std::string>& xpaths,
                                  DataType type) override;
  absl::Status Set(const Transaction& transaction) override;
  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(
      const std::vector<SubscriptionSpec>& specs,
      std::shared_ptr<NotificationSink> sink) override;

  // One evolution step (what the background thread does every interval),
  // followed by change delivery. For tests.
  void EvolveOnce();

 private:
  void SetError(const absl::Status& status);
  void Run();
  // Changes state data in place; caller holds tree_mutex_ exclusively.
  void EvolveLocked();
  // Diffs every ON_CHANGE subscription against the current tree and pushes
  // what changed.
  void PublishChanges();
  // Sends due SAMPLE specs; returns the earliest next sample time.
  std::chrono::steady_clock::time_point SampleDue(
      std::chrono::steady_clock::time_point now);

  // The change generator (options_.change_rate > 0).
  void GenerateLoop();

  const DeviceSettings settings_;
  const DriverContext context_;
  const SimOptions options_;

  mutable std::mutex status_mutex_;
  DeviceStatus status_;

  // Guards tree_ and schema_ (one writer or many readers).
  mutable std::shared_mutex tree_mutex_;
  std::shared_ptr<const schema::YangContext> schema_;
  std::unique_ptr<schema::DataTree> tree_;
  bool connected_ = false;
  bool has_ietf_system_ = false;
  bool has_oc_system_ = false;
  bool has_ietf_interfaces_ = false;
  bool has_oc_interfaces_ = false;
  std::chrono::system_clock::time_point boot_time_;
  std::mt19937_64 rng_;  // used under tree_mutex_ exclusively

  std::shared_ptr<SubscriberList> subscribers_;

  std::mutex thread_mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool kick_ = false;  // re-plan the sample deadlines
  std::thread thread_;
  // Generated leaves' paths, set once at the first Connect (under
  // tree_mutex_), and their values (generator thread only).
  std::vector<std::string> generated_;
  std::vector<uint64_t> generated_values_;
  std::thread generator_;
  // Wakes the generator (stop, or demand from a paced consumer); shared
  // with the sinks' demand callbacks, which may outlive this driver.
  std::shared_ptr<GeneratorSignal> generator_signal_;
};

absl::StatusOr<std::unique_ptr<Driver>> CreateSimDriver(
    const DeviceSettings& settings, const DriverContext& context);

}  // namespace southgate::drivers::sim
