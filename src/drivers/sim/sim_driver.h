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
// Confirmed commit (the gnmi_ext Commit extension, gNMI commit-confirmed
// spec): a commit with a rollback duration applies its edits at once and
// keeps the data as it was; unless a confirm with the commit's id arrives
// before the deadline, the configuration goes back (cancel does that at
// once). Rollbacks reach subscribers like any Set. While a commit waits,
// another commit and a Set without the extension are FAILED_PRECONDITION;
// a wrong id is INVALID_ARGUMENT; every refusal changes nothing.
//
// Subscriptions: the sink is called with the subscription's own lock held,
// so a sink must not destroy its Subscription from inside a callback (that
// would deadlock); hand the destruction to another thread instead.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
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
  bool SupportsConfirmedCommit() const override { return true; }
  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(
      const std::vector<SubscriptionSpec>& specs,
      std::shared_ptr<NotificationSink> sink) override;

  // One evolution step (what the background thread does every interval),
  // followed by change delivery. For tests.
  void EvolveOnce();

 private:
  // A confirmed commit waiting for its confirmation.
  struct PendingCommit {
    std::string id;
    // The data as it was before the commit (its configuration comes back
    // on cancel or at the deadline).
    schema::DataTree before;
    std::chrono::steady_clock::time_point deadline;
  };

  void SetError(const absl::Status& status);
  // Set under tree_mutex_ (exclusive); sets `changed` when tree_ changed
  // (the edits applied, or a rollback that was due).
  absl::Status SetLocked(const Transaction& transaction, bool& changed);
  // Confirm, cancel and set_rollback_duration of the pending commit.
  absl::Status FollowUpLocked(const CommitAction& commit, bool& changed);
  // Puts the pending commit's configuration back, keeping the current state
  // data; caller holds tree_mutex_ exclusively.
  void RollBackLocked(const char* why);
  // Rolls the pending commit back if its deadline has passed (true then).
  bool RollBackIfDueLocked(std::chrono::steady_clock::time_point now);
  // For the background thread: rolls back what is due (and publishes it);
  // returns the pending commit's deadline, or time_point::max().
  std::chrono::steady_clock::time_point RollBackDue(
      std::chrono::steady_clock::time_point now);
  // Makes the background thread plan its deadlines again.
  void Kick();
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
  std::optional<PendingCommit> pending_commit_;  // under tree_mutex_

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
