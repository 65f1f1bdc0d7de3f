// gNMI request semantics (target routing, Get, Set, Capabilities) in
// absl::Status terms, independent of gRPC so it can be unit-tested; the
// gRPC edge is gnmi_service.h.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "devices/device_manager.h"
#include "github.com/openconfig/gnmi/proto/gnmi/gnmi.pb.h"

namespace southgate::northbound {

inline constexpr char kGnmiVersion[] = "0.10.0";

class GnmiHandler {
 public:
  explicit GnmiHandler(devices::DeviceManager& devices);

  absl::StatusOr<gnmi::CapabilityResponse> Capabilities(
      const gnmi::CapabilityRequest& request) const;
  absl::StatusOr<gnmi::GetResponse> Get(const gnmi::GetRequest& request) const;
  absl::StatusOr<gnmi::SetResponse> Set(const gnmi::SetRequest& request) const;

  // The device a request's prefix.target names. Without a target the only
  // device is chosen; with several, INVALID_ARGUMENT asks for one.
  absl::StatusOr<std::shared_ptr<devices::Device>> ResolveTarget(
      const std::string& target) const;

 private:
  // A path the device's schema does not know (NOT_FOUND) on a driver that
  // forwards such requests to its device unchanged.
  static bool PassesThrough(const devices::Device& device,
                            const absl::Status& resolution);
  // A Set the device refused, as the client hears it.
  static absl::Status NotApplied(const devices::Device& device,
                                 const absl::Status& status,
                                 const CommitAction& commit);
  absl::StatusOr<gnmi::GetResponse> GetNative(
      devices::Device& device, const gnmi::GetRequest& request) const;
  absl::StatusOr<gnmi::SetResponse> SetNative(devices::Device& device,
                                              const gnmi::SetRequest& request,
                                              const CommitAction& commit) const;

  devices::DeviceManager& devices_;
};

}  // namespace southgate::northbound
