// The daemon as a gNMI target of its own: the inventory's connection state
// and the telemetry counters under the southgate-devices YANG module, read
// with the same Get (and validated by the same schema) as any device.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "southgate/driver.h"

namespace southgate::devices {

// The gNMI target name under which the daemon answers about itself.
inline constexpr char kSelfTargetName[] = "southgate";

struct DeviceRow {
  std::string name;
  std::string driver;
  std::string address;
  DeviceStatus status;
  std::vector<ModelInfo> models;  // empty until the device has connected
};

struct TelemetryCounters {
  uint64_t upstream_subscriptions = 0;
  uint64_t client_streams = 0;
  uint64_t cached_leaves = 0;
  uint64_t slow_clients_cut = 0;
};

class SelfDriver final : public Driver {
 public:
  using DeviceLister = std::function<std::vector<DeviceRow>()>;
  using TelemetrySource = std::function<TelemetryCounters()>;

  SelfDriver(schema::ContextCache* schemas, std::string version,
             DeviceLister devices);
  // Set once the telemetry hub exists (it is created after the devices).
  void SetTelemetrySource(TelemetrySource source);

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

  // The state document (RFC 7951), for tests.
  std::string StateDocument() const;

 private:
  schema::ContextCache* schemas_;
  const std::string version_;
  const std::string start_time_;
  DeviceLister devices_;
  mutable std::mutex mutex_;
  TelemetrySource telemetry_;
  std::shared_ptr<const schema::YangContext> context_;
};

}  // namespace southgate::devices
