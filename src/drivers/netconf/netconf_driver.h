// The NETCONF/SSH driver: a device reached with libnetconf2 (through
// src/netconf), its own YANG modules downloaded with get-schema into an
// on-disk cache, gNMI Get/Set mapped to get-config/get and edit-config
// (+ candidate commit, confirmed commit).
//
// Threading: no thread of its own. One NETCONF session per device, used by
// one thread at a time (session_mutex_): Get/Set run on the caller's thread
// (the daemon's WorkQueue, never a gRPC thread). Background work runs on the
// process-wide NetconfRuntime: keepalive and subscription polls through the
// device's Strand on the shared work pool (one at a time per device),
// reconnects with backoff on the reconnect pool, every connect within the
// process-wide connect bound. Identical Gets that arrive while one waits for
// the session share its RPC (see Get).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/executor.h"
#include "drivers/netconf/change_listener.h"
#include "drivers/netconf/netconf_options.h"
#include "netconf/session.h"
#include "schema/data_tree.h"
#include "schema/yang_context.h"
#include "southgate/driver.h"

namespace southgate::drivers::netconf {

class NetconfDriver : public Driver {
 public:
  NetconfDriver(DeviceSettings settings, DriverContext context,
                NetconfOptions options);
  ~NetconfDriver() override;

  absl::Status Connect() override;
  void Close() override;
  DeviceStatus Status() const override;
  std::shared_ptr<const schema::YangContext> Schema() const override;
  std::vector<ModelInfo> Models() const override;
  absl::StatusOr<std::string> Get(const std::vector<std::string>& xpaths,
                                  DataType type) override;
  absl::Status Set(const Transaction& transaction) override;
  bool SupportsConfirmedCommit() const override;
  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(
      const std::vector<SubscriptionSpec>& specs,
      std::shared_ptr<NotificationSink> sink) override;

  // The device's capability URIs (last hello).
  std::vector<std::string> Capabilities() const;
  // Modules fetched with get-schema since the driver was created (tests and
  // logs: a reconnect with a warm cache downloads none).
  uint64_t schema_downloads() const { return schema_downloads_; }
  // Gets and polls sent with an XPath filter (tests: the :xpath path).
  uint64_t xpath_filters() const { return xpath_filters_; }
  // Modules the device advertises that could not be used ("degraded").
  std::string degraded_reason() const;

 private:
  // One connect: session, schema download, context; the new session
  // replaces the old one only at the end (session_mutex_ is not held while
  // connecting, so Gets fail fast instead of waiting).
  absl::Status ConnectOnce();
  absl::Status LoadSchemas(southgate::netconf::Session& session);
  void SetState(ConnectionState state, const std::string& error);
  // Drops a session that failed at the transport level (caller holds
  // session_mutex_) and schedules the reconnect.
  void LinkLost(const absl::Status& cause);
  void ScheduleKeepalive(std::chrono::milliseconds delay, uint64_t generation);
  void KeepaliveTick(uint64_t generation);
  void ReconnectAttempt(uint64_t attempt, std::chrono::milliseconds delay);
  bool stopping() const;
  // The device's data selected by `xpaths` and `type`, parsed into the
  // device's schema. `on_sent` runs once the RPC is about to be sent (with
  // the session held).
  absl::StatusOr<schema::DataTree> FetchTree(
      const std::vector<std::string>& xpaths, DataType type,
      const std::function<void()>& on_sent = nullptr);
  friend class PollSubscription;
  absl::Status ApplyCandidate(const std::string& content,
                              const CommitAction& commit);
  absl::Status FollowUpCommit(const CommitAction& commit);

  // ON_CHANGE by device notifications (change_listener.h): whether this
  // device can, and its listener (created by the first ON_CHANGE
  // subscription).
  bool UsesNotifications() const;
  std::atomic<uint64_t> xpath_filters_{0};
  std::shared_ptr<ChangeListener> Listener();
  mutable std::mutex listener_mutex_;
  std::shared_ptr<ChangeListener> change_listener_;

  const DeviceSettings settings_;
  const DriverContext context_;
  const NetconfOptions options_;
  std::string log_name_;

  // One connect at a time for this device (first connect vs reconnect).
  std::mutex connect_mutex_;
  // Serialises every use of session_ (libnetconf2: one thread per session).
  mutable std::mutex session_mutex_;
  // Incremented with every new session: a keepalive chain of an older
  // session ends.
  uint64_t session_generation_ = 0;
  std::unique_ptr<southgate::netconf::Session> session_;
  std::atomic<int> in_flight_{0};
  std::atomic<int64_t> last_activity_ns_{0};
  std::string pending_commit_id_;  // confirmed commit awaiting confirmation
  bool commit_pending_ = false;
  std::chrono::steady_clock::time_point commit_deadline_;

  mutable std::mutex state_mutex_;
  DeviceStatus status_;
  std::shared_ptr<const schema::YangContext> schema_;
  std::vector<std::string> capabilities_;
  std::string degraded_reason_;
  bool confirmed_commit_ = false;
  bool connected_once_ = false;

  std::atomic<uint64_t> schema_downloads_{0};

  // Gets that have not been sent yet, by (type, paths): a Get arriving
  // while an identical one waits for the session joins it and shares its
  // reply, which was read after both arrived.
  struct PendingGet {
    bool done = false;
    absl::StatusOr<std::string> result;
  };
  std::mutex gets_mutex_;
  std::condition_variable gets_done_;
  std::map<std::string, std::shared_ptr<PendingGet>> open_gets_;

  mutable std::mutex lifecycle_mutex_;
  bool stopping_ = false;
  bool reconnect_scheduled_ = false;
  // Keepalives and polls (work pool); reconnects (reconnect pool).
  Strand background_;
  Strand reconnect_;
};

absl::StatusOr<std::unique_ptr<Driver>> CreateNetconfDriver(
    const DeviceSettings& settings, const DriverContext& context);

}  // namespace southgate::drivers::netconf
