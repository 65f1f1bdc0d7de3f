// The daemon's request path in-process, for the Set and Subscribe fuzz
// targets: sim devices (the real sim.so plugin) behind the real
// DeviceManager, GnmiHandler, GnmiService, telemetry hub and subscribe
// reactor, served on an in-process gRPC channel (no socket, no TLS).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/work_queue.h"
#include "devices/device_manager.h"
#include "drivers/driver_registry.h"
#include "drivers/plugin_loader.h"
#include "github.com/openconfig/gnmi/proto/gnmi/gnmi.grpc.pb.h"
#include "northbound/access.h"
#include "northbound/gnmi_handler.h"
#include "northbound/gnmi_service.h"
#include "schema/yang_context.h"
#include "security/authenticator.h"
#include "security/authorizer.h"
#include "security/login_throttle.h"
#include "telemetry/hub.h"
#include "telemetry/timer_service.h"

namespace southgate::fuzz {

// Targets: "ietf" (the IETF sim seed) and "oc" (the OpenConfig one), both
// with frozen state, plus the daemon's own "southgate".
inline constexpr char kUser[] = "fuzz";
inline constexpr char kPassword[] = "fuzz-password";

class Gateway {
 public:
  // Built on first use and kept for the process's life.
  static Gateway& Instance();

  northbound::GnmiHandler& handler() { return *handler_; }
  gnmi::gNMI::Stub& stub() { return *stub_; }
  std::vector<std::string> device_names() const;

  // Everything `device` holds (config and state) as the driver returns it.
  std::string Snapshot(const std::string& device);
  // Replaces `device` with a freshly seeded one (after a Set changed it).
  void Reseed(const std::string& device);

 private:
  Gateway();

  drivers::PluginLoader plugins_;  // outlives the registry
  drivers::DriverRegistry registry_;
  std::unique_ptr<schema::ContextCache> schemas_;
  std::unique_ptr<devices::DeviceManager> devices_;
  std::unique_ptr<telemetry::TimerService> timers_;
  std::unique_ptr<telemetry::Hub> hub_;
  std::unique_ptr<security::Authenticator> users_;
  std::unique_ptr<security::LoginThrottle> throttle_;
  std::unique_ptr<security::Authorizer> authorizer_;
  std::unique_ptr<northbound::AccessControl> access_;
  std::unique_ptr<WorkQueue> work_;
  std::unique_ptr<northbound::GnmiHandler> handler_;
  std::unique_ptr<northbound::GnmiService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<gnmi::gNMI::Stub> stub_;
};

}  // namespace southgate::fuzz
