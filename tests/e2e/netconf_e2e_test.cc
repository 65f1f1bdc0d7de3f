// gNMI over TLS through the real southgated binary to a real NETCONF device
// (netconfd behind sshd, tests/netconf/netconf_device.h).
#include <fstream>

#include "daemon_fixture.h"
#include "github.com/openconfig/gnmi/proto/gnmi/gnmi.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netconf_device.h"
#include "nlohmann/json.hpp"

namespace southgate::testing {
namespace {

using ::testing::HasSubstr;

gnmi::Path InterfacePath(const std::string& name) {
  gnmi::Path path;
  path.set_origin("ietf-interfaces");
  path.add_elem()->set_name("interfaces");
  gnmi::PathElem* elem = path.add_elem();
  elem->set_name("interface");
  (*elem->mutable_key())["name"] = name;
  return path;
}

TEST(NetconfEndToEnd, GetAndSetOverTlsReachNetconfd) {
  NetconfDevice device;
  ASSERT_TRUE(device.Start()) << device.error();
  const std::string password_file = device.dir() + "/password";
  std::ofstream(password_file) << NetconfDevice::kPassword;
  DaemonProcess daemon(R"(
server:
  listen: 127.0.0.1:{PORT}
state_dir: {DIR}/state
log:
  level: debug
yang:
  dirs: [ {SOURCE}/yang ]
{USERS}
devices:
  - name: nc1
    driver: netconf
    address: )" + device.address() +
                       R"(
    credentials:
      username: )" + NetconfDevice::kUser +
                       R"(
      password_file: )" +
                       password_file + R"(
    options:
      known_hosts_file: )" +
                       device.KnownHostsFile() + R"(
      connect_timeout_ms: 3000
)");
  ASSERT_TRUE(daemon.WaitReady(std::chrono::seconds(60))) << daemon.Log();
  auto stub = gnmi::gNMI::NewStub(daemon.TlsChannel());

  gnmi::SetRequest set;
  set.mutable_prefix()->set_target("nc1");
  gnmi::Update* update = set.add_update();
  *update->mutable_path() = InterfacePath("e2e0");
  update->mutable_val()->set_json_ietf_val(
      R"({"name":"e2e0","type":"iana-if-type:softwareLoopback","description":"via gNMI"})");
  gnmi::SetResponse set_response;
  auto context = ContextFor("admin", "admin");
  grpc::Status status = stub->Set(context.get(), set, &set_response);
  ASSERT_TRUE(status.ok()) << status.error_message() << "\n" << daemon.Log();

  gnmi::GetRequest get;
  get.mutable_prefix()->set_target("nc1");
  *get.add_path() = InterfacePath("e2e0");
  get.set_encoding(gnmi::JSON_IETF);
  get.set_type(gnmi::GetRequest::CONFIG);
  gnmi::GetResponse get_response;
  context = ContextFor("admin", "admin");
  status = stub->Get(context.get(), get, &get_response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(get_response.notification_size(), 1);
  ASSERT_EQ(get_response.notification(0).update_size(), 1)
      << get_response.DebugString();
  auto value = nlohmann::json::parse(
      get_response.notification(0).update(0).val().json_ietf_val());
  EXPECT_EQ(value.value("ietf-interfaces:description", ""), "via gNMI")
      << value.dump();

  // A value the device refuses (no mandatory type) is ABORTED with the
  // device's error, and nothing changes.
  gnmi::SetRequest bad;
  bad.mutable_prefix()->set_target("nc1");
  gnmi::Update* bad_update = bad.add_update();
  *bad_update->mutable_path() = InterfacePath("e2e-bad");
  bad_update->mutable_val()->set_json_ietf_val(R"({"name":"e2e-bad"})");
  context = ContextFor("admin", "admin");
  status = stub->Set(context.get(), bad, &set_response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED)
      << status.error_message();

  // Confirmed commit through the gnmi_ext Commit extension, then cancel.
  gnmi::SetRequest confirmed;
  confirmed.mutable_prefix()->set_target("nc1");
  gnmi::Update* c_update = confirmed.add_update();
  *c_update->mutable_path() = InterfacePath("e2e-cc");
  c_update->mutable_val()->set_json_ietf_val(
      R"({"name":"e2e-cc","type":"iana-if-type:softwareLoopback"})");
  auto* commit = confirmed.add_extension()->mutable_commit();
  commit->set_id("e2e");
  commit->mutable_commit()->mutable_rollback_duration()->set_seconds(60);
  context = ContextFor("admin", "admin");
  status = stub->Set(context.get(), confirmed, &set_response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  gnmi::SetRequest cancel;
  cancel.mutable_prefix()->set_target("nc1");
  auto* cancel_commit = cancel.add_extension()->mutable_commit();
  cancel_commit->set_id("e2e");
  cancel_commit->mutable_cancel();
  context = ContextFor("admin", "admin");
  status = stub->Set(context.get(), cancel, &set_response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  *get.mutable_path(0) = InterfacePath("e2e-cc");
  context = ContextFor("admin", "admin");
  status = stub->Get(context.get(), get, &get_response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(get_response.DebugString(),
              ::testing::Not(HasSubstr("json_ietf_val")));

  EXPECT_EQ(daemon.Stop(SIGTERM), 0) << daemon.Log();
}

}  // namespace
}  // namespace southgate::testing
