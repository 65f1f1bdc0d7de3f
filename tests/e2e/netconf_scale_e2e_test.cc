// Many inventory entries pointing at one real netconfd (behind its own sshd):
// every device reaches "connected" (read through the daemon's own gNMI
// target, southgate-devices) and all of them share one libyang context. The
// reduced form of bench/netconf_scale_bench (1,000 devices); no timing is
// asserted, every wait is bounded.
#include <cstdlib>
#include <fstream>
#include <map>
#include <thread>

#include "daemon_fixture.h"
#include "github.com/openconfig/gnmi/proto/gnmi/gnmi.grpc.pb.h"
#include "gtest/gtest.h"
#include "netconf_device.h"
#include "nlohmann/json.hpp"

namespace southgate::testing {
namespace {

using nlohmann::json;

constexpr int kDevices = 50;

// The JSON_IETF value at `path` on the daemon's own target; null on error.
json GetSelf(gnmi::gNMI::Stub& stub, const gnmi::Path& path,
             std::string* error) {
  gnmi::GetRequest request;
  request.mutable_prefix()->set_target("southgate");
  *request.add_path() = path;
  request.set_encoding(gnmi::JSON_IETF);
  gnmi::GetResponse response;
  auto context = ContextFor("admin", "admin");
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(10));
  grpc::Status status = stub.Get(context.get(), request, &response);
  if (!status.ok()) {
    *error = status.error_message();
    return nullptr;
  }
  if (response.notification_size() != 1 ||
      response.notification(0).update_size() != 1) {
    *error = "unexpected response " + response.DebugString();
    return nullptr;
  }
  return json::parse(response.notification(0).update(0).val().json_ietf_val());
}

TEST(NetconfScaleEndToEnd, FiftyDevicesOnOneNetconfdConnectAndShareASchema) {
  NetconfDevice device;
  ASSERT_TRUE(device.Start()) << device.error();
  const std::string password_file = device.dir() + "/password";
  std::ofstream(password_file) << NetconfDevice::kPassword;
  std::string devices;
  for (int i = 1; i <= kDevices; ++i) {
    devices +=
        "  - name: nc" + std::to_string(i) +
        "\n    driver: netconf\n    address: " + device.address() +
        "\n    credentials:\n      username: " + NetconfDevice::kUser +
        "\n      password_file: " + password_file +
        "\n    options:\n      known_hosts_file: " + device.KnownHostsFile() +
        // The first session downloads every schema for all of them; on a
        // loaded CI machine it got no answer within 10 s and every later
        // session then failed (netconfd 2.13 is known to crash when a
        // session fetches schemas after another was dropped).
        "\n      connect_timeout_ms: 60000\n";
  }
  DaemonProcess daemon(R"(
server:
  listen: 127.0.0.1:{PORT}
state_dir: {DIR}/state
log:
  level: info
yang:
  dirs: [ {SOURCE}/yang ]
{USERS}
devices:
)" + devices);
  ASSERT_TRUE(daemon.WaitReady(std::chrono::seconds(120)))
      << daemon.Log() << "\n" << device.Diagnostics();
  auto stub = gnmi::gNMI::NewStub(daemon.TlsChannel());

  gnmi::Path devices_path = MakePath({{"devices", {}}});
  std::map<std::string, std::string> states;
  std::string error;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(180);
  size_t connected = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    json rows = GetSelf(*stub, devices_path, &error);
    states.clear();
    if (rows.contains("southgate-devices:device")) {
      for (const auto& row : rows["southgate-devices:device"]) {
        states[row["name"]] = row["state"];
      }
    }
    connected = 0;
    for (const auto& [name, state] : states) connected += state == "connected";
    if (connected == kDevices) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_EQ(states.size(), static_cast<size_t>(kDevices)) << error;
  ASSERT_EQ(connected, static_cast<size_t>(kDevices)) << error << "\n"
                                                      << daemon.Log() << "\n"
                                                      << device.Diagnostics();

  // One context for the daemon's own southgate-devices and one that every
  // NETCONF device shares (same server, same modules).
  json contexts = GetSelf(
      *stub, MakePath({{"daemon", {}}, {"schema-contexts", {}}}), &error);
  EXPECT_EQ(contexts, "2") << error;

  // Every device is usable: the last one answers a Get through the device.
  gnmi::GetRequest get;
  get.mutable_prefix()->set_target("nc" + std::to_string(kDevices));
  gnmi::Path* path = get.add_path();
  path->set_origin("ietf-interfaces");
  path->add_elem()->set_name("interfaces");
  get.set_encoding(gnmi::JSON_IETF);
  get.set_type(gnmi::GetRequest::CONFIG);
  gnmi::GetResponse response;
  auto context = ContextFor("admin", "admin");
  grpc::Status status = stub->Get(context.get(), get, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();

  EXPECT_EQ(daemon.Stop(SIGTERM), 0) << daemon.Log();
}

}  // namespace
}  // namespace southgate::testing
