// The gnmi driver end to end: two real southgated processes chained over
// real gRPC/TLS (the scaffolding is in chain_fixture.h). Daemon A reaches its
// devices with the gnmi driver; daemon B serves sim devices and is the
// "router". No wall-clock assertions: every wait is bounded by a generous
// deadline.
#include <signal.h>

#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_replace.h"
#include "chain_fixture.h"
#include "daemon_fixture.h"
#include "github.com/openconfig/gnmi/proto/gnmi/gnmi.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace southgate::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using json = nlohmann::json;

// ---------------------------------------------------------------------------
// Mutual TLS: B requires a client certificate signed by the test CA (and,
// as every southgate, a user). A reaches B's sim device r1 through several
// gnmi-driver devices: good ones with each upstream encoding, and broken
// ones (wrong CA, untrusted client certificate, none, wrong password).
class GnmiChainMtlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new Pki();
    // The wrong-password device retries for as long as the suite runs (B's
    // failure throttle allows it).
    b_ = new DaemonProcess(MtlsBConfig(*pki_, {"update_interval_ms: 100"}));
    b_channel_ = new std::shared_ptr<grpc::Channel>(
        BChannel(*pki_, b_->address(), true));
    ASSERT_TRUE(WaitServing([] {
      return BChannel(*pki_, b_->address(), true);
    })) << b_->Log();

    auto device = [&](const std::string& name,
                      const std::vector<std::string>& options,
                      const std::string& password_file) {
      return ChainDeviceYaml(name, b_->address(), options, password_file);
    };
    const std::vector<std::string> mtls = MtlsOptions(*pki_);
    auto with = [&](std::vector<std::string> base, const std::string& extra) {
      base.push_back(extra);
      return base;
    };
    const std::string admin = pki_->File("admin.pw");
    std::string devices =
        device("r1", mtls, admin) +
        device("r1json", with(mtls, "encoding: json"), admin) +
        device("r1proto", with(mtls, "encoding: proto"), admin);
    devices +=
        device("badca",
               {"tls_ca_file: " + pki_->File("rogue-ca.crt"),
                "tls_cert_file: " + pki_->File("a.crt"),
                "tls_key_file: " + pki_->File("a.key"), "backoff_max_ms: 1000"},
               admin);
    devices += device(
        "badcert",
        {"tls_ca_file: " + pki_->File("ca.crt"),
         "tls_cert_file: " + pki_->File("rogue.crt"),
         "tls_key_file: " + pki_->File("rogue.key"), "backoff_max_ms: 1000"},
        admin);
    devices +=
        device("nocert",
               {"tls_ca_file: " + pki_->File("ca.crt"), "backoff_max_ms: 1000"},
               admin);
    devices += device("badpw", with(mtls, "backoff_max_ms: 1000"),
                      pki_->File("wrong.pw"));
    a_ = new DaemonProcess(TestConfig(devices));
    ASSERT_TRUE(WaitAServing(*a_)) << a_->Log();
    a_stub_ = gnmi::gNMI::NewStub(A()).release();
    ASSERT_TRUE(WaitConnected(*a_stub_, {"r1", "r1json", "r1proto"}))
        << a_->Log();
  }
  static void TearDownTestSuite() {
    delete a_stub_;
    delete a_;
    delete b_channel_;
    delete b_;
    delete pki_;
  }
  static std::shared_ptr<grpc::Channel> A() { return a_->TlsChannel(); }
  static std::shared_ptr<grpc::Channel> B() { return *b_channel_; }

  static Pki* pki_;
  static DaemonProcess* b_;
  static DaemonProcess* a_;
  static std::shared_ptr<grpc::Channel>* b_channel_;
  static gnmi::gNMI::Stub* a_stub_;
};
Pki* GnmiChainMtlsTest::pki_ = nullptr;
DaemonProcess* GnmiChainMtlsTest::b_ = nullptr;
DaemonProcess* GnmiChainMtlsTest::a_ = nullptr;
std::shared_ptr<grpc::Channel>* GnmiChainMtlsTest::b_channel_ = nullptr;
gnmi::gNMI::Stub* GnmiChainMtlsTest::a_stub_ = nullptr;

TEST_F(GnmiChainMtlsTest, CapabilitiesShowTheDeviceModelsAndState) {
  gnmi::CapabilityResponse response;
  auto context = ContextFor("admin", "admin");
  ASSERT_TRUE(a_stub_->Capabilities(context.get(), {}, &response).ok());
  std::set<std::string> models;
  for (const auto& model : response.supported_models()) {
    models.insert(model.name());
  }
  EXPECT_TRUE(models.count("ietf-interfaces"));
  EXPECT_TRUE(models.count("ietf-ip"));
  DeviceState state = StateOf(*a_stub_, "r1");
  EXPECT_EQ(state.state, "connected");
  EXPECT_EQ(state.last_error, "");
  // The device state shows the negotiated encoding, what B offers and the
  // models southgate loaded for it.
  EXPECT_EQ(state.encoding, "json_ietf");
  EXPECT_THAT(state.device_encodings,
              ::testing::UnorderedElementsAre("JSON", "JSON_IETF", "PROTO"));
  EXPECT_THAT(state.models,
              ::testing::Contains(::testing::StartsWith("ietf-interfaces@")));
  EXPECT_EQ(StateOf(*a_stub_, "r1json").encoding, "json");
  EXPECT_EQ(StateOf(*a_stub_, "r1proto").encoding, "proto");
  EXPECT_TRUE(StateOf(*a_stub_, "badca").models.empty());
  EXPECT_THAT(a_->Log(), HasSubstr("gnmi device 'r1': connected to " +
                                   b_->address() + " (mutual TLS"));
  EXPECT_THAT(a_->Log(), HasSubstr("encoding json_ietf (device offers"));
  EXPECT_THAT(a_->Log(), HasSubstr("gnmi device 'r1proto'"));
  // The password is never logged.
  EXPECT_THAT(a_->Log(), ::testing::Not(HasSubstr("not-the-password")));
}

TEST_F(GnmiChainMtlsTest, GetInEveryEncodingMatchesTheDevice) {
  auto b = gnmi::gNMI::NewStub(B());
  const gnmi::Path interfaces = MakePath({{"interfaces", {}}}, "r1");
  auto direct = GetJson(*b, interfaces);
  ASSERT_TRUE(direct.ok()) << direct.status();
  // Every upstream encoding the driver can use, and every client encoding.
  for (const char* device : {"r1", "r1json", "r1proto"}) {
    SCOPED_TRACE(device);
    gnmi::Path path = MakePath({{"interfaces", {}}}, device);
    auto via_a = GetJson(*a_stub_, path);
    ASSERT_TRUE(via_a.ok()) << via_a.status();
    EXPECT_EQ(*via_a, *direct);
    auto plain = GetJson(*a_stub_, path, gnmi::JSON);
    ASSERT_TRUE(plain.ok()) << plain.status();
    EXPECT_EQ(plain->dump(), GetJson(*b, interfaces, gnmi::JSON)->dump());

    gnmi::GetRequest request;
    request.mutable_prefix()->set_target(device);
    *request.add_path() = Description("");
    request.set_encoding(gnmi::PROTO);
    gnmi::GetResponse response;
    auto context = ContextFor("admin", "admin");
    ASSERT_TRUE(a_stub_->Get(context.get(), request, &response).ok());
    ASSERT_EQ(response.notification_size(), 1);
    ASSERT_EQ(response.notification(0).update_size(), 1);
    EXPECT_EQ(response.notification(0).prefix().target(), device);
    EXPECT_EQ(response.notification(0).update(0).val().string_val(),
              GetJson(*b, Description("r1"))->get<std::string>());
  }
  // B's own errors come back with their code.
  auto missing = GetJson(*a_stub_, MakePath({{"interfaces", {}},
                                             {"interface", {{"name", "nope9"}}},
                                             {"description", {}}},
                                            "r1"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound)
      << missing.status();
}

TEST_F(GnmiChainMtlsTest, SetReachesTheDeviceAndAFailedSetChangesNothing) {
  auto b = gnmi::gNMI::NewStub(B());
  ASSERT_TRUE(
      SetUpdate(*a_stub_, Description("r1", "eth1"), "\"set through A\"").ok());
  EXPECT_EQ(*GetJson(*b, Description("r1", "eth1")), json("set through A"));
  // Through the PROTO device too (scalar values upstream).
  ASSERT_TRUE(
      SetUpdate(*a_stub_, Description("r1proto", "eth1"), "\"set as proto\"")
          .ok());
  EXPECT_EQ(*GetJson(*b, Description("r1", "eth1")), json("set as proto"));

  // One good change and one that only B's full validation rejects (an
  // IPv4 address without its mandatory prefix-length): nothing changes.
  const json before = *GetJson(*b, MakePath({{"interfaces", {}}}, "r1"));
  gnmi::SetRequest request;
  request.mutable_prefix()->set_target("r1");
  gnmi::Update* good = request.add_update();
  *good->mutable_path() = Description("", "eth0");
  good->mutable_val()->set_json_ietf_val("\"must not stick\"");
  gnmi::Update* bad = request.add_update();
  *bad->mutable_path() = MakePath({{"interfaces", {}},
                                   {"interface", {{"name", "eth0"}}},
                                   {"ietf-ip:ipv4", {}},
                                   {"address", {{"ip", "192.0.2.9"}}}});
  bad->mutable_val()->set_json_ietf_val("{\"ip\": \"192.0.2.9\"}");
  gnmi::SetResponse response;
  auto context = ContextFor("admin", "admin");
  grpc::Status status = a_stub_->Set(context.get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_THAT(status.error_message(), HasSubstr("nothing changed"));
  // B's own reason comes back.
  EXPECT_THAT(status.error_message(), HasSubstr("Mandatory choice \"subnet\""));
  EXPECT_EQ(*GetJson(*b, MakePath({{"interfaces", {}}}, "r1")), before);
}

TEST_F(GnmiChainMtlsTest, SubscribeOnChangeAndSampleThroughTheChain) {
  auto b = gnmi::gNMI::NewStub(B());
  StreamClient on_change(
      A(), StreamRequest(Description("r1", "eth2"), gnmi::ON_CHANGE));
  ASSERT_TRUE(on_change.WaitSynced());
  const std::string path = "interfaces/interface[name=eth2]/description";
  ASSERT_TRUE(on_change.WaitValue(path, "\"server rack A\""));
  ASSERT_TRUE(SetUpdate(*b, Description("r1", "eth2"), "\"moved\"").ok());
  EXPECT_TRUE(on_change.WaitValue(path, "\"moved\""));

  StreamClient sample(
      A(), StreamRequest(InOctets("r1"), gnmi::SAMPLE, 200 * 1000 * 1000));
  ASSERT_TRUE(sample.WaitSynced());
  // Samples keep coming after the sync, with the device's timestamps in
  // order and counters that only grow.
  ASSERT_TRUE(sample.WaitUntil([](const std::vector<StreamClient::Event>& e) {
    return e.size() >= 6;
  })) << sample.size();
  int64_t last_time = 0;
  uint64_t last_value = 0;
  for (const auto& event : sample.events()) {
    if (event.sync) continue;
    EXPECT_EQ(event.path,
              "interfaces-state/interface[name=eth0]/statistics/in-octets");
    EXPECT_GE(event.timestamp, last_time);
    uint64_t value = std::stoull(json::parse(event.value).get<std::string>());
    EXPECT_GE(value, last_value);
    last_time = event.timestamp;
    last_value = value;
  }
  EXPECT_FALSE(on_change.finished());
}

// A delete on B reaches A's clients as a delete (an upstream Notification
// with deletes takes the full parse, the plain ones after it the wire
// reading), and the stream goes on with the next change.
TEST_F(GnmiChainMtlsTest, DeletesOnBReachClientsOfA) {
  auto b = gnmi::gNMI::NewStub(B());
  StreamClient client(
      A(), StreamRequest(Description("r1", "eth1"), gnmi::ON_CHANGE));
  ASSERT_TRUE(client.WaitSynced());
  const std::string path = "interfaces/interface[name=eth1]/description";
  ASSERT_TRUE(client.WaitUntil([&](const std::vector<StreamClient::Event>& e) {
    for (const auto& event : e) {
      if (event.path == path && !event.deleted) return true;
    }
    return false;
  }));
  gnmi::SetRequest remove;
  remove.mutable_prefix()->set_target("r1");
  *remove.add_delete_() = Description("r1", "eth1");
  remove.mutable_delete_(0)->clear_target();
  gnmi::SetResponse response;
  auto context = ContextFor("admin", "admin");
  ASSERT_TRUE(b->Set(context.get(), remove, &response).ok());
  EXPECT_TRUE(client.WaitUntil([&](const std::vector<StreamClient::Event>& e) {
    for (const auto& event : e) {
      if (event.path == path && event.deleted) return true;
    }
    return false;
  })) << client.size();
  ASSERT_TRUE(SetUpdate(*b, Description("r1", "eth1"), "\"back\"").ok());
  EXPECT_TRUE(client.WaitValue(path, "\"back\""));
  EXPECT_FALSE(client.finished());
}

TEST_F(GnmiChainMtlsTest, TwoClientsOnAShareOneUpstreamStreamToB) {
  auto b = gnmi::gNMI::NewStub(B());
  // Nothing else streams from B now (earlier tests' streams are closed).
  ASSERT_TRUE(
      WaitFor([&] { return TelemetryCounter(*b, "client-streams") == 0; }));
  const gnmi::Path path = MakePath({{"interfaces", {}}}, "r1");
  StreamClient first(A(), StreamRequest(path, gnmi::ON_CHANGE));
  StreamClient second(A(), StreamRequest(path, gnmi::ON_CHANGE));
  ASSERT_TRUE(first.WaitSynced());
  ASSERT_TRUE(second.WaitSynced());
  EXPECT_EQ(TelemetryCounter(*a_stub_, "client-streams"), 2u);
  EXPECT_EQ(TelemetryCounter(*a_stub_, "upstream-subscriptions"), 1u);
  // B serves exactly one stream: A's single upstream subscription.
  EXPECT_EQ(TelemetryCounter(*b, "client-streams"), 1u);
  EXPECT_EQ(TelemetryCounter(*b, "upstream-subscriptions"), 1u);
  // And both clients see a change made on B.
  ASSERT_TRUE(SetUpdate(*b, Description("r1", "eth3"), "\"shared\"").ok());
  const std::string leaf = "interfaces/interface[name=eth3]/description";
  EXPECT_TRUE(first.WaitValue(leaf, "\"shared\""));
  EXPECT_TRUE(second.WaitValue(leaf, "\"shared\""));
}

TEST_F(GnmiChainMtlsTest, WrongCaClientCertOrPasswordSayWhy) {
  // Each broken device ends up in "error" with its own reason (an attempt
  // may first fail otherwise, e.g. a handshake timing out on a busy
  // machine; the state follows the latest attempt).
  const std::map<std::string, std::string> reasons = {
      {"badca", "certificate verify failed"},
      {"badcert",
       "did not accept the client certificate " + pki_->File("rogue.crt")},
      {"nocert", "may require a client certificate"},
      {"badpw", "authentication failed for user 'admin'"}};
  std::map<std::string, DeviceState> states;
  auto all_say_why = [&] {
    bool all = true;
    for (const auto& [device, reason] : reasons) {
      states[device] = StateOf(*a_stub_, device);
      all &= states[device].last_error.find(reason) != std::string::npos;
    }
    return all;
  };
  const bool said = WaitFor(all_say_why, std::chrono::seconds(60));
  for (const auto& [device, reason] : reasons) {
    SCOPED_TRACE(device);
    EXPECT_THAT(states[device].state, ::testing::AnyOf("error", "connecting"));
    EXPECT_THAT(states[device].last_error, HasSubstr(reason));
  }
  ASSERT_TRUE(said);
  // A request to such a device fails with the reason, at once.
  auto got = GetJson(*a_stub_, Description("badca"));
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(got.status().message(), HasSubstr("certificate verify failed"));
  EXPECT_THAT(a_->Log(), ::testing::Not(HasSubstr("not-the-password")));
}

// ---------------------------------------------------------------------------
// Username/password over TLS with a CA bundle (no client certificate).
TEST(GnmiChainPasswordTest, PasswordAndCaBundle) {
  Pki pki;
  DaemonProcess b(TestConfig(SimDeviceYaml("r1", {"update_interval_ms: 0"}),
                             BTls(pki, false)));
  ASSERT_TRUE(WaitServing([&] { return BChannel(pki, b.address(), false); }))
      << b.Log();
  DaemonProcess a(
      TestConfig(GnmiDeviceYaml("edge", b.address(),
                                {"tls_ca_file: " + pki.File("ca.crt"),
                                 "tls_server_name: b.test", "target: r1"},
                                pki.File("admin.pw"))));
  ASSERT_TRUE(a.WaitReady(kWait)) << a.Log();
  auto stub = gnmi::gNMI::NewStub(a.TlsChannel());
  EXPECT_EQ(StateOf(*stub, "edge").state, "connected");
  EXPECT_THAT(a.Log(), HasSubstr("gnmi device 'edge': connected to " +
                                 b.address() + " (TLS"));
  auto got = GetJson(*stub, Description("edge"));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, json("uplink to core-1"));
  ASSERT_TRUE(SetUpdate(*stub, Description("edge"), "\"via password\"").ok());
  auto b_stub = gnmi::gNMI::NewStub(BChannel(pki, b.address(), false));
  EXPECT_EQ(*GetJson(*b_stub, Description("r1")), json("via password"));
}

// Skipping verification and plaintext work only when a device says so, and
// are warned about at start.
TEST(GnmiChainPasswordTest, InsecureModesOnlyWhenAskedForAndWarned) {
  Pki pki;
  DaemonProcess tls_b(TestConfig(SimDeviceYaml("r1", {"update_interval_ms: 0"}),
                                 BTls(pki, false)));
  DaemonProcess plain_b(TestConfig(
      SimDeviceYaml("r1", {"update_interval_ms: 0"}), "  insecure: true\n"));
  ASSERT_TRUE(
      WaitServing([&] { return BChannel(pki, tls_b.address(), false); }));
  ASSERT_TRUE(WaitServing([&] { return plain_b.PlaintextChannel(); }));
  const std::string password = pki.File("admin.pw");
  DaemonProcess a(TestConfig(
      GnmiDeviceYaml("skip", tls_b.address(),
                     {"insecure_skip_verify: true", "target: r1"}, password) +
      GnmiDeviceYaml("plain", plain_b.address(),
                     {"plaintext: true", "target: r1"}, password) +
      // TLS by default: a plaintext server is not silently accepted.
      GnmiDeviceYaml("tlsdefault", plain_b.address(),
                     {"target: r1", "backoff_max_ms: 1000"}, password)));
  ASSERT_TRUE(WaitFor([&] {
    return fs::exists(a.dir() + "/state/server.crt") &&
           a.Log().find("device skip: connected") != std::string::npos &&
           a.Log().find("device plain: connected") != std::string::npos;
  })) << a.Log();
  auto stub = gnmi::gNMI::NewStub(a.TlsChannel());
  for (const char* device : {"skip", "plain"}) {
    SCOPED_TRACE(device);
    auto got = GetJson(*stub, Description(device));
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, json("uplink to core-1"));
  }
  EXPECT_THAT(a.Log(), HasSubstr("gnmi device 'skip': TLS server certificate "
                                 "NOT verified (insecure_skip_verify: true)"));
  EXPECT_THAT(a.Log(), HasSubstr("gnmi device 'plain': PLAINTEXT gRPC"));
  DeviceState tls_default;
  EXPECT_TRUE(WaitFor([&] {
    tls_default = StateOf(*stub, "tlsdefault");
    return !tls_default.last_error.empty();
  }));
  EXPECT_NE(tls_default.state, "connected");
  EXPECT_THAT(tls_default.last_error, HasSubstr("TLS"));
}

// ---------------------------------------------------------------------------
// B killed and restarted (on the same port, with different data) while a
// client streams from A: the stream stays open, the new values arrive and
// what vanished is deleted.
TEST(GnmiChainRestartTest, StreamSurvivesDeviceRestart) {
  Pki pki;
  const int b_port = FreeLoopbackPort();
  const std::string b_address = "127.0.0.1:" + std::to_string(b_port);
  // The second life of B: eth0 renamed, eth3 gone.
  json seed = json::parse(ReadText(std::string(SOUTHGATE_SOURCE_DIR) +
                                   "/examples/sim/ietf-default.json"));
  auto& interfaces = seed["ietf-interfaces:interfaces"]["interface"];
  for (auto it = interfaces.begin(); it != interfaces.end();) {
    if ((*it)["name"] == "eth0") (*it)["description"] = "after restart";
    if ((*it)["name"] == "eth3") {
      it = interfaces.erase(it);
    } else {
      ++it;
    }
  }
  WriteText(pki.File("seed2.json"), seed.dump());
  auto b_config = [&](const std::string& seed_file) {
    std::string devices =
        "  - name: r1\n    driver: sim\n    options:\n"
        "      seed: " +
        seed_file + "\n      update_interval_ms: 0\n";
    return absl::StrReplaceAll(TestConfig(devices, BTls(pki, false)),
                               {{"{PORT}", std::to_string(b_port)}});
  };
  auto b = std::make_unique<DaemonProcess>(b_config(
      std::string(SOUTHGATE_SOURCE_DIR) + "/examples/sim/ietf-default.json"));
  ASSERT_TRUE(WaitServing([&] { return BChannel(pki, b_address, false); }))
      << b->Log();
  DaemonProcess a(TestConfig(GnmiDeviceYaml(
      "r1", b_address,
      {"tls_ca_file: " + pki.File("ca.crt"), "tls_server_name: b.test",
       "target: r1", "backoff_initial_ms: 100", "backoff_max_ms: 500"},
      pki.File("admin.pw"))));
  ASSERT_TRUE(a.WaitReady(kWait)) << a.Log();
  auto a_stub = gnmi::gNMI::NewStub(a.TlsChannel());

  StreamClient client(
      a.TlsChannel(),
      StreamRequest(MakePath({{"interfaces", {}}}, "r1"), gnmi::ON_CHANGE));
  ASSERT_TRUE(client.WaitSynced());
  ASSERT_TRUE(client.WaitValue("interfaces/interface[name=eth3]/description",
                               "\"spare port\""));

  b->Stop(SIGKILL);
  ASSERT_TRUE(WaitFor([&] { return StateOf(*a_stub, "r1").state == "error"; }))
      << a.Log();
  EXPECT_THAT(StateOf(*a_stub, "r1").last_error,
              ::testing::AnyOf(HasSubstr("connection lost"),
                               HasSubstr("reconnecting")));
  // While B is away, requests fail with the reason; the stream stays open.
  EXPECT_EQ(GetJson(*a_stub, Description("r1")).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_FALSE(client.finished());
  const size_t before_restart = client.size();

  b = std::make_unique<DaemonProcess>(b_config(pki.File("seed2.json")));
  ASSERT_TRUE(WaitServing([&] { return BChannel(pki, b_address, false); }))
      << b->Log();
  EXPECT_TRUE(client.WaitValue("interfaces/interface[name=eth0]/description",
                               "\"after restart\"", before_restart))
      << a.Log();
  EXPECT_TRUE(client.WaitUntil([&](const std::vector<StreamClient::Event>& e) {
    for (size_t i = before_restart; i < e.size(); ++i) {
      if (e[i].deleted &&
          e[i].path == "interfaces/interface[name=eth3]/description") {
        return true;
      }
    }
    return false;
  })) << a.Log();
  // Unchanged values are not repeated after the resync.
  {
    auto events = client.events();
    for (size_t i = before_restart; i < events.size(); ++i) {
      EXPECT_NE(events[i].path, "interfaces/interface[name=eth1]/description");
    }
  }
  DeviceState state = StateOf(*a_stub, "r1");
  EXPECT_EQ(state.state, "connected");
  EXPECT_GE(state.reconnects, 1u);
  // The resumed stream carries new changes too.
  auto b_stub = gnmi::gNMI::NewStub(BChannel(pki, b_address, false));
  ASSERT_TRUE(
      SetUpdate(*b_stub, Description("r1", "eth1"), "\"live again\"").ok());
  EXPECT_TRUE(client.WaitValue("interfaces/interface[name=eth1]/description",
                               "\"live again\"", before_restart));
  EXPECT_FALSE(client.finished()) << client.status().error_message();
}

}  // namespace
}  // namespace southgate::testing
