// The NETCONF/SSH driver: a device reached with libnetconf2 (through
// src/netconf), its own YANG modules downloaded with get-schema into an
// on-disk cache, gNMI Get/Set mapped to get-config/get and edit-config
// (+ candidate commit, confirmed commit).
//
// Threading: one NETCONF session per device, used by one thread at a time
// (session_mutex_). One background thread per device sends the keepalive and
// reconnects with backoff after the link dies; the device manager only makes
// the first connection.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

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
  // Modules the device advertises that could not be used ("degraded").
  std::string degraded_reason() const;

 private:
  // One connect: session, schema download, context. Holds session_mutex_.
  absl::Status ConnectLocked();
  absl::Status LoadSchemas(southgate::netconf::Session& session);
  void SetState(ConnectionState state, const std::string& error);
  // Drops a session that failed at the transport level; the worker
  // reconnects.
  void LinkLost(const absl::Status& cause);
  void Worker();
  // The device's data selected by `xpaths` and `type`, parsed into the
  // device's schema.
  absl::StatusOr<schema::DataTree> FetchTree(
      const std::vector<std::string>& xpaths, DataType type);
  friend class PollSubscription;
  absl::Status ApplyCandidate(const std::string& content,
                              const CommitAction& commit);
  absl::Status FollowUpCommit(const CommitAction& commit);

  const DeviceSettings settings_;
  const DriverContext context_;
  const NetconfOptions options_;
  std::string log_name_;

  // Serialises every use of session_ (libnetconf2: one thread per session).
  mutable std::mutex session_mutex_;
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

  std::mutex worker_mutex_;
  std::condition_variable worker_cv_;
  bool stopping_ = false;
  bool link_lost_ = false;
  std::thread worker_;
};

absl::StatusOr<std::unique_ptr<Driver>> CreateNetconfDriver(
    const DeviceSettings& settings, const DriverContext& context);

}  // namespace southgate::drivers::netconf
