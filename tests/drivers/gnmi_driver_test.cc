// The gnmi driver's parts that need no device: options, conversions between
// gNMI updates and the driver API, and connection failures reported in the
// device state. The driver against a real gNMI server (a second southgated)
// is tests/e2e/gnmi_chain_e2e_test.cc.
#include "drivers/gnmi/gnmi_driver.h"

#include <filesystem>
#include <fstream>
#include <random>

#include "absl/strings/str_cat.h"
#include "drivers/gnmi/gnmi_convert.h"
#include "drivers/gnmi/gnmi_options.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "schema/data_tree.h"
#include "schema/yang_context.h"

namespace southgate::drivers::gnmi_driver {
namespace {

using ::testing::HasSubstr;

DeviceSettings Settings(const std::string& options_json,
                        const std::string& address = "127.0.0.1:9339") {
  DeviceSettings settings;
  settings.name = "r1";
  settings.driver = "gnmi";
  settings.address = address;
  settings.username = "admin";
  settings.password = "secret";
  settings.options_json = options_json;
  return settings;
}

TEST(GnmiOptionsTest, DefaultsAreTlsWithTheSystemTrustStore) {
  auto options = ParseGnmiOptions(Settings("{}"));
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_FALSE(options->plaintext);
  EXPECT_FALSE(options->insecure_skip_verify);
  EXPECT_TRUE(options->ca_file.empty());
  EXPECT_FALSE(options->target.has_value());
  EXPECT_FALSE(options->encoding.has_value());
  EXPECT_EQ(options->username, "admin");
}

TEST(GnmiOptionsTest, ParsesEveryOption) {
  const std::string ca = std::string(SOUTHGATE_SOURCE_DIR) + "/README.md";
  auto options = ParseGnmiOptions(Settings(
      R"({"tls_ca_file": ")" + ca +
      R"(", "tls_server_name": "r1.lab", "target": "", "encoding": "proto",)"
      R"( "commit_extension": false, "connect_timeout_ms": 500,)"
      R"( "rpc_timeout_ms": 900, "keepalive_time_ms": 20000,)"
      R"( "keepalive_timeout_ms": 3000, "backoff_initial_ms": 10,)"
      R"( "backoff_max_ms": 20, "backoff_multiplier": 1.5})"));
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->ca_file, ca);
  EXPECT_EQ(options->server_name, "r1.lab");
  ASSERT_TRUE(options->target.has_value());
  EXPECT_EQ(*options->target, "");
  EXPECT_EQ(options->encoding, WireEncoding::kProto);
  EXPECT_FALSE(options->commit_extension);
  EXPECT_EQ(options->connect_timeout.count(), 500);
  EXPECT_EQ(options->keepalive_time.count(), 20000);
  EXPECT_EQ(options->backoff_multiplier, 1.5);
}

TEST(GnmiOptionsTest, RejectsBadOptionsNamingThem) {
  struct Case {
    std::string json;
    std::string address;
    std::string message;
  };
  const std::vector<Case> cases = {
      {R"({"tls_ca": "x"})", "h:1", "unknown option 'tls_ca'"},
      {"{}", "", "needs an address"},
      {"{}", "router1", "needs a port"},
      {R"({"plaintext": true, "tls_server_name": "x"})", "h:1",
       "cannot be combined"},
      {R"({"tls_cert_file": "/etc/hostname"})", "h:1", "go together"},
      {R"({"tls_ca_file": "/nonexistent/ca.pem"})", "h:1",
       "cannot read /nonexistent/ca.pem"},
      {R"({"keepalive_time_ms": 1000})", "h:1", "keepalive_time_ms"},
      {R"({"encoding": "bytes"})", "h:1", "'encoding' must be"},
      {R"({"insecure_skip_verify": true, "tls_ca_file": "/etc/hostname"})",
       "h:1", "would not be checked"},
      {R"({"backoff_initial_ms": 100, "backoff_max_ms": 10})", "h:1", "below"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    auto options = ParseGnmiOptions(Settings(c.json, c.address));
    ASSERT_FALSE(options.ok());
    EXPECT_EQ(options.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(options.status().message(), HasSubstr(c.message));
  }
}

TEST(GnmiOptionsTest, RelativeFilesResolveAgainstTheConfigFolder) {
  auto options = ParseGnmiOptions(
      Settings(R"({"base_dir": ")" + std::string(SOUTHGATE_SOURCE_DIR) +
               R"(", "tls_ca_file": "README.md"})"));
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->ca_file, std::string(SOUTHGATE_SOURCE_DIR) + "/README.md");
}

class GnmiConvertTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto context = schema::YangContext::Build(
        {std::string(SOUTHGATE_SOURCE_DIR) + "/yang",
         "/usr/share/yuma/modules/ietf"},
        {{"ietf-interfaces", "", {"*"}}, {"ietf-ip", "", {"*"}}});
    ASSERT_TRUE(context.ok()) << context.status();
    translator_ = std::make_unique<schema::GnmiTranslator>(*context);
  }
  static ::gnmi::Path Path(const std::vector<std::string>& elems,
                           const std::string& key = "") {
    ::gnmi::Path path;
    for (const std::string& name : elems) {
      auto* elem = path.add_elem();
      elem->set_name(name);
      if (name == "interface" && !key.empty()) {
        (*elem->mutable_key())["name"] = key;
      }
    }
    return path;
  }
  std::unique_ptr<schema::GnmiTranslator> translator_;
};

TEST_F(GnmiConvertTest, LeafAndContainerUpdatesGiveTheSameDataPaths) {
  // One leaf as a scalar (PROTO), as JSON_IETF, and inside a container
  // update: one data path and value, whichever way the device sends it.
  ::gnmi::Update scalar;
  *scalar.mutable_path() = Path(
      {"interfaces-state", "interface", "statistics", "in-octets"}, "eth'0");
  scalar.mutable_val()->set_uint_val(42);
  auto from_scalar = UpdateLeaves(*translator_, {}, scalar);
  ASSERT_TRUE(from_scalar.ok()) << from_scalar.status();
  ASSERT_EQ(from_scalar->size(), 1u);

  ::gnmi::Update ietf = scalar;
  ietf.mutable_val()->set_json_ietf_val("\"42\"");
  auto from_ietf = UpdateLeaves(*translator_, {}, ietf);
  ASSERT_TRUE(from_ietf.ok()) << from_ietf.status();

  ::gnmi::Update container;
  *container.mutable_path() =
      Path({"interfaces-state", "interface", "statistics"}, "eth'0");
  container.mutable_val()->set_json_ietf_val(
      R"({"in-octets": "42", "out-octets": "7"})");
  auto from_container = UpdateLeaves(*translator_, {}, container);
  ASSERT_TRUE(from_container.ok()) << from_container.status();
  ASSERT_EQ(from_container->size(), 2u);

  for (const auto* leaves : {&*from_scalar, &*from_ietf}) {
    EXPECT_EQ(leaves->front().xpath, from_container->front().xpath);
    EXPECT_EQ(leaves->front().json_value, "\"42\"");
  }
  EXPECT_THAT(from_container->front().xpath, HasSubstr("in-octets"));
}

TEST_F(GnmiConvertTest, ValuesTheSchemaRejectsAreErrors) {
  ::gnmi::Update update;
  *update.mutable_path() = Path({"interfaces", "interface", "enabled"}, "eth0");
  update.mutable_val()->set_json_ietf_val("\"maybe\"");
  auto leaves = UpdateLeaves(*translator_, {}, update);
  EXPECT_EQ(leaves.status().code(), absl::StatusCode::kInvalidArgument);
  // Unknown nodes are NOT_FOUND (data of a model southgate lacks).
  *update.mutable_path() = Path({"interfaces", "interface", "colour"}, "eth0");
  EXPECT_EQ(UpdateLeaves(*translator_, {}, update).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(GnmiConvertTest, EditsBecomeUpdatesInEachEncoding) {
  Edit edit;
  edit.op = Edit::Op::kReplace;
  edit.xpath = "/ietf-interfaces:interfaces/interface[name='eth9']";
  edit.document =
      R"({"ietf-interfaces:interfaces": {"interface": [{"name": "eth9",)"
      R"( "description": "new", "enabled": false}]}})";
  auto ietf = EditToUpdates(*translator_, edit, WireEncoding::kJsonIetf);
  ASSERT_TRUE(ietf.ok()) << ietf.status();
  ASSERT_EQ(ietf->size(), 1u);
  EXPECT_THAT(ietf->front().val().json_ietf_val(), HasSubstr("\"new\""));
  auto proto = EditToUpdates(*translator_, edit, WireEncoding::kProto);
  ASSERT_TRUE(proto.ok()) << proto.status();
  // One scalar per leaf: name, description, enabled.
  EXPECT_EQ(proto->size(), 3u);
  for (const auto& update : *proto) {
    EXPECT_FALSE(update.val().has_json_ietf_val());
  }
}

// An upstream stream's converter resolves each path once; the values of a
// remembered path are still checked against the schema every time.
TEST_F(GnmiConvertTest, StreamConverterResolvesRepeatedPathsOnce) {
  StreamLeafConverter converter(*translator_);
  ::gnmi::Path prefix;
  prefix.set_target("r1");  // the device's name for itself: not a path
  ::gnmi::Update update;
  *update.mutable_path() = Path(
      {"interfaces-state", "interface", "statistics", "in-octets"}, "eth0");
  std::vector<Notification::LeafUpdate> out;
  for (int value = 40; value < 43; ++value) {
    update.mutable_val()->set_json_ietf_val(absl::StrCat("\"", value, "\""));
    absl::Status status = converter.AppendLeaves(prefix, update, out);
    ASSERT_TRUE(status.ok()) << status;
  }
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(converter.resolutions(), 1u);
  EXPECT_EQ(converter.remembered_paths(), 1u);
  auto uncached = UpdateLeaves(*translator_, {}, update);
  ASSERT_TRUE(uncached.ok()) << uncached.status();
  EXPECT_EQ(out[2].xpath, uncached->front().xpath);
  EXPECT_EQ(out[0].json_value, "\"40\"");
  EXPECT_EQ(out[2].json_value, "\"42\"");

  // A remembered path with a value its type rejects: an error, nothing
  // added; then a good value again.
  for (const char* bad : {"\"-1\"", "\"4x\"", "\"18446744073709551616\"",
                          "{\"a\": 1}", "true", "\"42"}) {
    update.mutable_val()->set_json_ietf_val(bad);
    EXPECT_EQ(converter.AppendLeaves(prefix, update, out).code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
  update.mutable_val()->set_string_val("nine");
  EXPECT_EQ(converter.AppendLeaves(prefix, update, out).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out.size(), 3u);
  update.mutable_val()->set_uint_val(9);
  ASSERT_TRUE(converter.AppendLeaves(prefix, update, out).ok());
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out.back().json_value, "\"9\"");
  EXPECT_EQ(converter.resolutions(), 1u);

  // Another list entry is another path.
  *update.mutable_path() = Path(
      {"interfaces-state", "interface", "statistics", "in-octets"}, "eth1");
  ASSERT_TRUE(converter.AppendLeaves(prefix, update, out).ok());
  EXPECT_EQ(out.back().xpath,
            "/ietf-interfaces:interfaces-state/interface[name='eth1']/"
            "statistics/in-octets");
  EXPECT_EQ(converter.resolutions(), 2u);
}

TEST_F(GnmiConvertTest, StreamConverterRemembersBoolLeavesAndContainers) {
  StreamLeafConverter converter(*translator_);
  ::gnmi::Update enabled;
  *enabled.mutable_path() =
      Path({"interfaces", "interface", "enabled"}, "eth0");
  std::vector<Notification::LeafUpdate> out;
  enabled.mutable_val()->set_json_ietf_val("false");
  ASSERT_TRUE(converter.AppendLeaves({}, enabled, out).ok());
  enabled.mutable_val()->set_json_ietf_val("\"maybe\"");
  EXPECT_EQ(converter.AppendLeaves({}, enabled, out).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].json_value, "false");

  // A container update goes through a data tree each time, its path
  // resolved once; its leaves are checked too.
  ::gnmi::Update container;
  *container.mutable_path() =
      Path({"interfaces-state", "interface", "statistics"}, "eth0");
  container.mutable_val()->set_json_ietf_val(
      R"({"in-octets": "42", "out-octets": "7"})");
  out.clear();
  ASSERT_TRUE(converter.AppendLeaves({}, container, out).ok());
  ASSERT_TRUE(converter.AppendLeaves({}, container, out).ok());
  EXPECT_EQ(out.size(), 4u);
  container.mutable_val()->set_json_ietf_val(R"({"in-octets": "-42"})");
  EXPECT_EQ(converter.AppendLeaves({}, container, out).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out.size(), 4u);
  EXPECT_EQ(converter.resolutions(), 2u);  // enabled, statistics
}

TEST_F(GnmiConvertTest, StreamConverterForgetsNothingItShouldNotRemember) {
  // Unknown paths are not remembered: NOT_FOUND each time.
  StreamLeafConverter converter(*translator_, /*max_paths=*/2);
  ::gnmi::Update unknown;
  *unknown.mutable_path() = Path({"interfaces", "interface", "colour"}, "e0");
  unknown.mutable_val()->set_json_ietf_val("\"red\"");
  std::vector<Notification::LeafUpdate> out;
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(converter.AppendLeaves({}, unknown, out).code(),
              absl::StatusCode::kNotFound);
  }
  EXPECT_EQ(converter.remembered_paths(), 0u);
  // At most max_paths are held; later paths still convert correctly.
  ::gnmi::Update update;
  update.mutable_val()->set_json_ietf_val("\"1\"");
  for (const char* name : {"a", "b", "c", "a"}) {
    *update.mutable_path() = Path(
        {"interfaces-state", "interface", "statistics", "in-octets"}, name);
    ASSERT_TRUE(converter.AppendLeaves({}, update, out).ok());
    EXPECT_EQ(out.back().xpath,
              absl::StrCat("/ietf-interfaces:interfaces-state/interface[name='",
                           name, "']/statistics/in-octets"));
    EXPECT_LE(converter.remembered_paths(), 2u);
  }
  // The same leaf split differently between prefix and path.
  ::gnmi::Path prefix = Path({"interfaces-state", "interface"}, "a");
  *update.mutable_path() = Path({"statistics", "in-octets"});
  ASSERT_TRUE(converter.AppendLeaves(prefix, update, out).ok());
  EXPECT_EQ(out.back().xpath,
            "/ietf-interfaces:interfaces-state/interface[name='a']/"
            "statistics/in-octets");
}

// Upstream responses are read in wire form when they are plain
// Notifications; everything else is left to the full parse.
TEST_F(GnmiConvertTest, WireScanFindsPlainNotificationsOnly) {
  ::gnmi::SubscribeResponse response;
  ::gnmi::Notification* notification = response.mutable_update();
  notification->set_timestamp(1234567890123);
  notification->mutable_prefix()->set_target("r1");
  for (const char* name : {"eth0", "eth1"}) {
    ::gnmi::Update* update = notification->add_update();
    *update->mutable_path() = Path(
        {"interfaces-state", "interface", "statistics", "in-octets"}, name);
    update->mutable_val()->set_json_ietf_val("\"5\"");
    update->set_duplicates(2);
  }
  const std::string bytes = response.SerializeAsString();
  WireNotification wire;
  ASSERT_EQ(ScanSubscribeResponse(bytes, wire), WireResponse::kNotification);
  EXPECT_EQ(wire.timestamp, 1234567890123);
  EXPECT_EQ(wire.prefix, notification->prefix().SerializeAsString());
  ASSERT_EQ(wire.updates.size(), 2u);
  EXPECT_EQ(wire.updates[1].path,
            notification->update(1).path().SerializeAsString());
  EXPECT_EQ(wire.updates[1].val,
            notification->update(1).val().SerializeAsString());

  ::gnmi::SubscribeResponse sync;
  sync.set_sync_response(true);
  EXPECT_EQ(ScanSubscribeResponse(sync.SerializeAsString(), wire),
            WireResponse::kSyncResponse);

  auto other = [&](const ::gnmi::SubscribeResponse& r) {
    return ScanSubscribeResponse(r.SerializeAsString(), wire);
  };
  ::gnmi::SubscribeResponse with_delete = response;
  *with_delete.mutable_update()->add_delete_() = Path({"interfaces"});
  EXPECT_EQ(other(with_delete), WireResponse::kOther);
  ::gnmi::SubscribeResponse old_value = response;
  old_value.mutable_update()->mutable_update(0)->mutable_value()->set_value(
      "5");
  EXPECT_EQ(other(old_value), WireResponse::kOther);
  ::gnmi::SubscribeResponse atomic = response;
  atomic.mutable_update()->set_atomic(true);
  EXPECT_EQ(other(atomic), WireResponse::kOther);
  ::gnmi::SubscribeResponse no_val = response;
  no_val.mutable_update()->mutable_update(1)->clear_val();
  EXPECT_EQ(other(no_val), WireResponse::kOther);
  EXPECT_EQ(other(::gnmi::SubscribeResponse()), WireResponse::kOther);
  EXPECT_EQ(ScanSubscribeResponse(bytes.substr(0, bytes.size() - 3), wire),
            WireResponse::kOther);  // cut short
  EXPECT_EQ(ScanSubscribeResponse(std::string("\xff\xff\xff"), wire),
            WireResponse::kOther);
}

// Responses come from a device: damaged bytes never read out of bounds,
// and whatever the scan accepts, protobuf's own parse reads the same way.
TEST_F(GnmiConvertTest, WireScanOfDamagedBytesAgreesWithTheFullParse) {
  ::gnmi::SubscribeResponse response;
  ::gnmi::Notification* notification = response.mutable_update();
  notification->set_timestamp(99);
  notification->mutable_prefix()->set_target("r1");
  for (const char* name : {"eth0", "eth1", "eth2"}) {
    ::gnmi::Update* update = notification->add_update();
    *update->mutable_path() = Path(
        {"interfaces-state", "interface", "statistics", "in-octets"}, name);
    update->mutable_val()->set_json_ietf_val("\"12\"");
  }
  const std::string original = response.SerializeAsString();
  std::mt19937 random(20261126);
  int accepted = 0;
  for (int round = 0; round < 5000; ++round) {
    std::string bytes = original;
    const int edits = 1 + static_cast<int>(random() % 3);
    for (int e = 0; e < edits; ++e) {
      const size_t at = random() % bytes.size();
      switch (random() % 3) {
        case 0:
          bytes[at] = static_cast<char>(random());
          break;
        case 1:
          bytes.erase(at, 1 + random() % 4);
          break;
        default:
          bytes.insert(at, 1, static_cast<char>(random()));
          break;
      }
      if (bytes.empty()) bytes = "x";
    }
    WireNotification wire;
    if (ScanSubscribeResponse(bytes, wire) != WireResponse::kNotification) {
      continue;
    }
    ++accepted;
    // The scan checks the envelope (response, notification, updates); each
    // path and value is parsed when it is used, so damage inside one costs
    // that update only, where the full parse refuses the whole response.
    bool views_parse = true;
    std::vector<::gnmi::Path> paths(wire.updates.size());
    std::vector<::gnmi::TypedValue> vals(wire.updates.size());
    for (size_t i = 0; i < wire.updates.size(); ++i) {
      views_parse = paths[i].ParseFromArray(
                        wire.updates[i].path.data(),
                        static_cast<int>(wire.updates[i].path.size())) &&
                    vals[i].ParseFromArray(
                        wire.updates[i].val.data(),
                        static_cast<int>(wire.updates[i].val.size())) &&
                    views_parse;
    }
    ::gnmi::Path prefix;
    views_parse = prefix.ParseFromArray(wire.prefix.data(),
                                        static_cast<int>(wire.prefix.size())) &&
                  views_parse;
    ::gnmi::SubscribeResponse parsed;
    ASSERT_EQ(parsed.ParseFromString(bytes), views_parse) << round;
    if (!views_parse) continue;
    ASSERT_TRUE(parsed.has_update()) << round;
    EXPECT_EQ(wire.timestamp, parsed.update().timestamp());
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
        prefix, parsed.update().prefix()));
    ASSERT_EQ(wire.updates.size(),
              static_cast<size_t>(parsed.update().update_size()));
    for (size_t i = 0; i < wire.updates.size(); ++i) {
      const auto& update = parsed.update().update(static_cast<int>(i));
      EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
          paths[i], update.path()));
      EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
          vals[i], update.val()));
    }
  }
  EXPECT_GT(accepted, 0);  // some damage leaves a readable Notification
}

TEST_F(GnmiConvertTest, WireUpdatesConvertLikeParsedOnes) {
  StreamLeafConverter wire_converter(*translator_);
  StreamLeafConverter parsed_converter(*translator_);
  ::gnmi::Path prefix;
  prefix.set_target("r1");
  const std::string prefix_bytes = prefix.SerializeAsString();
  std::vector<Notification::LeafUpdate> wire_out, parsed_out;
  auto both = [&](const ::gnmi::Update& update) {
    const std::string path = update.path().SerializeAsString();
    const std::string val = update.val().SerializeAsString();
    absl::Status wire = wire_converter.AppendWireLeaves(
        prefix_bytes, WireUpdate{path, val}, wire_out);
    absl::Status parsed =
        parsed_converter.AppendLeaves(prefix, update, parsed_out);
    EXPECT_EQ(wire.code(), parsed.code()) << wire << " / " << parsed;
    return wire.code();
  };
  ::gnmi::Update leaf;
  *leaf.mutable_path() = Path(
      {"interfaces-state", "interface", "statistics", "out-octets"}, "eth0");
  for (const char* value : {"\"1\"", "\"2\"", "3"}) {
    leaf.mutable_val()->set_json_ietf_val(value);
    EXPECT_EQ(both(leaf), absl::StatusCode::kOk) << value;
  }
  for (const char* bad : {"\"-2\"", "\"x\"", "[1]"}) {
    leaf.mutable_val()->set_json_ietf_val(bad);
    EXPECT_EQ(both(leaf), absl::StatusCode::kInvalidArgument) << bad;
  }
  leaf.mutable_val()->set_uint_val(77);
  EXPECT_EQ(both(leaf), absl::StatusCode::kOk);
  EXPECT_EQ(wire_converter.resolutions(), 1u);  // one path, seen 7 times

  ::gnmi::Update container;
  *container.mutable_path() =
      Path({"interfaces-state", "interface", "statistics"}, "eth0");
  container.mutable_val()->set_json_ietf_val(
      R"({"in-octets": "42", "out-octets": "7"})");
  EXPECT_EQ(both(container), absl::StatusCode::kOk);
  EXPECT_EQ(both(container), absl::StatusCode::kOk);
  ::gnmi::Update unknown;
  *unknown.mutable_path() = Path({"interfaces", "interface", "colour"}, "e0");
  unknown.mutable_val()->set_json_ietf_val("\"red\"");
  EXPECT_EQ(both(unknown), absl::StatusCode::kNotFound);
  EXPECT_EQ(wire_converter.resolutions(), 3u);

  ASSERT_EQ(wire_out.size(), parsed_out.size());
  ASSERT_EQ(wire_out.size(), 8u);  // 4 leaves, then 2 containers of 2
  for (size_t i = 0; i < wire_out.size(); ++i) {
    EXPECT_EQ(wire_out[i].xpath, parsed_out[i].xpath);
    EXPECT_EQ(wire_out[i].json_value, parsed_out[i].json_value);
  }
  EXPECT_EQ(wire_out[3].json_value, "\"77\"");

  // Bytes that are no value, or no path: an error, nothing added.
  const std::string good_val = leaf.val().SerializeAsString();
  const std::string good_path = leaf.path().SerializeAsString();
  for (const WireUpdate& broken :
       {WireUpdate{good_path, "\x1a\x05"}, WireUpdate{"\x0a\x09", good_val}}) {
    EXPECT_EQ(
        wire_converter.AppendWireLeaves(prefix_bytes, broken, wire_out).code(),
        absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(wire_out.size(), 8u);
}

// Slots let the stream keep per-leaf state in a vector: one per remembered
// leaf path, dense, reassigned (with a new epoch) when the memo starts over.
TEST_F(GnmiConvertTest, WireLeavesGetDenseSlotsPerEpoch) {
  StreamLeafConverter converter(*translator_, /*max_paths=*/3);
  const std::string prefix = ::gnmi::Path().SerializeAsString();
  std::vector<Notification::LeafUpdate> out;
  ::gnmi::TypedValue one;
  one.set_json_ietf_val("\"1\"");
  const std::string val = one.SerializeAsString();
  auto slot_of = [&](const ::gnmi::Path& path, const std::string& value) {
    const std::string path_bytes = path.SerializeAsString();
    uint32_t slot = 7;
    absl::Status status = converter.AppendWireLeaves(
        prefix, WireUpdate{path_bytes, value}, out, &slot);
    return std::make_pair(status.code(), slot);
  };
  auto counter = [&](const std::string& name) {
    return Path({"interfaces-state", "interface", "statistics", "in-octets"},
                name);
  };
  EXPECT_EQ(slot_of(counter("a"), val),
            std::make_pair(absl::StatusCode::kOk, 0u));
  EXPECT_EQ(slot_of(counter("b"), val),
            std::make_pair(absl::StatusCode::kOk, 1u));
  EXPECT_EQ(slot_of(counter("a"), val),
            std::make_pair(absl::StatusCode::kOk, 0u));
  ::gnmi::TypedValue bad;
  bad.set_json_ietf_val("\"-1\"");
  EXPECT_EQ(slot_of(counter("a"), bad.SerializeAsString()),
            std::make_pair(absl::StatusCode::kInvalidArgument,
                           StreamLeafConverter::kNoSlot));
  // A container has no slot (several leaves), but is remembered.
  ::gnmi::TypedValue object;
  object.set_json_ietf_val(R"({"in-octets": "4"})");
  EXPECT_EQ(
      slot_of(Path({"interfaces-state", "interface", "statistics"}, "a"),
              object.SerializeAsString()),
      std::make_pair(absl::StatusCode::kOk, StreamLeafConverter::kNoSlot));
  EXPECT_EQ(converter.epoch(), 0u);
  // The fourth path starts the memo over: a new epoch, slots from 0.
  EXPECT_EQ(slot_of(counter("c"), val),
            std::make_pair(absl::StatusCode::kOk, 0u));
  EXPECT_EQ(converter.epoch(), 1u);
  EXPECT_EQ(slot_of(counter("a"), val),
            std::make_pair(absl::StatusCode::kOk, 1u));
  EXPECT_EQ(out.back().xpath,
            "/ietf-interfaces:interfaces-state/interface[name='a']/"
            "statistics/in-octets");
}

TEST(GnmiDriverTest, AnUnreachableDeviceSaysWhyInItsState) {
  // Port 1 on loopback: privileged and unused, so the connection is refused.
  const std::string address = "127.0.0.1:1";
  auto cache = std::make_unique<schema::ContextCache>(
      std::vector<std::string>{std::string(SOUTHGATE_SOURCE_DIR) + "/yang"});
  DriverContext context;
  context.schemas = cache.get();
  auto driver = CreateGnmiDriver(
      Settings(R"({"connect_timeout_ms": 2000})", address), context);
  ASSERT_TRUE(driver.ok()) << driver.status();
  absl::Status connected = (*driver)->Connect();
  EXPECT_EQ(connected.code(), absl::StatusCode::kUnavailable) << connected;
  DeviceStatus status = (*driver)->Status();
  EXPECT_EQ(status.state, ConnectionState::kError);
  EXPECT_THAT(status.last_error, HasSubstr("Connection refused"));
  EXPECT_THAT(status.last_error, ::testing::Not(HasSubstr("secret")));
  // Requests fail at once with the reason.
  auto got = (*driver)->Get({"/ietf-interfaces:interfaces"}, DataType::kAll);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable);
  (*driver)->Close();
  EXPECT_EQ((*driver)->Status().state, ConnectionState::kDisconnected);
}

}  // namespace
}  // namespace southgate::drivers::gnmi_driver
