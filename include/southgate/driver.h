// The device driver API: what every southbound driver (sim, NETCONF, gNMI,
// or a third party's plugin) implements. Free of gRPC and libyang types:
// data crosses this boundary as RFC 7951 (JSON_IETF) text addressed by
// module-qualified XPath data paths, so a driver needs no protobuf to exist.
//
// Threading: the daemon may call Get/Set/Subscribe from several threads at
// once; a driver serialises what its transport needs. Connect/Close are
// called by the device manager only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace southgate {

namespace schema {
class YangContext;
class ContextCache;
}  // namespace schema

// Bumped whenever this header changes in a way that breaks built plugins.
// A plugin exports the string it was built with; the loader refuses any
// other (see SOUTHGATE_DRIVER_PLUGIN below).
inline constexpr char kDriverAbiVersion[] = "southgate-driver-abi/6";

// Which part of the data tree a Get asks for (gNMI GetRequest.DataType).
enum class DataType { kAll, kConfig, kState, kOperational };

enum class ConnectionState { kDisconnected, kConnecting, kConnected, kError };
inline const char* ConnectionStateName(ConnectionState state) {
  switch (state) {
    case ConnectionState::kDisconnected:
      return "disconnected";
    case ConnectionState::kConnecting:
      return "connecting";
    case ConnectionState::kConnected:
      return "connected";
    case ConnectionState::kError:
      return "error";
  }
  return "unknown";
}

// One YANG module a device implements, as reported in gNMI Capabilities.
struct ModelInfo {
  std::string name;
  std::string organization;
  std::string version;  // revision date or semantic version
};

struct DeviceStatus {
  ConnectionState state = ConnectionState::kDisconnected;
  std::string last_error;
  uint64_t reconnects = 0;
  // Change notifications from the device (e.g. NETCONF
  // netconf-config-change) that drove ON_CHANGE telemetry.
  uint64_t change_notifications = 0;
  // For drivers that negotiate an encoding with the device (gNMI): the one
  // in use ("json_ietf", "json", "proto") and what the device offered, as
  // gNMI names ("JSON_IETF", ...). Empty otherwise.
  std::string encoding;
  std::vector<std::string> device_encodings;
};

// One inventory entry, resolved: credentials are already read from their
// files or environment and must never be logged.
struct DeviceSettings {
  std::string name;
  std::string driver;
  std::string address;
  std::string username;
  std::string password;
  // Driver-specific options as a JSON object (converted from the YAML
  // inventory), parsed by the driver itself.
  std::string options_json = "{}";
};

// One change inside a Set transaction. Paths are module-qualified XPath
// data paths such as /ietf-interfaces:interfaces/interface[name='eth0'].
struct Edit {
  enum class Op { kDelete, kReplace, kUpdate };
  Op op = Op::kUpdate;
  std::string xpath;
  // kReplace/kUpdate: an RFC 7951 JSON document rooted at the top of the
  // data tree that holds the node at `xpath` with its new content (and its
  // ancestors with their keys). Empty for kDelete.
  std::string document;
};

// Everything one gNMI SetRequest asks of one device: applied all or nothing,
// in order (deletes, then replaces, then updates).
// The gnmi_ext Commit extension of a SetRequest (confirmed commit). Only
// drivers whose SupportsConfirmedCommit() is true ever receive one.
struct CommitAction {
  enum class Kind {
    kNone,     // a plain Set: committed at once
    kCommit,   // apply the edits, roll back unless confirmed in time
    kConfirm,  // confirm the pending commit
    kCancel,   // roll the pending commit back now
    kSetRollbackDuration,  // re-arm the pending commit's timer
  };
  Kind kind = Kind::kNone;
  std::string id;
  // kCommit and kSetRollbackDuration; 0 for kCommit means no rollback.
  int64_t rollback_duration_ms = 0;

  // kConfirm, kCancel, kSetRollbackDuration: act on a waiting commit.
  bool IsFollowUp() const {
    return kind != Kind::kNone && kind != Kind::kCommit;
  }
};

struct Transaction {
  std::vector<Edit> edits;  // may be empty for kConfirm/kCancel/...
  CommitAction commit;

  // A follow-up carries no edits (gNMI commit-confirmed spec).
  absl::Status CheckFollowUpHasNoEdits() const {
    if (commit.IsFollowUp() && !edits.empty()) {
      return absl::InvalidArgumentError(
          "a commit confirm, cancel or set_rollback_duration carries no "
          "edits");
    }
    return absl::OkStatus();
  }
};

// A change pushed by a driver: leaves with new values and paths that
// vanished. Values are RFC 7951 JSON scalars (or arrays for leaf-lists).
struct Notification {
  int64_t timestamp_ns = 0;
  struct LeafUpdate {
    std::string xpath;
    std::string json_value;
    // Pass-through (Driver::PassesThroughUnknownPaths): a serialized
    // gnmi.Update holding the full path (origin, no target) and the value
    // exactly as the device sent it. `xpath` is then only a cache key
    // (NativePathKey) and `json_value` is empty.
    std::string native_update;
  };
  std::vector<LeafUpdate> updates;
  std::vector<std::string> deletes;
  // Pass-through deletes: the cache key and the serialized gnmi.Path.
  struct NativeDelete {
    std::string key;
    std::string path;
  };
  std::vector<NativeDelete> native_deletes;
};

// Where a driver pushes notifications. Called from driver threads; must not
// block, must not call back into the driver.
class NotificationSink {
 public:
  virtual ~NotificationSink() = default;
  virtual void OnNotification(Notification notification) = 0;
  // The current values of everything subscribed have all been delivered.
  virtual void OnSynced() = 0;
  // The subscription ended on the driver's side (link lost, device error).
  virtual void OnError(absl::Status status) = 0;

  // Flow control, for a driver that makes data on demand (the sim's load
  // generator); a driver reporting what a device does ignores it. `wake`
  // is called when enough consumers have room for more, so that a new
  // change would be sent rather than replace a value still waiting. It is
  // called from any thread, possibly under the consumers' locks: it must
  // only signal (set a flag, notify a condition variable).
  virtual void SetDemandCallback(std::function<void()> wake) { (void)wake; }
};

enum class SubscriptionMode { kTargetDefined, kOnChange, kSample };

struct SubscriptionSpec {
  std::string xpath;  // may contain XPath wildcards
  SubscriptionMode mode = SubscriptionMode::kOnChange;
  int64_t sample_interval_ns = 0;
  // Pass-through (Driver::PassesThroughUnknownPaths): the serialized
  // gnmi.Path (origin, no target) the schema could not translate; `xpath`
  // is then only a key naming it (NativePathKey).
  std::string native_path;
};

// A live driver subscription; destroying it cancels it and, once the
// destructor returns, the sink is never called again.
class Subscription {
 public:
  virtual ~Subscription() = default;
};

// What Driver::GetWithTimestamp returns: the Get document and when the
// device produced it (0: the device did not say; the daemon uses now).
struct GetResult {
  std::string document;
  int64_t timestamp_ns = 0;
};

class Driver {
 public:
  virtual ~Driver() = default;

  // Opens the session to the device. May block (called off gRPC threads).
  virtual absl::Status Connect() = 0;
  virtual void Close() = 0;
  virtual DeviceStatus Status() const = 0;

  // The schema of the device's data, used by the daemon to translate gNMI
  // paths and values. Valid once Connect() succeeded.
  virtual std::shared_ptr<const schema::YangContext> Schema() const = 0;
  virtual std::vector<ModelInfo> Models() const = 0;

  // Returns an RFC 7951 JSON document holding every node selected by the
  // XPaths (with their ancestors), restricted to `type`. Paths that match
  // nothing contribute nothing.
  virtual absl::StatusOr<std::string> Get(
      const std::vector<std::string>& xpaths, DataType type) = 0;

  // Applies the transaction atomically: on any error the device is left as
  // it was. INVALID_ARGUMENT for data the device's schema rejects.
  virtual absl::Status Set(const Transaction& transaction) = 0;

  // Get and Set with the device's own timestamp where the device gives one
  // (a gNMI device's Notification/SetResponse timestamp); the defaults
  // report 0 and the daemon stamps the answer itself.
  virtual absl::StatusOr<GetResult> GetWithTimestamp(
      const std::vector<std::string>& xpaths, DataType type) {
    absl::StatusOr<std::string> document = Get(xpaths, type);
    if (!document.ok()) return document.status();
    return GetResult{*std::move(document), 0};
  }
  virtual absl::StatusOr<int64_t> SetWithTimestamp(
      const Transaction& transaction) {
    absl::Status status = Set(transaction);
    if (!status.ok()) return status;
    return int64_t{0};
  }

  // Pass-through of requests naming paths the daemon's schema cannot
  // translate (models the device has and southgate has not loaded), for
  // drivers whose device speaks gNMI itself. Requests and answers are
  // serialized gnmi messages (GetRequest -> GetResponse, SetRequest ->
  // SetResponse), so this header needs no protobuf. The daemon removes its
  // own target from the request's prefix and puts it back into the answer;
  // the driver sets the device's own target, forwards everything else
  // unchanged (paths, encoding, extensions) and returns the device's
  // answer or its error. Subscribe passes through with
  // SubscriptionSpec::native_path and the native fields of Notification.
  virtual bool PassesThroughUnknownPaths() const { return false; }
  virtual absl::StatusOr<std::string> GetNative(
      const std::string& get_request) {
    (void)get_request;
    return absl::UnimplementedError("this driver has no gNMI pass-through");
  }
  virtual absl::StatusOr<std::string> SetNative(
      const std::string& set_request) {
    (void)set_request;
    return absl::UnimplementedError("this driver has no gNMI pass-through");
  }

  // Whether Set understands Transaction::commit (the gnmi_ext Commit
  // extension); the daemon answers UNIMPLEMENTED for drivers that do not.
  virtual bool SupportsConfirmedCommit() const { return false; }

  virtual absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(
      const std::vector<SubscriptionSpec>& specs,
      std::shared_ptr<NotificationSink> sink) = 0;
};

// What the daemon gives a driver when creating it.
struct DriverContext {
  // Shared libyang contexts: devices with the same module set share one.
  schema::ContextCache* schemas = nullptr;
  // Directory for a driver's on-disk state (schema caches, ...).
  std::string state_dir;
};

using DriverFactory = std::function<absl::StatusOr<std::unique_ptr<Driver>>(
    const DeviceSettings& settings, const DriverContext& context)>;

// Receives the factories a plugin or built-in driver provides.
class DriverRegistrar {
 public:
  virtual ~DriverRegistrar() = default;
  // Fails with ALREADY_EXISTS when the name is taken.
  virtual absl::Status Register(const std::string& name,
                                DriverFactory factory) = 0;
};

}  // namespace southgate

// Entry points a driver plugin (a shared object in the plugin directory)
// exports. The loader calls southgate_driver_abi_version() first and refuses
// the plugin unless it returns kDriverAbiVersion.
extern "C" {
using SouthgateAbiVersionFn = const char* (*)();
using SouthgateRegisterFn = int (*)(southgate::DriverRegistrar*);
}

#define SOUTHGATE_DRIVER_PLUGIN(register_function)                      \
  extern "C" __attribute__((visibility("default"))) const char*         \
  southgate_driver_abi_version() {                                      \
    return ::southgate::kDriverAbiVersion;                              \
  }                                                                     \
  extern "C" __attribute__((visibility("default"))) int                 \
  southgate_register_drivers(::southgate::DriverRegistrar* registrar) { \
    return register_function(registrar).ok() ? 0 : 1;                   \
  }
