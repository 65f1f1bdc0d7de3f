// gNMI over TLS through the real southgated binary to a real NETCONF device
// (netconfd behind sshd, tests/netconf/netconf_device.h).
#include <fstream>
#include <thread>

#include "daemon_fixture.h"
#include "github.com/openconfig/gnmi/proto/gnmi/gnmi.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netconf/session.h"
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

// Another NETCONF client of the same device: a plain libnetconf2 session
// (src/netconf) sending hand-written edit-config XML, independent of the
// driver's own edit builder.
class OtherNetconfClient {
 public:
  OtherNetconfClient(const NetconfDevice& device,
                     const std::string& schema_dir) {
    netconf::SshOptions options;
    options.host = "127.0.0.1";
    options.port = static_cast<uint16_t>(device.port());
    options.username = NetconfDevice::kUser;
    options.password = NetconfDevice::kPassword;
    options.known_hosts_file = device.KnownHostsFile();
    // The daemon's schema cache: nothing is fetched with get-schema while
    // the daemon's sessions are open (netconfd 2.13 crashes on that).
    options.schema_searchpath = schema_dir;
    auto session = netconf::Session::ConnectSsh(options);
    EXPECT_TRUE(session.ok()) << session.status();
    if (session.ok()) session_ = std::move(session).value();
  }

  absl::Status Edit(const std::string& config_xml) {
    if (!session_) return absl::UnavailableError("not connected");
    absl::Status status = session_->Lock(netconf::Datastore::kCandidate);
    if (!status.ok()) return status;
    status =
        session_->EditConfig(netconf::Datastore::kCandidate, config_xml, false);
    if (status.ok()) status = session_->Commit(false, 0);
    if (!status.ok()) (void)session_->DiscardChanges();
    (void)session_->Unlock(netconf::Datastore::kCandidate);
    return status;
  }

 private:
  std::unique_ptr<netconf::Session> session_;
};

std::string InterfaceXml(const std::string& name, const std::string& inner) {
  return R"(<interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces"><interface><name>)" +
         name + "</name>" + inner + "</interface></interfaces>";
}

// ON_CHANGE through gNMI Subscribe over TLS follows another client's edits
// of the device by its netconf-config-change notifications: the driver's
// polling is set to an hour and its resync is off, and the daemon's own
// target counts the notifications that drove the updates.
TEST(NetconfEndToEnd, OnChangeFollowsAnotherClientsEditsByNotifications) {
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
      change_poll_interval_ms: 3600000
      notification_resync_interval_ms: 0
)");
  ASSERT_TRUE(daemon.WaitReady(std::chrono::seconds(60))) << daemon.Log();
  auto stub = gnmi::gNMI::NewStub(daemon.TlsChannel());

  gnmi::SubscribeRequest request;
  gnmi::SubscriptionList* list = request.mutable_subscribe();
  list->mutable_prefix()->set_target("nc1");
  list->set_mode(gnmi::SubscriptionList::STREAM);
  list->set_encoding(gnmi::JSON_IETF);
  gnmi::Subscription* subscription = list->add_subscription();
  subscription->mutable_path()->set_origin("ietf-interfaces");
  subscription->mutable_path()->add_elem()->set_name("interfaces");
  subscription->set_mode(gnmi::ON_CHANGE);
  auto context = ContextFor("admin", "admin");
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(60));
  auto stream = stub->Subscribe(context.get());
  ASSERT_TRUE(stream->Write(request));
  gnmi::SubscribeResponse response;
  bool synced = false;
  while (!synced && stream->Read(&response)) synced = response.sync_response();
  ASSERT_TRUE(synced) << stream->Finish().error_message() << daemon.Log();

  // Reads until an update or delete whose text holds `needle`.
  auto read_until = [&](const std::string& needle, bool deleted) {
    while (stream->Read(&response)) {
      if (!response.has_update()) continue;
      const gnmi::Notification& n = response.update();
      if (deleted) {
        for (const auto& path : n.delete_())
          if (path.DebugString().find(needle) != std::string::npos) return true;
      } else {
        for (const auto& update : n.update())
          if (update.DebugString().find(needle) != std::string::npos)
            return true;
      }
    }
    return false;
  };

  OtherNetconfClient other(device, daemon.dir() + "/state/netconf-schemas");
  absl::Status edited = other.Edit(InterfaceXml(
      "oc1",
      R"(<type xmlns:ianaift="urn:ietf:params:xml:ns:yang:iana-if-type">ianaift:softwareLoopback</type><description>from another client</description>)"));
  ASSERT_TRUE(edited.ok()) << edited;
  EXPECT_TRUE(read_until("from another client", false)) << daemon.Log();

  edited = other.Edit(InterfaceXml(
      "oc1",
      R"(<description xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" nc:operation="delete"/>)"));
  ASSERT_TRUE(edited.ok()) << edited;
  EXPECT_TRUE(read_until("description", true)) << daemon.Log();

  // The daemon's own target: the notifications that drove these updates.
  gnmi::GetRequest get;
  get.mutable_prefix()->set_target("southgate");
  *get.add_path() = MakePath({{"devices", {}},
                              {"device", {{"name", "nc1"}}},
                              {"change-notifications", {}}});
  get.set_encoding(gnmi::PROTO);
  gnmi::GetResponse get_response;
  auto get_context = ContextFor("viewer", "viewer");
  grpc::Status status = stub->Get(get_context.get(), get, &get_response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(get_response.notification_size(), 1);
  ASSERT_EQ(get_response.notification(0).update_size(), 1)
      << get_response.DebugString();
  EXPECT_GE(get_response.notification(0).update(0).val().uint_val(), 2u);

  context->TryCancel();
  (void)stream->Finish();
  EXPECT_EQ(daemon.Stop(SIGTERM), 0) << daemon.Log();
}

}  // namespace
}  // namespace southgate::testing
