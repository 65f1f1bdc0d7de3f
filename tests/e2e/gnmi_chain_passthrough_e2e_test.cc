// The gnmi driver's pass-through, end to end: daemon A lacks a model that
// daemon B's device has (A's YANG search path holds the interface models
// but not ietf-system), so requests naming ietf-system go to B unchanged
// and B's answers come back unchanged. B runs with its clock a day ahead
// (libfaketime; ahead, not behind, so that the test certificates are
// already valid for it), so a timestamp in A's answers from tomorrow can
// only be B's own: that is how the tests see timestamps passed back
// faithfully.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_replace.h"
#include "chain_fixture.h"
#include "daemon_fixture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace southgate::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using json = nlohmann::json;

constexpr char kFakeTimeLibrary[] =
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
constexpr char kIetfModules[] = "/usr/share/yuma/modules/ietf";

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// B's clock runs 24 h ahead: anything 12 h in the future came from B.
bool FromB(int64_t timestamp_ns) {
  constexpr int64_t kTwelveHours = 12LL * 3600 * 1000000000;
  return timestamp_ns > NowNs() + kTwelveHours;
}

gnmi::Path System(const std::string& target, const std::string& leaf = "") {
  gnmi::Path path = MakePath({{"ietf-system:system", {}}}, target);
  if (!leaf.empty()) path.add_elem()->set_name(leaf);
  return path;
}

// Every update of a GetResponse, serialized: what must match byte for byte.
std::vector<std::string> UpdateBytes(const gnmi::GetResponse& response) {
  std::vector<std::string> out;
  for (const auto& notification : response.notification()) {
    for (const auto& update : notification.update()) {
      out.push_back(update.SerializeAsString());
    }
  }
  return out;
}

std::string Hostname(gnmi::gNMI::Stub& b) {
  auto got = GetJson(b, System("r1", "hostname"));
  return got.ok() ? got->dump() : got.status().ToString();
}

class GnmiChainPassThroughTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    chain_ = new ChainSuite();
    chain_->b = std::make_unique<DaemonProcess>(
        TestConfig(SimDeviceYaml("r1", {"update_interval_ms: 0"}),
                   BTls(*chain_->pki, false)),
        std::vector<std::string>{}, std::string(),
        std::vector<std::string>{std::string("LD_PRELOAD=") + kFakeTimeLibrary,
                                 "FAKETIME=+1d",
                                 "FAKETIME_DONT_FAKE_MONOTONIC=1"});
    ASSERT_TRUE(WaitServing([] {
      return BChannel(*chain_->pki, chain_->b->address(), false);
    })) << chain_->b->Log();
    chain_->b_stub = gnmi::gNMI::NewStub(
        BChannel(*chain_->pki, chain_->b->address(), false));

    // A's YANG search path: the interface models and their imports only.
    const std::string yang = chain_->pki->dir() + "/a-yang";
    fs::create_directories(yang);
    for (const auto& entry : fs::directory_iterator(kIetfModules)) {
      const std::string name = entry.path().filename();
      for (const char* module :
           {"ietf-interfaces@", "iana-if-type@", "ietf-ip@", "ietf-yang-types@",
            "ietf-inet-types@"}) {
        if (name.starts_with(module)) {
          fs::create_symlink(entry.path(), yang + "/" + name);
        }
      }
    }
    const std::vector<std::string> tls = {
        "tls_ca_file: " + chain_->pki->File("ca.crt"), "rpc_timeout_ms: 10000"};
    std::vector<std::string> closed = tls;
    closed.push_back("pass_through: false");
    const std::string devices =
        ChainDeviceYaml("edge", chain_->b->address(), tls,
                        chain_->pki->File("admin.pw")) +
        ChainDeviceYaml("closed", chain_->b->address(), closed,
                        chain_->pki->File("admin.pw"));
    chain_->a = std::make_unique<DaemonProcess>(
        absl::StrReplaceAll(TestConfig(devices), {{kIetfModules, yang}}));
    ASSERT_TRUE(WaitAServing(*chain_->a)) << chain_->a->Log();
    chain_->a_stub = gnmi::gNMI::NewStub(chain_->a->TlsChannel());
    ASSERT_TRUE(WaitConnected(*chain_->a_stub, {"edge", "closed"}))
        << chain_->a->Log();
  }
  static void TearDownTestSuite() {
    delete chain_;
    chain_ = nullptr;
  }

  static ChainSuite* chain_;
};
ChainSuite* GnmiChainPassThroughTest::chain_ = nullptr;

TEST_F(GnmiChainPassThroughTest, CapabilitiesAndStateNameThePassedModels) {
  gnmi::CapabilityResponse response;
  auto context = ContextFor("admin", "admin");
  ASSERT_TRUE(chain_->a_stub->Capabilities(context.get(), {}, &response).ok());
  std::set<std::string> models;
  for (const auto& model : response.supported_models()) {
    models.insert(model.name());
  }
  // Served through A although A cannot load it.
  EXPECT_TRUE(models.count("ietf-system"));
  EXPECT_TRUE(models.count("ietf-interfaces"));
  EXPECT_THAT(chain_->a->Log(), HasSubstr("ietf-system"));
  EXPECT_THAT(chain_->a->Log(), HasSubstr("passed through unvalidated"));
}

TEST_F(GnmiChainPassThroughTest, GetPassesThroughInEveryEncoding) {
  for (gnmi::Encoding encoding : {gnmi::JSON_IETF, gnmi::JSON, gnmi::PROTO}) {
    SCOPED_TRACE(gnmi::Encoding_Name(encoding));
    auto via_a =
        GetResponseOf(*chain_->a_stub, System("edge", "hostname"), encoding);
    ASSERT_TRUE(via_a.ok()) << via_a.status() << chain_->a->Log();
    auto direct =
        GetResponseOf(*chain_->b_stub, System("r1", "hostname"), encoding);
    ASSERT_TRUE(direct.ok()) << direct.status();
    ASSERT_EQ(via_a->notification_size(), 1);
    // B's answer, unchanged but for the target: southgate's name for B.
    EXPECT_EQ(via_a->notification(0).prefix().target(), "edge");
    EXPECT_EQ(UpdateBytes(*via_a), UpdateBytes(*direct));
    EXPECT_FALSE(UpdateBytes(*via_a).empty());
    EXPECT_TRUE(FromB(via_a->notification(0).timestamp()))
        << via_a->notification(0).timestamp();
  }
  // A whole subtree, in B's own encoding of it.
  auto tree = GetJson(*chain_->a_stub, System("edge"));
  ASSERT_TRUE(tree.ok()) << tree.status();
  EXPECT_EQ((*tree)["ietf-system:location"], json("lab rack 1"))
      << tree->dump();
}

TEST_F(GnmiChainPassThroughTest, TranslatedGetAndSetCarryTheDeviceTimestamp) {
  auto got =
      GetResponseOf(*chain_->a_stub, Description("edge"), gnmi::JSON_IETF);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->notification_size(), 1);
  EXPECT_TRUE(FromB(got->notification(0).timestamp()));

  gnmi::SetResponse response;
  ASSERT_TRUE(SetUpdate(*chain_->a_stub, Description("edge"),
                        "\"stamped by B\"", &response)
                  .ok());
  EXPECT_TRUE(FromB(response.timestamp())) << response.timestamp();
  EXPECT_EQ(response.prefix().target(), "edge");
}

TEST_F(GnmiChainPassThroughTest, SetPassesThroughAndAFailureChangesNothing) {
  gnmi::SetResponse response;
  grpc::Status applied = SetUpdate(*chain_->a_stub, System("edge", "hostname"),
                                   "\"renamed-by-a\"", &response);
  ASSERT_TRUE(applied.ok()) << applied.error_message() << chain_->a->Log();
  EXPECT_EQ(Hostname(*chain_->b_stub), "\"renamed-by-a\"");
  EXPECT_EQ(response.prefix().target(), "edge");
  EXPECT_TRUE(FromB(response.timestamp())) << response.timestamp();
  ASSERT_EQ(response.response_size(), 1);
  EXPECT_EQ(response.response(0).op(), gnmi::UpdateResult::UPDATE);

  // One good leaf of a passed-through model, one of a translated model and
  // one value B's schema rejects: B refuses the whole request atomically.
  gnmi::SetRequest bad;
  bad.mutable_prefix()->set_target("edge");
  gnmi::Update* hostname = bad.add_update();
  *hostname->mutable_path() = System("", "hostname");
  hostname->mutable_val()->set_json_ietf_val("\"never-applied\"");
  gnmi::Update* description = bad.add_update();
  *description->mutable_path() = Description("");
  description->mutable_val()->set_json_ietf_val("\"never-applied\"");
  gnmi::Update* offset = bad.add_update();
  *offset->mutable_path() = MakePath(
      {{"ietf-system:system", {}}, {"clock", {}}, {"timezone-utc-offset", {}}},
      "");
  offset->mutable_val()->set_json_ietf_val("99999");
  const std::string description_before =
      GetJson(*chain_->b_stub, Description("r1"))->dump();
  auto context = ContextFor("admin", "admin");
  grpc::Status status = chain_->a_stub->Set(context.get(), bad, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED)
      << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("timezone-utc-offset"));
  EXPECT_EQ(Hostname(*chain_->b_stub), "\"renamed-by-a\"");
  EXPECT_EQ(GetJson(*chain_->b_stub, Description("r1"))->dump(),
            description_before);
}

TEST_F(GnmiChainPassThroughTest, SubscribeOnceAnswersFromThePassedThroughFeed) {
  gnmi::SubscribeRequest request =
      StreamRequest(System("edge"), gnmi::ON_CHANGE);
  request.mutable_subscribe()->set_mode(gnmi::SubscriptionList::ONCE);
  StreamClient once(chain_->a->TlsChannel(), request);
  ASSERT_TRUE(WaitFor([&] { return once.finished(); })) << chain_->a->Log();
  EXPECT_TRUE(once.status().ok()) << once.status().error_message();
  bool synced = false;
  std::set<std::string> paths;
  for (const auto& event : once.events()) {
    if (event.sync) synced = true;
    if (!event.sync && !synced) paths.insert(event.path);
  }
  EXPECT_TRUE(synced);
  EXPECT_TRUE(paths.count("system/hostname")) << paths.size();
  EXPECT_TRUE(paths.count("system/contact"));
}

TEST_F(GnmiChainPassThroughTest, SubscribePassesThroughSharedAndDeletes) {
  ASSERT_TRUE(WaitFor([&] {
    return TelemetryCounter(*chain_->b_stub, "client-streams") == 0;
  }));
  const gnmi::Path path = System("edge");
  StreamClient first(chain_->a->TlsChannel(),
                     StreamRequest(path, gnmi::ON_CHANGE));
  StreamClient second(chain_->a->TlsChannel(),
                      StreamRequest(path, gnmi::ON_CHANGE));
  ASSERT_TRUE(first.WaitSynced()) << chain_->a->Log();
  ASSERT_TRUE(second.WaitSynced());
  // As B names it (its first element unqualified).
  const std::string location = "system/location";
  EXPECT_TRUE(first.WaitValue(location, "\"lab rack 1\"")) << [&] {
    std::string seen;
    for (const auto& event : first.events()) {
      seen += event.path + "=" + event.value + "\n";
    }
    return seen;
  }();
  for (const auto& event : first.events()) {
    if (!event.sync) EXPECT_TRUE(FromB(event.timestamp)) << event.path;
  }
  // One upstream stream to B for both clients.
  EXPECT_EQ(TelemetryCounter(*chain_->a_stub, "upstream-subscriptions"), 1u);
  EXPECT_EQ(TelemetryCounter(*chain_->b_stub, "client-streams"), 1u);

  const size_t before = first.size();
  ASSERT_TRUE(
      SetUpdate(*chain_->b_stub, System("r1", "location"), "\"lab rack 9\"")
          .ok());
  EXPECT_TRUE(first.WaitValue(location, "\"lab rack 9\"", before));
  EXPECT_TRUE(second.WaitValue(location, "\"lab rack 9\"", before));

  gnmi::SetRequest remove;
  remove.mutable_prefix()->set_target("r1");
  *remove.add_delete_() = System("", "location");
  gnmi::SetResponse response;
  auto context = ContextFor("admin", "admin");
  ASSERT_TRUE(chain_->b_stub->Set(context.get(), remove, &response).ok());
  EXPECT_TRUE(first.WaitUntil([&](const auto& events) {
    for (const auto& event : events) {
      if (event.deleted && event.path == location) return true;
    }
    return false;
  }));
}

TEST_F(GnmiChainPassThroughTest, ErrorsComeFromTheDeviceOrTheSwitch) {
  // Unknown to A and to B: B's answer, passed back.
  auto unknown = GetResponseOf(
      *chain_->a_stub, MakePath({{"ietf-system:no-such-node", {}}}, "edge"),
      gnmi::JSON_IETF);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound)
      << unknown.status();
  // A device with pass_through: false answers for itself.
  auto closed = GetResponseOf(*chain_->a_stub, System("closed", "hostname"),
                              gnmi::JSON_IETF);
  EXPECT_EQ(closed.status().code(), absl::StatusCode::kNotFound)
      << closed.status();
  StreamClient stream(chain_->a->TlsChannel(),
                      StreamRequest(System("closed"), gnmi::ON_CHANGE));
  ASSERT_TRUE(WaitFor([&] { return stream.finished(); }));
  EXPECT_EQ(stream.status().error_code(), grpc::StatusCode::NOT_FOUND)
      << stream.status().error_message();
}

// A passed-through stream survives B's restart like a translated one: what
// changed meanwhile arrives, what vanished is deleted, the rest is not
// repeated.
TEST(GnmiChainPassThroughRestartTest, StreamResyncsAfterDeviceRestart) {
  Pki pki;
  const int b_port = FreeLoopbackPort();
  const std::string b_address = "127.0.0.1:" + std::to_string(b_port);
  // B's second life: another hostname, no location.
  json seed = json::parse(ReadText(std::string(SOUTHGATE_SOURCE_DIR) +
                                   "/examples/sim/ietf-default.json"));
  seed["ietf-system:system"]["hostname"] = "after-restart";
  seed["ietf-system:system"].erase("location");
  WriteText(pki.File("seed2.json"), seed.dump());
  auto b_config = [&](const std::string& seed_file) {
    return absl::StrReplaceAll(
        TestConfig("  - name: r1\n    driver: sim\n    options:\n"
                   "      seed: " +
                       seed_file + "\n      update_interval_ms: 0\n",
                   BTls(pki, false)),
        {{"{PORT}", std::to_string(b_port)}});
  };
  auto b = std::make_unique<DaemonProcess>(b_config(
      std::string(SOUTHGATE_SOURCE_DIR) + "/examples/sim/ietf-default.json"));
  ASSERT_TRUE(WaitServing([&] { return BChannel(pki, b_address, false); }))
      << b->Log();
  const std::string yang = pki.dir() + "/a-yang";
  fs::create_directories(yang);
  for (const char* module :
       {"ietf-interfaces@2014-05-08.yang", "iana-if-type@2014-05-08.yang",
        "ietf-yang-types@2013-07-15.yang"}) {
    fs::create_symlink(std::string(kIetfModules) + "/" + module,
                       yang + "/" + module);
  }
  DaemonProcess a(absl::StrReplaceAll(
      TestConfig(
          ChainDeviceYaml("edge", b_address,
                          {"tls_ca_file: " + pki.File("ca.crt"),
                           "backoff_initial_ms: 100", "backoff_max_ms: 500"},
                          pki.File("admin.pw"))),
      {{kIetfModules, yang}}));
  ASSERT_TRUE(a.WaitReady(kWait)) << a.Log();
  auto a_stub = gnmi::gNMI::NewStub(a.TlsChannel());

  StreamClient client(a.TlsChannel(),
                      StreamRequest(System("edge"), gnmi::ON_CHANGE));
  ASSERT_TRUE(client.WaitSynced()) << a.Log();
  ASSERT_TRUE(client.WaitValue("system/location", "\"lab rack 1\""));

  b->Stop(SIGKILL);
  ASSERT_TRUE(WaitFor([&] {
    return StateOf(*a_stub, "edge").state == "error";
  })) << a.Log();
  EXPECT_FALSE(client.finished());
  const size_t before_restart = client.size();

  b = std::make_unique<DaemonProcess>(b_config(pki.File("seed2.json")));
  ASSERT_TRUE(WaitServing([&] { return BChannel(pki, b_address, false); }))
      << b->Log();
  EXPECT_TRUE(
      client.WaitValue("system/hostname", "\"after-restart\"", before_restart))
      << a.Log();
  EXPECT_TRUE(client.WaitUntil([&](const std::vector<StreamClient::Event>& e) {
    for (size_t i = before_restart; i < e.size(); ++i) {
      if (e[i].deleted && e[i].path == "system/location") return true;
    }
    return false;
  })) << a.Log();
  auto events = client.events();
  for (size_t i = before_restart; i < events.size(); ++i) {
    EXPECT_NE(events[i].path, "system/contact") << "unchanged, repeated";
  }
  EXPECT_FALSE(client.finished()) << client.status().error_message();
}

}  // namespace
}  // namespace southgate::testing
