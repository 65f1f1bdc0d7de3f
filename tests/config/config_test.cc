#include "config/config.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace southgate::config {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kHash[] =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("southgate_config_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "etc");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& content) {
    fs::path path = dir_ / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << content;
    return path.string();
  }
  // Loads `yaml` as etc/southgate.yaml.
  absl::StatusOr<Config> Load(const std::string& yaml) {
    return LoadConfig(Write("etc/southgate.yaml", yaml));
  }
  std::string ConfigPath() { return (dir_ / "etc/southgate.yaml").string(); }
  std::string Etc(const std::string& rest) {
    return (dir_ / "etc" / rest).lexically_normal().string();
  }
  // Expects INVALID_ARGUMENT naming the config file, line and field.
  void ExpectError(const std::string& yaml, const std::string& field_and_line,
                   const std::string& problem) {
    auto config = Load(yaml);
    ASSERT_FALSE(config.ok()) << "accepted:\n" << yaml;
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    std::string message(config.status().message());
    EXPECT_THAT(message, HasSubstr(ConfigPath() + ":" + field_and_line))
        << yaml;
    EXPECT_THAT(message, HasSubstr(problem));
  }
  fs::path dir_;
};

TEST_F(ConfigTest, FullConfig) {
  Write("etc/secrets/pw", "s3cret\n");
  ::setenv("SOUTHGATE_TEST_USER", "netops", 1);
  auto config = Load(R"(
server:
  listen: "[::1]:50051"
  insecure: false
  tls:
    cert: tls/server.crt
    key: /abs/server.key
    ca: tls/ca.pem
  shutdown_grace_ms: 1500
state_dir: state
log:
  level: debug
  format: json
yang:
  dirs: [ ../yang, /usr/share/yuma/modules/ietf ]
plugins:
  dir: plugins
users:
  list:
    - name: admin
      role: admin
      password_hash: ")" +
                     std::string(kHash) + R"("
    - name: viewer
      role: read-only
      password_hash: ")" +
                     std::string(kHash) + R"("
devices:
  - name: sim1
    driver: sim
    address: ""
    credentials:
      username_env: SOUTHGATE_TEST_USER
      password_file: secrets/pw
    options:
      seed: seed.json
      count: 3
      ratio: 0.5
      quoted: "42"
      flag: true
      nothing: null
      list: [1, two]
      nested: { a: b }
  - name: r2
    driver: netconf
    address: 10.0.0.2:830
)");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->source_file, ConfigPath());
  EXPECT_EQ(config->base_dir, (dir_ / "etc").string());
  EXPECT_EQ(config->listen, "[::1]:50051");
  EXPECT_FALSE(config->insecure);
  EXPECT_EQ(config->tls.cert_file, Etc("tls/server.crt"));
  EXPECT_EQ(config->tls.key_file, "/abs/server.key");
  EXPECT_EQ(config->tls.ca_file, Etc("tls/ca.pem"));
  EXPECT_EQ(config->shutdown_grace, std::chrono::milliseconds(1500));
  EXPECT_EQ(config->state_dir, Etc("state"));
  EXPECT_EQ(config->log.level, "debug");
  EXPECT_EQ(config->log.format, LogFormat::kJson);
  ASSERT_EQ(config->yang_dirs.size(), 2u);
  EXPECT_EQ(config->yang_dirs[0], (dir_ / "yang").string());
  EXPECT_EQ(config->yang_dirs[1], "/usr/share/yuma/modules/ietf");
  EXPECT_EQ(config->plugin_dir, Etc("plugins"));
  ASSERT_EQ(config->users.size(), 2u);
  EXPECT_EQ(config->users[0].name, "admin");
  EXPECT_EQ(config->users[0].role, Role::kAdmin);
  EXPECT_EQ(config->users[0].password_hash, kHash);
  EXPECT_EQ(config->users[1].role, Role::kReadOnly);
  ASSERT_EQ(config->devices.size(), 2u);
  const DeviceSettings& sim = config->devices[0];
  EXPECT_EQ(sim.name, "sim1");
  EXPECT_EQ(sim.driver, "sim");
  EXPECT_EQ(sim.username, "netops");
  EXPECT_EQ(sim.password, "s3cret");
  auto options = nlohmann::json::parse(sim.options_json);
  EXPECT_EQ(options["seed"], "seed.json");
  EXPECT_EQ(options["count"], 3);
  EXPECT_EQ(options["ratio"], 0.5);
  EXPECT_EQ(options["quoted"], "42");
  EXPECT_EQ(options["flag"], true);
  EXPECT_TRUE(options["nothing"].is_null());
  EXPECT_EQ(options["list"], nlohmann::json::parse(R"([1, "two"])"));
  EXPECT_EQ(options["nested"]["a"], "b");
  EXPECT_EQ(options["base_dir"], (dir_ / "etc").string());
  EXPECT_EQ(config->devices[1].address, "10.0.0.2:830");
  EXPECT_EQ(nlohmann::json::parse(config->devices[1].options_json),
            nlohmann::json({{"base_dir", (dir_ / "etc").string()}}));

  std::string debug = config->DebugString();
  EXPECT_THAT(debug, Not(HasSubstr("s3cret")));
  EXPECT_THAT(debug, Not(HasSubstr(kHash)));
  EXPECT_THAT(debug, HasSubstr("sim1"));
  EXPECT_THAT(debug, HasSubstr("netops"));
}

TEST_F(ConfigTest, Defaults) {
  auto config = Load("");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen, "127.0.0.1:9339");
  EXPECT_FALSE(config->insecure);
  EXPECT_TRUE(config->tls.cert_file.empty());
  EXPECT_EQ(config->shutdown_grace, std::chrono::milliseconds(5000));
  EXPECT_EQ(config->state_dir, "/var/lib/southgate");
  EXPECT_EQ(config->log.level, "info");
  EXPECT_EQ(config->log.format, LogFormat::kText);
  EXPECT_TRUE(config->yang_dirs.empty());
  EXPECT_TRUE(config->plugin_dir.empty());
  EXPECT_TRUE(config->users.empty());
  EXPECT_TRUE(config->devices.empty());
}

TEST_F(ConfigTest, BaseDirOptionIsKeptWhenGiven) {
  auto config = Load(R"(
devices:
  - name: d
    driver: sim
    options: { base_dir: /data }
)");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(nlohmann::json::parse(config->devices[0].options_json)["base_dir"],
            "/data");
}

TEST_F(ConfigTest, UsersFromFileAndShorthandList) {
  Write("etc/users.yaml", std::string("users:\n  - name: ops\n    role: "
                                      "read-write\n    password_hash: \"") +
                              kHash + "\"\n");
  auto config = Load(std::string(R"(
users:
  file: users.yaml
  list:
    - name: admin
      role: admin
      password_hash: ")") +
                     kHash + "\"\n");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->users.size(), 2u);
  EXPECT_EQ(config->users[0].name, "admin");
  EXPECT_EQ(config->users[1].name, "ops");
  EXPECT_EQ(config->users[1].role, Role::kReadWrite);

  auto shorthand = Load(std::string(R"(
users:
  - name: admin
    role: admin
    password_hash: ")") +
                        kHash + "\"\n");
  ASSERT_TRUE(shorthand.ok()) << shorthand.status();
  EXPECT_EQ(shorthand->users.size(), 1u);
}

TEST_F(ConfigTest, UsersFileErrorsNameTheUsersFile) {
  std::string users =
      Write("etc/users.yaml", "users:\n  - name: ops\n    role: superuser\n");
  auto config = Load("users:\n  file: users.yaml\n");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(),
              HasSubstr(users + ":3: users[0].role: unknown role"));

  auto missing = Load("users:\n  file: nope.yaml\n");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr(ConfigPath() + ":2"));
  EXPECT_THAT(missing.status().message(), HasSubstr(Etc("nope.yaml")));
}

TEST_F(ConfigTest, DuplicateUserAcrossFileAndList) {
  std::string users =
      Write("etc/users.yaml", std::string("users:\n  - name: admin\n    role: "
                                          "admin\n    password_hash: \"") +
                                  kHash + "\"\n");
  auto config = Load(std::string(R"(users:
  file: users.yaml
  list:
    - name: admin
      role: admin
      password_hash: ")") +
                     kHash + "\"\n");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr("duplicate user name"));
  EXPECT_THAT(config.status().message(), HasSubstr(users + ":2"));
}

TEST_F(ConfigTest, CredentialsFromEnvAndFiles) {
  Write("etc/user.txt", "fileuser\r\n");
  Write("pw.txt", "filepass");
  ::setenv("SOUTHGATE_TEST_PW", "envpass", 1);
  auto config = Load(R"(
devices:
  - name: a
    driver: sim
    credentials:
      username: plain
      password_env: SOUTHGATE_TEST_PW
  - name: b
    driver: sim
    credentials:
      username_file: user.txt
      password_file: ../pw.txt
)");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->devices[0].username, "plain");
  EXPECT_EQ(config->devices[0].password, "envpass");
  EXPECT_EQ(config->devices[1].username, "fileuser");
  EXPECT_EQ(config->devices[1].password, "filepass");
  std::string debug = config->DebugString();
  EXPECT_THAT(debug, Not(HasSubstr("envpass")));
  EXPECT_THAT(debug, Not(HasSubstr("filepass")));
}

TEST_F(ConfigTest, ParseConfigUsesGivenNameAndBaseDir) {
  auto config =
      ParseConfig("state_dir: st\nplugins: {dir: p}\n", "<inline>", "/opt/sg");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->state_dir, "/opt/sg/st");
  EXPECT_EQ(config->plugin_dir, "/opt/sg/p");
  auto bad = ParseConfig("log: {level: loud}\n", "<inline>", "/opt/sg");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("<inline>:1: log.level"));
}

// Found by fuzz_config: device options holding bytes that are not UTF-8
// made nlohmann::json throw while printing options_json, ending the
// daemon at start-up or on a SIGHUP reload instead of an error.
TEST_F(ConfigTest, OptionsThatAreNotUtf8AreAnError) {
  for (const auto& [yaml, field] :
       std::vector<std::pair<std::string, std::string>>{
           {"devices:\n  - name: a\n    driver: sim\n    options:\n"
            "      seed: \"caf\xe9.json\"\n",
            "5: devices[0].options.seed: not valid UTF-8"},
           {"devices:\n  - name: a\n    driver: sim\n    options: {x: [1, "
            "\xff]}\n",
            "4: devices[0].options.x[1]: not valid UTF-8"},
           {"devices:\n  - name: a\n    driver: sim\n    options:\n"
            "      \xc3: 1\n",
            "5: devices[0].options: key not valid UTF-8"}}) {
    auto config = ParseConfig(yaml, "<inline>", "/opt/sg");
    ASSERT_FALSE(config.ok()) << yaml;
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(config.status().message(), HasSubstr("<inline>:" + field));
  }
  auto valid = ParseConfig(
      "devices:\n  - name: a\n    driver: sim\n    options: {seed: "
      "caf\xc3\xa9}\n",
      "<inline>", "/opt/sg");
  ASSERT_TRUE(valid.ok()) << valid.status();
  EXPECT_THAT(valid->devices[0].options_json, HasSubstr("caf\xc3\xa9"));
}

TEST_F(ConfigTest, Errors) {
  ExpectError("server:\n  listn: 1.2.3.4:1\n", "2: server.listn",
              "unknown key");
  ExpectError("sever: {}\n", "1: sever", "unknown key");
  ExpectError("devices:\n  - name: a\n    driver: sim\n    adress: x\n",
              "4: devices[0].adress", "unknown key");
  ExpectError(
      "devices:\n  - name: a\n    driver: sim\n  - name: a\n    "
      "driver: sim\n",
      "4: devices[1].name", "duplicate device name 'a'");
  ExpectError("devices:\n  - name: a\n    driver: sim\n  - name: b\n",
              "4: devices[1].driver", "required field is missing");
  ExpectError("devices:\n  - driver: sim\n", "2: devices[0].name",
              "required field is missing");
  ExpectError("devices:\n  - name: a\n    driver: \"\"\n",
              "3: devices[0].driver", "must not be empty");
  ExpectError(std::string("users:\n  list:\n    - name: u\n      role: "
                          "read-write\n      password_hash: \"") +
                  kHash +
                  "\"\n    - name: u\n      role: admin\n      "
                  "password_hash: \"" +
                  kHash + "\"\n",
              "6: users.list[1].name", "duplicate user name 'u'");
  ExpectError("server:\n  listen: 1.2.3.4\n", "2: server.listen", "no port");
  ExpectError("server:\n  listen: \"::1:9339\"\n", "2: server.listen",
              "need brackets");
  ExpectError("server:\n  listen: 1.2.3.4:99999\n", "2: server.listen", "port");
  ExpectError("server:\n  listen: \"bad host:1\"\n", "2: server.listen",
              "not an IPv4 address or host name");
  ExpectError("users:\n  - name: u\n    role: root\n    password_hash: x\n",
              "3: users[0].role", "unknown role 'root'");
  ExpectError(
      "users:\n  - name: u\n    role: admin\n    password_hash: "
      "plain\n",
      "4: users[0].password_hash", "not an argon2id/argon2i hash");
  ExpectError(
      "users:\n  - name: u\n    role: admin\n    password_hash: "
      "\"$2b$12$abcdefghijabcdefghijab\"\n",
      "4: users[0].password_hash", "not an argon2id/argon2i hash");
  ExpectError("users:\n  - name: u\n    password_hash: x\n", "2: users[0].role",
              "required field is missing");
  ::unsetenv("SOUTHGATE_TEST_UNSET");
  ExpectError(
      "devices:\n  - name: a\n    driver: sim\n    credentials:\n"
      "      password_env: SOUTHGATE_TEST_UNSET\n",
      "5: devices[0].credentials.password_env",
      "SOUTHGATE_TEST_UNSET is not set");
  ExpectError(
      "devices:\n  - name: a\n    driver: sim\n    credentials:\n"
      "      password_file: missing.txt\n",
      "5: devices[0].credentials.password_file",
      "cannot read file " + Etc("missing.txt"));
  ExpectError(
      "devices:\n  - name: a\n    driver: sim\n    credentials:\n"
      "      password: hunter2\n",
      "5: devices[0].credentials.password", "inline passwords are not allowed");
  ExpectError(
      "devices:\n  - name: a\n    driver: sim\n    credentials:\n"
      "      username: a\n      username_env: B\n",
      "5: devices[0].credentials", "at most one of username");
  ExpectError("log:\n  level: verbose\n", "2: log.level",
              "invalid log level 'verbose'");
  ExpectError("log:\n  format: xml\n", "2: log.format", "invalid log format");
  ExpectError("server:\n  insecure: maybe\n", "2: server.insecure",
              "expected true or false");
  ExpectError("server:\n  shutdown_grace_ms: -5\n",
              "2: server.shutdown_grace_ms", "must be between");
  ExpectError("server:\n  tls:\n    cert: a.pem\n", "3: server.tls",
              "cert and key must be given together");
  ExpectError("yang:\n  dirs: /one\n", "2: yang.dirs", "expected a list");
  ExpectError("devices:\n  - name: a\n    driver: sim\n    options: [1]\n",
              "4: devices[0].options", "expected a mapping");
  ExpectError(
      "devices:\n  - name: a\n    driver: sim\n    options: {x: .inf}\n",
      "4: devices[0].options.x", "no JSON representation");
  ExpectError("devices:\n  name: a\n", "2: devices", "expected a list");
  ExpectError("- 1\n", "1", "expected a mapping");
  ExpectError("log:\n  level: info\nlog:\n  level: debug\n", "3: log",
              "duplicate key");
}

TEST_F(ConfigTest, YamlSyntaxErrorNamesFileAndLine) {
  auto config = Load("server:\n  listen: [unclosed\n");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), HasSubstr(ConfigPath() + ":"));
  EXPECT_THAT(config.status().message(), HasSubstr("invalid YAML"));
}

TEST_F(ConfigTest, MissingFile) {
  auto config = LoadConfig((dir_ / "nope.yaml").string());
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), HasSubstr("nope.yaml"));
}

TEST(ListenAddressTest, Parses) {
  auto v4 = ParseListenAddress("0.0.0.0:9339");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->host, "0.0.0.0");
  EXPECT_EQ(v4->port, 9339);
  auto v6 = ParseListenAddress("[::]:0");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::");
  EXPECT_EQ(v6->port, 0);
  auto name = ParseListenAddress("localhost:1");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->host, "localhost");
  EXPECT_FALSE(ParseListenAddress("[::1]").ok());
  EXPECT_FALSE(ParseListenAddress("[zz]:1").ok());
  EXPECT_FALSE(ParseListenAddress(":1").ok());
  EXPECT_FALSE(ParseListenAddress("host:").ok());
  EXPECT_FALSE(ParseListenAddress("host:-1").ok());
}

TEST(TelemetryConfigTest, DefaultsKeysAndValidation) {
  auto absent = ParseConfig("", "<inline>", "/");
  ASSERT_TRUE(absent.ok()) << absent.status();
  EXPECT_EQ(absent->telemetry, TelemetrySettings());
  EXPECT_EQ(absent->telemetry.min_sample_interval.count(), 10);
  EXPECT_EQ(absent->telemetry.max_pending_updates, 50000);

  auto set = ParseConfig(
      "telemetry:\n"
      "  max_pending_updates: 1000\n"
      "  slow_client_timeout_ms: 2500\n"
      "  slow_client_cancel_grace_ms: 0\n"
      "  min_sample_interval_ms: 2\n"
      "  max_updates_per_notification: 64\n"
      "  pipeline_notifications: 2\n"
      "  poll_interval_ms: 250\n",
      "<inline>", "/");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->telemetry.max_pending_updates, 1000);
  EXPECT_EQ(set->telemetry.slow_client_timeout.count(), 2500);
  EXPECT_EQ(set->telemetry.slow_client_cancel_grace.count(), 0);
  EXPECT_EQ(set->telemetry.min_sample_interval.count(), 2);
  EXPECT_EQ(set->telemetry.max_updates_per_notification, 64);
  EXPECT_EQ(set->telemetry.pipeline_notifications, 2);
  EXPECT_EQ(set->telemetry.poll_interval.count(), 250);
  EXPECT_THAT(set->DebugString(), HasSubstr("min_sample_interval_ms: 2\n"));

  auto zero =
      ParseConfig("telemetry:\n  min_sample_interval_ms: 0\n", "<inline>", "/");
  ASSERT_FALSE(zero.ok());
  EXPECT_THAT(std::string(zero.status().message()),
              HasSubstr("<inline>:2: telemetry.min_sample_interval_ms: must "
                        "be between 1 and 3600000"));
  auto text =
      ParseConfig("telemetry:\n  max_pending_updates: lots\n", "<inline>", "/");
  ASSERT_FALSE(text.ok());
  EXPECT_THAT(std::string(text.status().message()),
              HasSubstr("telemetry.max_pending_updates: expected an integer"));
  auto unknown = ParseConfig("telemetry:\n  queue_size: 5\n", "<inline>", "/");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(std::string(unknown.status().message()),
              HasSubstr("telemetry.queue_size: unknown key"));
}

}  // namespace
}  // namespace southgate::config

namespace southgate::config {
namespace {

// The shipped example must always load.
TEST(ExampleConfigTest, LabYamlLoads) {
  auto config =
      LoadConfig(std::string(SOUTHGATE_SOURCE_DIR) + "/examples/lab.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->devices.empty());
  EXPECT_FALSE(config->users.empty());
}

}  // namespace
}  // namespace southgate::config

namespace southgate::config {
namespace {

using ::testing::HasSubstr;

TEST(OpsConfigTest, ListenParsedAndValidated) {
  auto enabled =
      ParseConfig("ops:\n  listen: 127.0.0.1:9340\n", "<inline>", "/");
  ASSERT_TRUE(enabled.ok()) << enabled.status();
  EXPECT_EQ(enabled->ops.listen, "127.0.0.1:9340");
  auto absent = ParseConfig("", "<inline>", "/");
  ASSERT_TRUE(absent.ok());
  EXPECT_EQ(absent->ops.listen, "");  // disabled by default
  auto empty = ParseConfig("ops:\n  listen: \"\"\n", "<inline>", "/");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->ops.listen, "");
  auto bad = ParseConfig("ops:\n  listen: ::1:9340\n", "<inline>", "/");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("<inline>:2: ops.listen:"));
  auto unknown = ParseConfig("ops:\n  port: 9340\n", "<inline>", "/");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(std::string(unknown.status().message()),
              HasSubstr("ops.port: unknown key"));
}

}  // namespace
}  // namespace southgate::config

namespace southgate::config {
namespace {

TEST_F(ConfigTest, SecuritySections) {
  Write("etc/ca.pem", "x");
  auto config = Load(
      "server:\n  tls:\n    cert: c.pem\n    key: k.pem\n    ca: ca.pem\n"
      "    client_cert: request\n    client_identity: san\n"
      "    reload_interval_ms: 250\n"
      "auth:\n  throttle:\n    max_failures: 3\n    window_ms: 1000\n"
      "    lockout_ms: 2000\n    trusted_for_ms: 0\n"
      "authorization:\n  default: deny\n  rules:\n"
      "    - name: ops-interfaces\n      effect: allow\n"
      "      roles: [read-write]\n      users: [alice]\n"
      "      targets: [r1, \"*\"]\n"
      "      paths: [\"/openconfig-interfaces:interfaces/"
      "interface[name=eth0]/config\"]\n      access: write\n"
      "audit:\n  file: audit/audit.log\n"
      "users:\n  - name: certonly\n    role: read-only\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->tls.client_cert, ClientCertPolicy::kRequest);
  EXPECT_EQ(config->tls.client_identity, CertIdentity::kSubjectAltName);
  EXPECT_EQ(config->tls.reload_interval.count(), 250);
  EXPECT_EQ(config->throttle.max_failures, 3);
  EXPECT_EQ(config->throttle.window.count(), 1000);
  EXPECT_EQ(config->throttle.lockout.count(), 2000);
  EXPECT_EQ(config->throttle.trusted_for.count(), 0);
  EXPECT_FALSE(config->authorization.default_allow);
  ASSERT_EQ(config->authorization.rules.size(), 1u);
  const security::AccessRule& rule = config->authorization.rules[0];
  EXPECT_EQ(rule.name, "ops-interfaces");
  EXPECT_TRUE(rule.allow);
  EXPECT_FALSE(rule.read);
  EXPECT_TRUE(rule.write);
  EXPECT_EQ(rule.users, std::vector<std::string>{"alice"});
  EXPECT_EQ(rule.roles, std::vector<Role>{Role::kReadWrite});
  ASSERT_EQ(rule.paths.size(), 1u);
  ASSERT_EQ(rule.paths[0].size(), 3u);
  EXPECT_EQ(rule.paths[0][0].name, "interfaces");  // module prefix dropped
  EXPECT_EQ(rule.paths[0][1].keys.at("name"), "eth0");
  EXPECT_EQ(config->audit.file, Etc("audit/audit.log"));
  // A user without a hash signs in by certificate only.
  ASSERT_EQ(config->users.size(), 1u);
  EXPECT_TRUE(config->users[0].password_hash.empty());
  EXPECT_THAT(config->DebugString(), HasSubstr("certificate only"));
}

TEST_F(ConfigTest, CaAloneRequiresClientCertificates) {
  auto config = Load("server:\n  tls:\n    ca: ca.pem\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->tls.client_cert, ClientCertPolicy::kRequire);
  EXPECT_EQ(config->tls.client_identity, CertIdentity::kNone);
  config = Load("");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->tls.client_cert, ClientCertPolicy::kNone);
  EXPECT_TRUE(config->authorization.default_allow);
  EXPECT_EQ(config->throttle.max_failures, 5);
}

TEST_F(ConfigTest, SecurityErrors) {
  ExpectError("server:\n  tls:\n    client_cert: require\n",
              "3: server.tls.client_cert", "needs server.tls.ca");
  ExpectError("server:\n  tls:\n    ca: a.pem\n    client_cert: maybe\n",
              "4: server.tls.client_cert", "not one of none, request, require");
  ExpectError("server:\n  tls:\n    client_identity: cn\n",
              "3: server.tls.client_identity", "needs server.tls.client_cert");
  ExpectError("auth:\n  throttle:\n    max_failures: 0\n",
              "3: auth.throttle.max_failures", "must be between");
  ExpectError("auth:\n  throttle:\n    lockout: 5\n",
              "3: auth.throttle.lockout", "unknown key");
  ExpectError("authorization:\n  default: maybe\n", "2: authorization.default",
              "not allow or deny");
  ExpectError("authorization:\n  rules:\n    - effect: deny\n",
              "3: authorization.rules[0].name", "required field is missing");
  ExpectError("authorization:\n  rules:\n    - name: a\n",
              "3: authorization.rules[0].effect", "required field is missing");
  ExpectError(
      "authorization:\n  rules:\n    - name: a\n      effect: deny\n"
      "    - name: a\n      effect: allow\n",
      "5: authorization.rules[1].name", "duplicate rule name 'a'");
  ExpectError(
      "authorization:\n  rules:\n    - name: a\n      effect: deny\n"
      "      paths: [\"interfaces\"]\n",
      "5: authorization.rules[0].paths", "must start with '/'");
  ExpectError(
      "authorization:\n  rules:\n    - name: a\n      effect: deny\n"
      "      paths: [\"/a/b[name\"]\n",
      "5: authorization.rules[0].paths", "unterminated '['");
  ExpectError(
      "authorization:\n  rules:\n    - name: a\n      effect: deny\n"
      "      roles: [superuser]\n",
      "5: authorization.rules[0].roles", "unknown role 'superuser'");
  ExpectError(
      "authorization:\n  rules:\n    - name: a\n      effect: deny\n"
      "      access: everything\n",
      "5: authorization.rules[0].access", "not read, write or read-write");
  ExpectError("audit:\n  path: x\n", "2: audit.path", "unknown key");
}

}  // namespace
}  // namespace southgate::config
