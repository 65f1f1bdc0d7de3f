// The real southgated binary, driven over TLS by a gRPC client as gnmic
// would: username/password metadata, prefix.target, every RPC.
#include <signal.h>

#include <memory>
#include <set>
#include <string>

#include "daemon_fixture.h"
#include "github.com/openconfig/gnmi/proto/gnmi/gnmi.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "health_client.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "reflection_client.grpc.pb.h"

namespace southgate::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using json = nlohmann::json;

// One daemon serves the whole suite from one address: run in one process
// (not one ctest process per test) its calls would exceed the default rate
// limits, which limits_e2e_test covers.
const std::string kConfig =
    TestConfig(SimDeviceYaml("sim1", {"update_interval_ms: 0"}) +
                   SimDeviceYaml("sim2", {"update_interval_ms: 50"}),
               "", "limits:\n  peer: {rate: 0}\n  user: {rate: 0}\n");

// A daemon with one simulated device; `server_extra` adds server: keys.
std::string OneSimConfig(const std::string& server_extra = "") {
  return TestConfig(SimDeviceYaml("sim1"), server_extra);
}

gnmi::Path Target(const std::string& target) {
  gnmi::Path prefix;
  prefix.set_target(target);
  return prefix;
}

class GnmiEndToEnd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    daemon_ = new DaemonProcess(kConfig);
    ASSERT_TRUE(daemon_->WaitReady(std::chrono::seconds(60))) << daemon_->Log();
    stub_ = gnmi::gNMI::NewStub(daemon_->TlsChannel()).release();
  }
  static void TearDownTestSuite() {
    delete stub_;
    stub_ = nullptr;
    // Graceful shutdown on SIGTERM exits 0.
    EXPECT_EQ(daemon_->Stop(SIGTERM), 0) << daemon_->Log();
    delete daemon_;
    daemon_ = nullptr;
  }

  grpc::Status Get(const gnmi::GetRequest& request, gnmi::GetResponse* response,
                   const std::string& user = "admin",
                   const std::string& password = "admin") {
    auto context = ContextFor(user, password);
    return stub_->Get(context.get(), request, response);
  }
  grpc::Status Set(const gnmi::SetRequest& request, gnmi::SetResponse* response,
                   const std::string& user = "admin",
                   const std::string& password = "admin") {
    auto context = ContextFor(user, password);
    return stub_->Set(context.get(), request, response);
  }
  // The JSON_IETF value at one concrete path of sim1.
  json GetJson(const gnmi::Path& path, const std::string& target = "sim1") {
    gnmi::GetRequest request;
    *request.mutable_prefix() = Target(target);
    *request.add_path() = path;
    request.set_encoding(gnmi::JSON_IETF);
    gnmi::GetResponse response;
    grpc::Status status = Get(request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (!status.ok() || response.notification_size() != 1 ||
        response.notification(0).update_size() != 1) {
      ADD_FAILURE() << "unexpected response " << response.DebugString();
      return nullptr;
    }
    return json::parse(
        response.notification(0).update(0).val().json_ietf_val());
  }

  static DaemonProcess* daemon_;
  static gnmi::gNMI::Stub* stub_;
};

DaemonProcess* GnmiEndToEnd::daemon_ = nullptr;
gnmi::gNMI::Stub* GnmiEndToEnd::stub_ = nullptr;

TEST_F(GnmiEndToEnd, CapabilitiesListModelsEncodingsAndVersion) {
  auto context = ContextFor("viewer", "viewer");
  gnmi::CapabilityResponse response;
  ASSERT_TRUE(stub_->Capabilities(context.get(), {}, &response).ok());
  EXPECT_EQ(response.gnmi_version(), "0.10.0");
  EXPECT_THAT(response.supported_encodings(), Contains(gnmi::JSON));
  EXPECT_THAT(response.supported_encodings(), Contains(gnmi::JSON_IETF));
  EXPECT_THAT(response.supported_encodings(), Contains(gnmi::PROTO));
  bool found = false;
  for (const auto& model : response.supported_models()) {
    if (model.name() == "ietf-interfaces") {
      found = true;
      EXPECT_EQ(model.version(), "2014-05-08");
      EXPECT_THAT(model.organization(), HasSubstr("IETF"));
    }
  }
  EXPECT_TRUE(found) << response.DebugString();
}

TEST_F(GnmiEndToEnd, GetJsonIetfOfAContainer) {
  json interfaces = GetJson(MakePath({{"interfaces", {}}}));
  ASSERT_TRUE(interfaces.is_object()) << interfaces;
  // Member names at the top of the value are module-qualified (RFC 7951).
  auto list = interfaces.contains("ietf-interfaces:interface")
                  ? interfaces["ietf-interfaces:interface"]
                  : interfaces["interface"];
  ASSERT_EQ(list.size(), 4u) << interfaces;
  EXPECT_EQ(list[0]["name"], "eth0");
}

TEST_F(GnmiEndToEnd, GetEveryEncodingOfALeaf) {
  gnmi::Path path = MakePath({{"interfaces", {}},
                              {"interface", {{"name", "eth0"}}},
                              {"description", {}}});
  for (gnmi::Encoding encoding : {gnmi::JSON, gnmi::JSON_IETF, gnmi::PROTO}) {
    gnmi::GetRequest request;
    *request.mutable_prefix() = Target("sim1");
    *request.add_path() = path;
    request.set_encoding(encoding);
    gnmi::GetResponse response;
    ASSERT_TRUE(Get(request, &response).ok()) << gnmi::Encoding_Name(encoding);
    ASSERT_EQ(response.notification_size(), 1);
    const auto& notification = response.notification(0);
    EXPECT_EQ(notification.prefix().target(), "sim1");
    EXPECT_GT(notification.timestamp(), 0);
    ASSERT_EQ(notification.update_size(), 1);
    const auto& update = notification.update(0);
    ASSERT_EQ(update.path().elem_size(), 3);
    EXPECT_EQ(update.path().elem(1).key().at("name"), "eth0");
    switch (encoding) {
      case gnmi::JSON:
        EXPECT_EQ(json::parse(update.val().json_val()), "uplink to core-1");
        break;
      case gnmi::JSON_IETF:
        EXPECT_EQ(json::parse(update.val().json_ietf_val()),
                  "uplink to core-1");
        break;
      default:
        EXPECT_EQ(update.val().string_val(), "uplink to core-1");
    }
  }
}

TEST_F(GnmiEndToEnd, GetCountersAsProtoScalarsAndJson) {
  gnmi::Path path = MakePath({{"interfaces-state", {}},
                              {"interface", {{"name", "eth0"}}},
                              {"statistics", {}},
                              {"in-octets", {}}});
  gnmi::GetRequest request;
  *request.mutable_prefix() = Target("sim1");
  *request.add_path() = path;
  request.set_encoding(gnmi::PROTO);
  gnmi::GetResponse response;
  ASSERT_TRUE(Get(request, &response).ok());
  ASSERT_EQ(response.notification(0).update_size(), 1);
  EXPECT_EQ(response.notification(0).update(0).val().value_case(),
            gnmi::TypedValue::kUintVal);
  EXPECT_EQ(response.notification(0).update(0).val().uint_val(), 1000000u);

  // RFC 7951 puts 64-bit numbers in strings; plain JSON uses numbers.
  request.set_encoding(gnmi::JSON_IETF);
  ASSERT_TRUE(Get(request, &response).ok());
  EXPECT_EQ(
      json::parse(response.notification(0).update(0).val().json_ietf_val()),
      "1000000");
  request.set_encoding(gnmi::JSON);
  ASSERT_TRUE(Get(request, &response).ok());
  EXPECT_EQ(json::parse(response.notification(0).update(0).val().json_val()),
            1000000);
}

TEST_F(GnmiEndToEnd, GetByDataType) {
  gnmi::GetRequest request;
  *request.mutable_prefix() = Target("sim1");
  *request.add_path() = MakePath({{"interfaces-state", {}}});
  request.set_encoding(gnmi::JSON_IETF);
  gnmi::GetResponse response;

  request.set_type(gnmi::GetRequest::STATE);
  ASSERT_TRUE(Get(request, &response).ok());
  ASSERT_EQ(response.notification(0).update_size(), 1);

  // interfaces-state holds no configuration.
  request.set_type(gnmi::GetRequest::CONFIG);
  ASSERT_TRUE(Get(request, &response).ok());
  EXPECT_EQ(response.notification(0).update_size(), 0)
      << response.DebugString();

  // Configuration asked for as CONFIG keeps config leaves...
  request.clear_path();
  *request.add_path() = MakePath({{"interfaces", {}}});
  ASSERT_TRUE(Get(request, &response).ok());
  ASSERT_EQ(response.notification(0).update_size(), 1);
  EXPECT_THAT(response.notification(0).update(0).val().json_ietf_val(),
              HasSubstr("uplink to core-1"));
  // ...and OPERATIONAL finds no state below the config tree.
  request.set_type(gnmi::GetRequest::OPERATIONAL);
  ASSERT_TRUE(Get(request, &response).ok());
  EXPECT_EQ(response.notification(0).update_size(), 0)
      << response.DebugString();
}

TEST_F(GnmiEndToEnd, GetWithWildcardsAndPrefix) {
  gnmi::GetRequest request;
  *request.mutable_prefix() = MakePath({{"interfaces", {}}}, "sim1");
  *request.add_path() =
      MakePath({{"interface", {{"name", "*"}}}, {"name", {}}});
  request.set_encoding(gnmi::PROTO);
  gnmi::GetResponse response;
  ASSERT_TRUE(Get(request, &response).ok());
  ASSERT_EQ(response.notification_size(), 1);
  std::set<std::string> names;
  for (const auto& update : response.notification(0).update()) {
    names.insert(update.val().string_val());
  }
  EXPECT_EQ(names, (std::set<std::string>{"eth0", "eth1", "eth2", "eth3"}));

  // "..." matches at any depth.
  request.clear_path();
  request.clear_prefix();
  request.mutable_prefix()->set_target("sim1");
  *request.add_path() =
      MakePath({{"interfaces-state", {}}, {"...", {}}, {"in-errors", {}}});
  ASSERT_TRUE(Get(request, &response).ok());
  EXPECT_EQ(response.notification(0).update_size(), 4)
      << response.DebugString();
}

TEST_F(GnmiEndToEnd, ModulePrefixedFirstElementAndOrigin) {
  gnmi::Path path = MakePath({{"ietf-system:system", {}}, {"hostname", {}}});
  json prefixed = GetJson(path);
  path.set_origin("ietf-system");
  path.mutable_elem(0)->set_name("system");
  EXPECT_EQ(GetJson(path), prefixed);
  EXPECT_TRUE(prefixed.is_string());
}

TEST_F(GnmiEndToEnd, StateEvolvesOnTheSimulatedDevice) {
  gnmi::Path path = MakePath({{"interfaces-state", {}},
                              {"interface", {{"name", "eth0"}}},
                              {"statistics", {}},
                              {"in-octets", {}}});
  std::string first = GetJson(path, "sim2").get<std::string>();
  std::string later = first;
  for (int i = 0; i < 200 && later == first; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    later = GetJson(path, "sim2").get<std::string>();
  }
  EXPECT_GT(std::stoull(later), std::stoull(first));
}

TEST_F(GnmiEndToEnd, SetWithMixedOperations) {
  gnmi::SetRequest request;
  *request.mutable_prefix() = MakePath({{"interfaces", {}}}, "sim1");
  *request.add_delete_() =
      MakePath({{"interface", {{"name", "eth3"}}}, {"description", {}}});
  gnmi::Update* replace = request.add_replace();
  *replace->mutable_path() =
      MakePath({{"interface", {{"name", "eth2"}}}, {"description", {}}});
  replace->mutable_val()->set_string_val("server rack B");
  gnmi::Update* update = request.add_update();
  *update->mutable_path() = MakePath({{"interface", {{"name", "lo9"}}}});
  update->mutable_val()->set_json_ietf_val(
      R"({"name":"lo9","type":"iana-if-type:softwareLoopback","description":"test loopback"})");
  gnmi::Update* plain = request.add_update();
  *plain->mutable_path() =
      MakePath({{"interface", {{"name", "eth1"}}}, {"enabled", {}}});
  plain->mutable_val()->set_bool_val(false);

  gnmi::SetResponse response;
  grpc::Status status = Set(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.response_size(), 4);
  EXPECT_EQ(response.response(0).op(), gnmi::UpdateResult::DELETE);
  EXPECT_EQ(response.response(1).op(), gnmi::UpdateResult::REPLACE);
  EXPECT_EQ(response.response(2).op(), gnmi::UpdateResult::UPDATE);
  EXPECT_EQ(response.prefix().target(), "sim1");
  EXPECT_GT(response.timestamp(), 0);

  EXPECT_EQ(GetJson(MakePath({{"interfaces", {}},
                              {"interface", {{"name", "eth2"}}},
                              {"description", {}}})),
            "server rack B");
  EXPECT_EQ(GetJson(MakePath({{"interfaces", {}},
                              {"interface", {{"name", "lo9"}}},
                              {"description", {}}})),
            "test loopback");
  EXPECT_EQ(GetJson(MakePath({{"interfaces", {}},
                              {"interface", {{"name", "eth1"}}},
                              {"enabled", {}}})),
            false);
  gnmi::GetRequest get;
  *get.mutable_prefix() = Target("sim1");
  *get.add_path() = MakePath({{"interfaces", {}},
                              {"interface", {{"name", "eth3"}}},
                              {"description", {}}});
  gnmi::GetResponse got;
  EXPECT_EQ(Get(get, &got).error_code(), grpc::StatusCode::NOT_FOUND);
  // Other devices are untouched.
  EXPECT_EQ(GetJson(MakePath({{"interfaces", {}},
                              {"interface", {{"name", "eth2"}}},
                              {"description", {}}}),
                    "sim2"),
            "server rack A");
}

// What `gnmic -e json_ietf set --update-path P --update-value "to core-1"`
// and `set --delete P` send: a JSON-encoded string and a plain delete, with
// the target in the prefix and module-less paths.
TEST_F(GnmiEndToEnd, GnmicShapedSetAndDelete) {
  gnmi::Path description = MakePath({{"interfaces", {}},
                                     {"interface", {{"name", "eth0"}}},
                                     {"description", {}}});
  gnmi::SetRequest request;
  *request.mutable_prefix() = Target("sim1");
  gnmi::Update* update = request.add_update();
  *update->mutable_path() = description;
  update->mutable_val()->set_json_ietf_val("\"to core-1\"");
  gnmi::SetResponse response;
  grpc::Status status = Set(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(GetJson(description), "to core-1");

  // Other tests share this device: compare with the list as it was.
  auto names = [&] {
    std::set<std::string> result;
    json interfaces = GetJson(MakePath({{"interfaces", {}}}));
    for (const json& entry : interfaces["ietf-interfaces:interface"]) {
      result.insert(entry["name"].get<std::string>());
    }
    return result;
  };
  std::set<std::string> before = names();
  ASSERT_TRUE(before.contains("eth3"));
  gnmi::SetRequest remove;
  *remove.mutable_prefix() = Target("sim1");
  *remove.add_delete_() =
      MakePath({{"interfaces", {}}, {"interface", {{"name", "eth3"}}}});
  status = Set(remove, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  before.erase("eth3");
  EXPECT_EQ(names(), before);
  // Deleting what is already gone succeeds (gNMI 3.4.6).
  status = Set(remove, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(GnmiEndToEnd, UnionReplaceReplacesTheNamedSubtree) {
  gnmi::Path system = MakePath({{"system", {}}});
  // JSON_IETF qualifies the value's top-level members with their module.
  ASSERT_TRUE(GetJson(system).contains("ietf-system:location"));
  gnmi::SetRequest request;
  *request.mutable_prefix() = Target("sim1");
  gnmi::Update* replace = request.add_union_replace();
  *replace->mutable_path() = system;
  replace->mutable_val()->set_json_val(
      R"({"hostname":"replaced","contact":"noc@example.net"})");
  gnmi::SetResponse response;
  grpc::Status status = Set(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.response_size(), 1);
  EXPECT_EQ(response.response(0).op(), gnmi::UpdateResult::UNION_REPLACE);
  json value = GetJson(system);
  // Replaced, not merged: what the request did not name is gone.
  EXPECT_FALSE(value.contains("location") ||
               value.contains("ietf-system:location"))
      << value;
  EXPECT_EQ(GetJson(MakePath({{"system", {}}, {"hostname", {}}})), "replaced");
}

TEST_F(GnmiEndToEnd, FailedSetLeavesTheDeviceUnchanged) {
  gnmi::Path description = MakePath({{"interfaces", {}},
                                     {"interface", {{"name", "eth0"}}},
                                     {"description", {}}});
  json before = GetJson(MakePath({{"interfaces", {}}}));

  // A good change followed by a value of the wrong type.
  gnmi::SetRequest request;
  *request.mutable_prefix() = Target("sim1");
  gnmi::Update* good = request.add_update();
  *good->mutable_path() = description;
  good->mutable_val()->set_string_val("must not stick");
  gnmi::Update* bad = request.add_update();
  *bad->mutable_path() = MakePath(
      {{"interfaces", {}}, {"interface", {{"name", "eth0"}}}, {"enabled", {}}});
  bad->mutable_val()->set_string_val("sometimes");
  gnmi::SetResponse response;
  grpc::Status status = Set(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("enabled"));
  EXPECT_EQ(GetJson(MakePath({{"interfaces", {}}})), before);

  // A good change and a new interface that misses its mandatory type: the
  // device's validation rejects the whole transaction.
  gnmi::SetRequest invalid;
  *invalid.mutable_prefix() = Target("sim1");
  *invalid.add_update() = *good;
  gnmi::Update* incomplete = invalid.add_update();
  *incomplete->mutable_path() =
      MakePath({{"interfaces", {}}, {"interface", {{"name", "eth7"}}}});
  incomplete->mutable_val()->set_json_ietf_val(R"({"description":"no type"})");
  status = Set(invalid, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED)
      << status.error_message();
  EXPECT_EQ(GetJson(MakePath({{"interfaces", {}}})), before);
}

TEST_F(GnmiEndToEnd, WrongOrMissingCredentialsAreUnauthenticated) {
  gnmi::GetRequest request;
  *request.mutable_prefix() = Target("sim1");
  *request.add_path() = MakePath({{"interfaces", {}}});
  gnmi::GetResponse response;
  EXPECT_EQ(Get(request, &response, "admin", "wrong").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Get(request, &response, "nobody", "admin").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Get(request, &response, "", "").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  auto context = ContextFor("admin", "wrong");
  gnmi::CapabilityResponse capabilities;
  EXPECT_EQ(stub_->Capabilities(context.get(), {}, &capabilities).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // The password never reaches the log.
  EXPECT_THAT(daemon_->Log(), ::testing::Not(HasSubstr("wrong")));
}

TEST_F(GnmiEndToEnd, ReadOnlyUserMayReadButNotSet) {
  gnmi::GetRequest get;
  *get.mutable_prefix() = Target("sim1");
  *get.add_path() = MakePath({{"system", {}}});
  gnmi::GetResponse got;
  EXPECT_TRUE(Get(get, &got, "viewer", "viewer").ok());

  gnmi::SetRequest request;
  *request.mutable_prefix() = Target("sim1");
  gnmi::Update* update = request.add_update();
  *update->mutable_path() = MakePath({{"system", {}}, {"hostname", {}}});
  update->mutable_val()->set_string_val("taken-over");
  gnmi::SetResponse response;
  grpc::Status status = Set(request, &response, "viewer", "viewer");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(GetJson(MakePath({{"system", {}}, {"hostname", {}}})),
            "taken-over");
}

TEST_F(GnmiEndToEnd, UnknownOrMissingTarget) {
  gnmi::GetRequest request;
  *request.mutable_prefix() = Target("nosuch");
  *request.add_path() = MakePath({{"interfaces", {}}});
  gnmi::GetResponse response;
  grpc::Status status = Get(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("nosuch"));

  request.clear_prefix();
  status = Get(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("target"));
}

TEST_F(GnmiEndToEnd, MalformedAndUnknownPaths) {
  gnmi::GetRequest request;
  *request.mutable_prefix() = Target("sim1");
  gnmi::GetResponse response;

  *request.add_path() = MakePath({{"interfaces", {}}, {"no-such-node", {}}});
  grpc::Status status = Get(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("no-such-node"));

  request.clear_path();
  *request.add_path() = MakePath({{"interfaces", {{"name", "eth0"}}}});
  EXPECT_EQ(Get(request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  request.clear_path();
  *request.add_path() = MakePath({{"interfaces", {}}, {"", {}}});
  EXPECT_EQ(Get(request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  request.clear_path();
  *request.add_path() = MakePath({{"interfaces", {}}});
  request.set_encoding(gnmi::ASCII);
  EXPECT_EQ(Get(request, &response).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(GnmiEndToEnd, TheDaemonAnswersAboutItselfOnTargetSouthgate) {
  json devices = GetJson(MakePath({{"devices", {}}}), "southgate");
  ASSERT_TRUE(devices.contains("southgate-devices:device")) << devices;
  std::map<std::string, std::string> states;
  for (const auto& device : devices["southgate-devices:device"]) {
    states[device["name"]] = device["state"];
    EXPECT_EQ(device["driver"], "sim");
  }
  EXPECT_EQ(states, (std::map<std::string, std::string>{
                        {"sim1", "connected"}, {"sim2", "connected"}}));
  json telemetry = GetJson(
      MakePath({{"daemon", {}}, {"telemetry", {}}, {"client-streams", {}}}),
      "southgate");
  EXPECT_TRUE(telemetry.is_string()) << telemetry;

  // Read-only: a Set is refused and changes nothing.
  gnmi::SetRequest request;
  *request.mutable_prefix() = Target("southgate");
  *request.add_delete_() = MakePath({{"devices", {}}});
  gnmi::SetResponse response;
  EXPECT_FALSE(Set(request, &response).ok());
  EXPECT_EQ(GetJson(MakePath({{"devices", {}}}), "southgate").size(), 1u);

  // Its model is in Capabilities.
  auto context = ContextFor("viewer", "viewer");
  gnmi::CapabilityResponse capabilities;
  ASSERT_TRUE(stub_->Capabilities(context.get(), {}, &capabilities).ok());
  bool found = false;
  for (const auto& model : capabilities.supported_models()) {
    found |= model.name() == "southgate-devices";
  }
  EXPECT_TRUE(found);
}

TEST_F(GnmiEndToEnd, HealthAndReflectionAreServed) {
  auto health = grpc::health::v1::Health::NewStub(daemon_->TlsChannel());
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(health->Check(&context, request, &response).ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  auto reflection = grpc::reflection::v1alpha::ServerReflection::NewStub(
      daemon_->TlsChannel());
  grpc::ClientContext stream_context;
  auto stream = reflection->ServerReflectionInfo(&stream_context);
  grpc::reflection::v1alpha::ServerReflectionRequest list;
  list.set_list_services("");
  ASSERT_TRUE(stream->Write(list));
  stream->WritesDone();
  grpc::reflection::v1alpha::ServerReflectionResponse listed;
  ASSERT_TRUE(stream->Read(&listed));
  std::set<std::string> services;
  for (const auto& service : listed.list_services_response().service()) {
    services.insert(service.name());
  }
  EXPECT_TRUE(services.count("gnmi.gNMI")) << listed.DebugString();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(GnmiEndToEnd, PlaintextClientsAreRefusedOnTheTlsPort) {
  auto stub = gnmi::gNMI::NewStub(daemon_->PlaintextChannel());
  auto context = ContextFor("admin", "admin");
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(3));
  gnmi::CapabilityResponse response;
  EXPECT_FALSE(stub->Capabilities(context.get(), {}, &response).ok());
}

TEST(DaemonLogging, JsonLogsAreOneObjectPerLine) {
  DaemonProcess daemon(OneSimConfig(), {"--log-format", "json"});
  ASSERT_TRUE(daemon.WaitReady(std::chrono::seconds(60))) << daemon.Log();
  EXPECT_EQ(daemon.Stop(SIGTERM), 0);
  std::istringstream lines(daemon.Log());
  int parsed = 0;
  for (std::string line; std::getline(lines, line);) {
    json entry = json::parse(line);  // throws (fails the test) if not JSON
    EXPECT_TRUE(entry.contains("time") && entry.contains("level") &&
                entry.contains("msg"))
        << line;
    ++parsed;
  }
  EXPECT_GT(parsed, 3);
}

// Configurations that must stop the daemon before it listens.
TEST(DaemonStartup, BrokenConfigNamesFileAndFieldAndRefusesToStart) {
  DaemonProcess daemon(TestConfig("  - name: sim1\n    drivr: sim\n"));
  EXPECT_EQ(daemon.WaitExit(std::chrono::seconds(30)), 2);
  EXPECT_THAT(daemon.Log(), HasSubstr("southgate.yaml"));
  EXPECT_THAT(daemon.Log(), HasSubstr("drivr"));
}

TEST(DaemonStartup, UnknownDriverRefusesToStart) {
  DaemonProcess daemon(TestConfig("  - name: r1\n    driver: teleport\n"));
  EXPECT_EQ(daemon.WaitExit(std::chrono::seconds(30)), 2);
  EXPECT_THAT(daemon.Log(), HasSubstr("teleport"));
}

TEST(DaemonStartup, PlaintextOnlyWhenConfiguredAndWarned) {
  DaemonProcess daemon(OneSimConfig("  insecure: true\n"));
  ASSERT_TRUE(daemon.WaitReady(std::chrono::seconds(60), /*insecure=*/true))
      << daemon.Log();
  EXPECT_THAT(daemon.Log(), HasSubstr("PLAINTEXT"));
  // With one device, a request without target goes to it.
  auto stub = gnmi::gNMI::NewStub(daemon.PlaintextChannel());
  auto context = ContextFor("admin", "admin");
  gnmi::GetRequest request;
  *request.add_path() = MakePath({{"system", {}}, {"hostname", {}}});
  gnmi::GetResponse response;
  EXPECT_TRUE(stub->Get(context.get(), request, &response).ok());
  EXPECT_EQ(daemon.Stop(SIGINT), 0);
}

}  // namespace
}  // namespace southgate::testing
