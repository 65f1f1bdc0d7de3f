#include "devices/self_driver.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"
#include "schema/data_tree.h"
#include "schema/yang_context.h"

namespace southgate::devices {

SelfDriver::SelfDriver(schema::ContextCache* schemas, std::string version,
                       DeviceLister devices)
    : schemas_(schemas),
      version_(std::move(version)),
      start_time_(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(),
                                   absl::UTCTimeZone())),
      devices_(std::move(devices)) {}

void SelfDriver::SetTelemetrySource(TelemetrySource source) {
  std::lock_guard<std::mutex> lock(mutex_);
  telemetry_ = std::move(source);
}

absl::Status SelfDriver::Connect() {
  ASSIGN_OR_RETURN(auto context, schemas_->Get({{"southgate-devices"}}));
  std::lock_guard<std::mutex> lock(mutex_);
  context_ = std::move(context);
  return absl::OkStatus();
}

void SelfDriver::Close() {}

DeviceStatus SelfDriver::Status() const {
  std::lock_guard<std::mutex> lock(mutex_);
  DeviceStatus status;
  status.state =
      context_ ? ConnectionState::kConnected : ConnectionState::kDisconnected;
  return status;
}

std::shared_ptr<const schema::YangContext> SelfDriver::Schema() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return context_;
}

std::vector<ModelInfo> SelfDriver::Models() const {
  auto context = Schema();
  return context ? context->Models() : std::vector<ModelInfo>{};
}

std::string SelfDriver::StateDocument() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const DeviceRow& row : devices_()) {
    nlohmann::json entry = {
        {"name", row.name},
        {"driver", row.driver},
        {"state", ConnectionStateName(row.status.state)},
        // RFC 7951: 64-bit integers travel as strings.
        {"reconnects", std::to_string(row.status.reconnects)},
        {"change-notifications",
         std::to_string(row.status.change_notifications)}};
    if (!row.address.empty()) entry["address"] = row.address;
    if (!row.status.last_error.empty()) {
      entry["last-error"] = row.status.last_error;
    }
    if (!row.status.encoding.empty()) entry["encoding"] = row.status.encoding;
    if (!row.status.device_encodings.empty()) {
      entry["device-encoding"] = row.status.device_encodings;
    }
    if (!row.models.empty()) {
      nlohmann::json models = nlohmann::json::array();
      for (const ModelInfo& model : row.models) {
        models.push_back(model.version.empty()
                             ? model.name
                             : model.name + "@" + model.version);
      }
      entry["model"] = std::move(models);
    }
    rows.push_back(std::move(entry));
  }
  TelemetryCounters counters;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (telemetry_) counters = telemetry_();
  }
  nlohmann::json document = {
      {"southgate-devices:devices", {{"device", rows}}},
      {"southgate-devices:daemon",
       {{"version", version_},
        {"start-time", start_time_},
        {"schema-contexts", std::to_string(schemas_ ? schemas_->size() : 0)},
        {"telemetry",
         {{"upstream-subscriptions",
           std::to_string(counters.upstream_subscriptions)},
          {"client-streams", std::to_string(counters.client_streams)},
          {"cached-leaves", std::to_string(counters.cached_leaves)},
          {"slow-clients-cut", std::to_string(counters.slow_clients_cut)}}}}}};
  if (rows.empty()) document.erase("southgate-devices:devices");
  return document.dump();
}

absl::StatusOr<std::string> SelfDriver::Get(
    const std::vector<std::string>& xpaths, DataType type) {
  auto context = Schema();
  if (!context) return absl::UnavailableError("self target not started");
  ASSIGN_OR_RETURN(
      schema::DataTree tree,
      schema::DataTree::ParseJsonIetf(context, StateDocument(),
                                      schema::DataTree::Parse::kPartial));
  ASSIGN_OR_RETURN(schema::DataTree selected, tree.Select(xpaths, type));
  return selected.ToJsonIetf();
}

absl::Status SelfDriver::Set(const Transaction& /*transaction*/) {
  return absl::FailedPreconditionError(
      "the daemon's own target is read-only state; change the configuration "
      "file instead");
}

absl::StatusOr<std::unique_ptr<Subscription>> SelfDriver::Subscribe(
    const std::vector<SubscriptionSpec>& /*specs*/,
    std::shared_ptr<NotificationSink> /*sink*/) {
  return absl::UnimplementedError(
      "the daemon's own target answers Get only; poll it");
}

}  // namespace southgate::devices
