#include "gateway.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "devices/self_driver.h"
#include "fuzz_support.h"
#include "grpcpp/grpcpp.h"
#include "security/passwords.h"

namespace southgate::fuzz {
namespace {

[[noreturn]] void SetupFailed(const std::string& what) {
  std::fprintf(stderr, "fuzz gateway set-up failed: %s\n", what.c_str());
  std::abort();
}

void Check(const absl::Status& status, const std::string& what) {
  if (!status.ok()) SetupFailed(what + ": " + status.ToString());
}

DeviceSettings SimSettings(const std::string& name) {
  DeviceSettings settings;
  settings.name = name;
  settings.driver = "sim";
  const std::string base = "\"base_dir\": \"" + SourceDir() + "\"";
  // update_interval_ms 0 freezes the state: a run depends on its input only.
  if (name == "oc") {
    settings.options_json =
        "{" + base +
        ", \"seed\": \"examples/sim/openconfig-default.json\","
        " \"modules\": [\"openconfig-interfaces\", \"openconfig-system\","
        " \"iana-if-type\"], \"update_interval_ms\": 0}";
  } else {
    settings.options_json = "{" + base +
                            ", \"seed\": \"examples/sim/ietf-default.json\","
                            " \"update_interval_ms\": 0}";
  }
  return settings;
}

constexpr auto kConnectWait = std::chrono::seconds(60);

}  // namespace

Gateway& Gateway::Instance() {
  // Never destroyed: gRPC and device threads may still run at exit.
  static Gateway* gateway = new Gateway();
  return *gateway;
}

Gateway::Gateway() {
  QuietLogs();
  Check(registry_.RegisterBuiltins(), "built-in drivers");
  Check(plugins_.Load(PluginDir() + "/sim.so", registry_), "sim.so");
  schemas_ = std::make_unique<schema::ContextCache>(std::vector<std::string>{
      SourceDir() + "/yang", "/usr/share/yuma/modules/ietf",
      SharedDir() + "/yang/openconfig/release/models",
      SharedDir() + "/yang/openconfig/third_party"});
  DriverContext context;
  context.schemas = schemas_.get();
  devices_ = std::make_unique<devices::DeviceManager>(registry_, context);
  for (const char* name : {"ietf", "oc"}) {
    Check(devices_->Add(SimSettings(name)), name);
  }
  timers_ = std::make_unique<telemetry::TimerService>();
  hub_ = std::make_unique<telemetry::Hub>();
  auto self = std::make_unique<devices::SelfDriver>(
      schemas_.get(), "fuzz", [devices = devices_.get()] {
        std::vector<devices::DeviceRow> rows;
        for (const std::string& name : devices->Names()) {
          if (auto device = devices->Find(name)) {
            rows.push_back({device->name(), device->driver_name(),
                            device->address(), device->status()});
          }
        }
        return rows;
      });
  self->SetTelemetrySource([hub = hub_.get()] {
    telemetry::TelemetryStats stats = hub->Stats();
    return devices::TelemetryCounters{stats.upstream_subscriptions,
                                      stats.client_streams, stats.cached_leaves,
                                      stats.slow_clients_cut};
  });
  Check(devices_->AddInternal(devices::kSelfTargetName, std::move(self)),
        "self target");

  auto hash = security::HashPassword(kPassword);
  Check(hash.status(), "password hash");
  security::UserEntry user;
  user.name = kUser;
  user.role = security::Role::kReadWrite;
  user.password_hash = *hash;
  users_ = std::make_unique<security::Authenticator>(
      std::vector<security::UserEntry>{user});
  // Authentication as the daemon does it; no rules (every path allowed),
  // no audit log, no admission limits (a fuzzer is one very fast client).
  throttle_ = std::make_unique<security::LoginThrottle>(
      security::LoginThrottle::Options{});
  authorizer_ = std::make_unique<security::Authorizer>(
      std::vector<security::AccessRule>{}, true);
  access_ = std::make_unique<northbound::AccessControl>(
      *users_, *throttle_, *authorizer_, security::CertIdentity::kNone,
      nullptr);
  work_ = std::make_unique<WorkQueue>(4, 4096);
  handler_ = std::make_unique<northbound::GnmiHandler>(*devices_);
  service_ =
      std::make_unique<northbound::GnmiService>(*handler_, *access_, *work_);
  northbound::SubscribeContext subscribe;
  subscribe.handler = handler_.get();
  subscribe.devices = devices_.get();
  subscribe.access = access_.get();
  subscribe.work = work_.get();
  subscribe.hub = hub_.get();
  subscribe.timers = timers_.get();
  service_->EnableSubscribe(subscribe);

  grpc::ServerBuilder builder;
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (!server_) SetupFailed("in-process gRPC server");
  stub_ = gnmi::gNMI::NewStub(server_->InProcessChannel({}));

  devices_->Start();
  if (!devices_->WaitConnected(kConnectWait)) SetupFailed("sims connect");
}

std::vector<std::string> Gateway::device_names() const {
  return devices_->Names();
}

std::string Gateway::Snapshot(const std::string& device) {
  auto found = devices_->Find(device);
  if (!found) SetupFailed("no device " + device);
  auto document = found->driver().Get({"/*"}, DataType::kAll);
  return document.ok() ? *document : document.status().ToString();
}

void Gateway::Reseed(const std::string& device) {
  Check(devices_->Replace(SimSettings(device)), "reseed " + device);
  if (!devices_->WaitConnected(kConnectWait)) SetupFailed("sim reconnect");
}

}  // namespace southgate::fuzz
