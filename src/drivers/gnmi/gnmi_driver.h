// The gNMI driver: a device that speaks gNMI itself (a router, or another
// southgate), reached over gRPC with TLS (CA bundle, server-name override,
// client certificate) and username/password metadata.
//
// The device's models are read from its Capabilities at connect and loaded
// from southgate's YANG search path; everything crossing the driver API is
// converted through that schema (gNMI paths <-> XPath, the device's encoding
// <-> RFC 7951 JSON). Models southgate does not have are passed through
// (PassesThroughUnknownPaths): requests naming them go to the device
// unchanged and its answers come back unchanged, unvalidated; the device's
// status says which models are passed through.
//
// Threading: gRPC stubs are thread-safe, so Get/Set run concurrently. One
// background thread per device watches the channel, probes it when it is
// not READY, and reconnects with exponential backoff and jitter after a
// loss; each upstream Subscribe stream has its own reader thread (see
// gnmi_subscription.h) and survives reconnects.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "drivers/gnmi/gnmi_options.h"
#include "github.com/openconfig/gnmi/proto/gnmi/gnmi.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "schema/gnmi_translator.h"
#include "schema/yang_context.h"
#include "southgate/driver.h"

namespace southgate::drivers::gnmi_driver {

// One live connection: the channel, what the device said at connect.
struct Session {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<::gnmi::gNMI::Stub> stub;
  WireEncoding encoding = WireEncoding::kJsonIetf;
  std::vector<std::string> device_encodings;  // as advertised, e.g. "JSON"
  std::string gnmi_version;
  uint64_t generation = 0;  // bumped by every (re)connect
};

class GnmiDriver : public Driver {
 public:
  GnmiDriver(DeviceSettings settings, DriverContext context,
             GnmiOptions options);
  ~GnmiDriver() override;

  absl::Status Connect() override;
  void Close() override;
  DeviceStatus Status() const override;
  std::shared_ptr<const schema::YangContext> Schema() const override;
  std::vector<ModelInfo> Models() const override;
  absl::StatusOr<std::string> Get(const std::vector<std::string>& xpaths,
                                  DataType type) override;
  absl::Status Set(const Transaction& transaction) override;
  absl::StatusOr<GetResult> GetWithTimestamp(
      const std::vector<std::string>& xpaths, DataType type) override;
  absl::StatusOr<int64_t> SetWithTimestamp(
      const Transaction& transaction) override;
  bool PassesThroughUnknownPaths() const override;
  absl::StatusOr<std::string> GetNative(
      const std::string& get_request) override;
  absl::StatusOr<std::string> SetNative(
      const std::string& set_request) override;
  bool SupportsConfirmedCommit() const override;
  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(
      const std::vector<SubscriptionSpec>& specs,
      std::shared_ptr<NotificationSink> sink) override;

  // Close() was called: no connection will come back.
  bool closed() const;
  // The connection in use; null while disconnected.
  std::shared_ptr<const Session> CurrentSession() const;
  // Waits up to `timeout` for a connection (newer than `after_generation`).
  std::shared_ptr<const Session> WaitSession(uint64_t after_generation,
                                             std::chrono::milliseconds timeout);
  // Called by a user of `session` whose RPC failed at the transport level:
  // the worker reconnects (no-op when a newer session is already up).
  void ReportLinkLoss(const Session& session, const absl::Status& cause);
  // A ClientContext for one device RPC: credentials metadata and, when
  // `deadline` is non-zero, a deadline.
  void PrepareContext(grpc::ClientContext& context,
                      std::chrono::milliseconds deadline) const;
  std::shared_ptr<const schema::GnmiTranslator> Translator() const;
  const GnmiOptions& options() const { return options_; }
  const std::string& log_name() const { return log_name_; }
  const std::string& device_name() const { return settings_.name; }
  // The upstream encoding in use and what the device advertised.
  std::string EncodingSummary() const;
  // Live upstream Subscribe streams to the device (tests, logs).
  uint64_t upstream_streams() const { return upstream_streams_; }
  std::atomic<uint64_t>& upstream_streams_counter() {
    return upstream_streams_;
  }
  // Models the device advertised that southgate could not load.
  std::string degraded_reason() const;

 private:
  // One connection attempt: channel, Capabilities, schema.
  absl::Status Establish();
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> Credentials() const;
  absl::Status LoadSchema(const ::gnmi::CapabilityResponse& capabilities);
  void SetState(ConnectionState state, const std::string& error);
  void Worker();
  void LinkLostLocked(const absl::Status& cause);
  // The connected session, or UNAVAILABLE saying why there is none.
  absl::StatusOr<std::shared_ptr<const Session>> ConnectedSession() const;
  // Sends one unary RPC's answer back: the device's error (a transport
  // loss also starts a reconnect) or OK.
  absl::Status Answered(const Session& session, const grpc::Status& answer,
                        const char* operation);
  // One passed-through unary RPC: the serialized request with the
  // device's target, the device's serialized answer or its error.
  template <typename Request, typename Response>
  absl::StatusOr<std::string> Forward(
      const std::string& request_bytes, const char* operation,
      grpc::Status (::gnmi::gNMI::Stub::*rpc)(grpc::ClientContext*,
                                              const Request&, Response*));
  // A clearer message for common connection failures (TLS, auth);
  // `connecting`: the failure happened while setting up a connection.
  std::string Explain(const absl::Status& status, bool connecting) const;

  const DeviceSettings settings_;
  const DriverContext context_;
  const GnmiOptions options_;
  std::string log_name_;

  mutable std::mutex mutex_;  // everything below
  std::condition_variable changed_;
  DeviceStatus status_;
  std::shared_ptr<const Session> session_;
  uint64_t generation_ = 0;
  std::shared_ptr<const schema::YangContext> schema_;
  std::shared_ptr<const schema::GnmiTranslator> translator_;
  std::vector<ModelInfo> models_;         // loaded into schema_
  std::vector<ModelInfo> device_models_;  // as the device advertised them
  std::string degraded_reason_;
  std::string encoding_summary_;
  bool link_lost_ = false;
  bool stopping_ = false;
  std::thread worker_;

  std::atomic<uint64_t> upstream_streams_{0};
};

absl::StatusOr<std::unique_ptr<Driver>> CreateGnmiDriver(
    const DeviceSettings& settings, const DriverContext& context);

}  // namespace southgate::drivers::gnmi_driver
