// The NETCONF driver against a real netconfd over real SSH (netconf_device.h).
#include "drivers/netconf/netconf_driver.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include "devices/device_manager.h"
#include "drivers/driver_registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netconf/session.h"
#include "netconf_device.h"
#include "nlohmann/json.hpp"
#include "schema/yang_context.h"
#include "spdlog/spdlog.h"

namespace southgate::drivers::netconf {
namespace {

using ::southgate::testing::NetconfDevice;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kInterfaces[] = "/ietf-interfaces:interfaces";

std::string InterfacePath(const std::string& name) {
  return std::string(kInterfaces) + "/interface[name='" + name + "']";
}

std::string InterfaceDoc(const std::string& name, const std::string& extra) {
  return R"({"ietf-interfaces:interfaces":{"interface":[{"name":")" + name +
         R"(","type":"iana-if-type:ethernetCsmacd")" + extra + "}]}}";
}

Edit Update(const std::string& name, const std::string& extra) {
  return Edit{Edit::Op::kUpdate, InterfacePath(name),
              InterfaceDoc(name, extra)};
}

// Polls `condition` every `period` for at most `limit`.
template <typename F>
bool Eventually(
    F condition, std::chrono::milliseconds limit,
    std::chrono::milliseconds period = std::chrono::milliseconds(50)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(period);
  }
  return condition();
}

class NetconfDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::getenv("SOUTHGATE_TEST_DEBUG"))
      spdlog::set_level(spdlog::level::trace);
    ASSERT_TRUE(device_.Start()) << device_.error();
  }

  DeviceSettings Settings(nlohmann::json options,
                          std::string password = NetconfDevice::kPassword) {
    if (!options.contains("known_hosts_file") &&
        !options.contains("host_key_sha256")) {
      options["known_hosts_file"] = device_.KnownHostsFile();
    }
    if (!options.contains("keepalive_interval_ms"))
      options["keepalive_interval_ms"] = 200;
    if (!options.contains("backoff_initial_ms"))
      options["backoff_initial_ms"] = 100;
    if (!options.contains("backoff_max_ms")) options["backoff_max_ms"] = 500;
    if (!options.contains("connect_timeout_ms"))
      options["connect_timeout_ms"] = 3000;
    DeviceSettings settings;
    settings.name = "dut";
    settings.driver = "netconf";
    settings.address = device_.address();
    settings.username = NetconfDevice::kUser;
    settings.password = std::move(password);
    settings.options_json = options.dump();
    return settings;
  }

  std::unique_ptr<NetconfDriver> MakeDriver(
      nlohmann::json options = nlohmann::json::object(),
      std::string password = NetconfDevice::kPassword) {
    DriverContext context;
    context.schemas = &cache_;
    context.state_dir = device_.dir() + "/state";
    auto driver = CreateNetconfDriver(Settings(options, password), context);
    EXPECT_TRUE(driver.ok()) << driver.status();
    if (!driver.ok()) return nullptr;
    return std::unique_ptr<NetconfDriver>(
        static_cast<NetconfDriver*>(driver->release()));
  }

  std::unique_ptr<NetconfDriver> Connected(
      nlohmann::json options = nlohmann::json::object()) {
    auto driver = MakeDriver(options);
    if (!driver) return nullptr;
    absl::Status status = driver->Connect();
    EXPECT_TRUE(status.ok()) << status;
    if (!status.ok()) return nullptr;
    return driver;
  }

  std::string RunningInterfaces(NetconfDriver& driver) {
    auto json = driver.Get({kInterfaces}, DataType::kConfig);
    EXPECT_TRUE(json.ok()) << json.status();
    return json.ok() ? *json : "";
  }

  // Another NETCONF client (plain libnetconf2 through src/netconf) using the
  // driver's schema cache, so it fetches nothing with get-schema.
  std::unique_ptr<southgate::netconf::Session> RawSession() {
    southgate::netconf::SshOptions options;
    options.host = "127.0.0.1";
    options.port = static_cast<uint16_t>(device_.port());
    options.username = NetconfDevice::kUser;
    options.password = NetconfDevice::kPassword;
    options.known_hosts_file = device_.KnownHostsFile();
    options.schema_searchpath = device_.dir() + "/state/netconf-schemas";
    auto session = southgate::netconf::Session::ConnectSsh(options);
    EXPECT_TRUE(session.ok()) << session.status();
    return session.ok() ? std::move(session).value() : nullptr;
  }

  // Restarts netconfd (same sshd, same port) with extra arguments.
  void RestartNetconfd(const std::string& args) {
    device_.KillNetconfd();
    device_.set_netconfd_args(args);
    ASSERT_TRUE(device_.Start("netconfd")) << device_.error();
  }

  NetconfDevice device_;
  schema::ContextCache cache_{{}};
};

TEST_F(NetconfDriverTest, ConnectsWithPasswordAndKnownHosts) {
  auto driver = Connected();
  ASSERT_TRUE(driver);
  EXPECT_EQ(driver->Status().state, ConnectionState::kConnected);
  EXPECT_EQ(driver->Status().last_error, "");
  std::vector<std::string> names;
  for (const auto& model : driver->Models()) names.push_back(model.name);
  EXPECT_THAT(names, ::testing::Contains("ietf-interfaces"));
  EXPECT_THAT(driver->Capabilities(),
              ::testing::Contains(HasSubstr(":candidate:1.0")));
  EXPECT_TRUE(driver->SupportsConfirmedCommit());
  ASSERT_TRUE(driver->Schema());
}

TEST_F(NetconfDriverTest, ConnectsWithKeyAndPinnedFingerprint) {
  std::string fingerprint = device_.HostKeyFingerprint();
  ASSERT_THAT(fingerprint, HasSubstr("SHA256:"));
  auto driver = MakeDriver({{"private_key_file", device_.ClientKey()},
                            {"host_key_sha256", fingerprint}},
                           /*password=*/"");
  ASSERT_TRUE(driver);
  absl::Status status = driver->Connect();
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(driver->Status().state, ConnectionState::kConnected);
}

TEST_F(NetconfDriverTest, WrongPasswordIsAClearError) {
  auto driver = MakeDriver(nlohmann::json::object(), "not-the-password");
  ASSERT_TRUE(driver);
  absl::Status status = driver->Connect();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << status;
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("authentication failed"));
  EXPECT_EQ(driver->Status().state, ConnectionState::kError);
  EXPECT_THAT(driver->Status().last_error, HasSubstr("authentication failed"));
}

TEST_F(NetconfDriverTest, HostKeyMismatchIsRefused) {
  auto driver =
      MakeDriver({{"host_key_sha256",
                   "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}});
  ASSERT_TRUE(driver);
  absl::Status status = driver->Connect();
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("host key mismatch"));
  EXPECT_EQ(driver->Status().state, ConnectionState::kError);
}

TEST_F(NetconfDriverTest, OptionsNeedAHostKeyCheck) {
  DeviceSettings settings = Settings({});
  settings.options_json = R"({"connect_timeout_ms": 100})";
  auto driver = CreateNetconfDriver(settings, DriverContext{});
  EXPECT_EQ(driver.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(driver.status().message()),
              HasSubstr("insecure_skip_host_key_check"));
}

TEST_F(NetconfDriverTest, SchemasAreDownloadedOnceAndShared) {
  auto first = Connected();
  ASSERT_TRUE(first);
  EXPECT_GT(first->schema_downloads(), 5u);
  auto schema = first->Schema();
  first->Close();
  // A new driver (as after a daemon restart) finds every module on disk.
  auto second = Connected();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->schema_downloads(), 0u);
  // Same module set: the same shared context.
  EXPECT_EQ(second->Schema().get(), schema.get());
}

TEST_F(NetconfDriverTest, GetEveryType) {
  auto driver = Connected();
  ASSERT_TRUE(driver);
  ASSERT_TRUE(
      driver->Set({{Update("sg0", R"(,"description":"uplink")")}}).ok());
  auto config = driver->Get({InterfacePath("sg0")}, DataType::kConfig);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(*config, HasSubstr("uplink"));
  auto all = driver->Get({kInterfaces}, DataType::kAll);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(*all, HasSubstr("uplink"));
  // netconfd's pure datastore has no interface state: no config, no data.
  for (DataType type : {DataType::kState, DataType::kOperational}) {
    auto state = driver->Get({kInterfaces}, type);
    ASSERT_TRUE(state.ok()) << state.status();
    EXPECT_THAT(*state, Not(HasSubstr("uplink")));
  }
  // State nodes are there for ALL/STATE: the server's own monitoring data.
  auto monitoring = driver->Get(
      {"/ietf-netconf-monitoring:netconf-state/sessions"}, DataType::kState);
  ASSERT_TRUE(monitoring.ok()) << monitoring.status();
  EXPECT_THAT(*monitoring, HasSubstr("session-id"));
  // A wildcard path.
  auto wildcard = driver->Get(
      {std::string(kInterfaces) + "/interface/description"}, DataType::kConfig);
  ASSERT_TRUE(wildcard.ok()) << wildcard.status();
  EXPECT_THAT(*wildcard, HasSubstr("uplink"));
  EXPECT_THAT(*wildcard, Not(HasSubstr("ethernetCsmacd")));
}

TEST_F(NetconfDriverTest, SetUpdateReplaceDelete) {
  auto driver = Connected();
  ASSERT_TRUE(driver);
  Transaction create{{Update("sg0", R"(,"description":"one","enabled":true)"),
                      Update("sg1", R"(,"description":"other")")}};
  ASSERT_TRUE(driver->Set(create).ok());
  EXPECT_THAT(RunningInterfaces(*driver), HasSubstr("\"one\""));

  // Replace sg0: description gone, enabled false.
  Transaction replace{{Edit{Edit::Op::kReplace, InterfacePath("sg0"),
                            InterfaceDoc("sg0", R"(,"enabled":false)")}}};
  absl::Status replaced = driver->Set(replace);
  ASSERT_TRUE(replaced.ok()) << replaced;
  std::string running = RunningInterfaces(*driver);
  EXPECT_THAT(running, Not(HasSubstr("\"one\"")));
  EXPECT_THAT(running, HasSubstr("\"other\""));

  // Delete a leaf, an entry, and an entry that does not exist, at once.
  Transaction remove{
      {Edit{Edit::Op::kDelete, InterfacePath("sg1") + "/description", ""},
       Edit{Edit::Op::kDelete, InterfacePath("sg0"), ""},
       Edit{Edit::Op::kDelete, InterfacePath("absent9"), ""}}};
  absl::Status removed = driver->Set(remove);
  ASSERT_TRUE(removed.ok()) << removed;
  running = RunningInterfaces(*driver);
  EXPECT_THAT(running, Not(HasSubstr("\"sg0\"")));
  EXPECT_THAT(running, HasSubstr("\"sg1\""));
  EXPECT_THAT(running, Not(HasSubstr("\"other\"")));
}

TEST_F(NetconfDriverTest, RejectedSetLeavesRunningUnchanged) {
  auto driver = Connected();
  ASSERT_TRUE(driver);
  // A wrong type never reaches the device.
  absl::Status bad_type =
      driver->Set({{Update("sg0", R"(,"enabled":"maybe")")}});
  EXPECT_EQ(bad_type.code(), absl::StatusCode::kInvalidArgument) << bad_type;
  // A list entry without its mandatory type: the device refuses the commit;
  // the good edit next to it must not be applied either.
  Transaction mixed{
      {Update("sg-good", ""),
       Edit{
           Edit::Op::kUpdate, InterfacePath("sg-bad"),
           R"({"ietf-interfaces:interfaces":{"interface":[{"name":"sg-bad","description":"x"}]}})"}}};
  absl::Status status = driver->Set(mixed);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.code(), absl::StatusCode::kUnavailable) << status;
  std::string running = RunningInterfaces(*driver);
  EXPECT_THAT(running, Not(HasSubstr("sg-good")));
  EXPECT_THAT(running, Not(HasSubstr("sg-bad")));
  // The session (and candidate lock) is usable afterwards.
  absl::Status again = driver->Set({{Update("sg-after", "")}});
  EXPECT_TRUE(again.ok()) << again;
}

TEST_F(NetconfDriverTest, ConfirmedCommitRollsBackUnlessConfirmed) {
  // netconfd checks its confirm timer only when its session loop has been
  // idle for a while: no keepalive here, and slow polling.
  auto driver = Connected({{"keepalive_interval_ms", 0}});
  ASSERT_TRUE(driver);
  Transaction rolled{{Update("sg-rb", "")}};
  rolled.commit.kind = CommitAction::Kind::kCommit;
  rolled.commit.id = "c1";
  rolled.commit.rollback_duration_ms = 1000;
  absl::Status rolled_status = driver->Set(rolled);
  ASSERT_TRUE(rolled_status.ok()) << rolled_status;
  EXPECT_THAT(RunningInterfaces(*driver), HasSubstr("sg-rb"));
  EXPECT_TRUE(Eventually(
      [&] {
        return RunningInterfaces(*driver).find("sg-rb") == std::string::npos;
      },
      std::chrono::seconds(15), std::chrono::milliseconds(2500)));
  // Confirming after the rollback is refused.
  Transaction late;
  late.commit.kind = CommitAction::Kind::kConfirm;
  late.commit.id = "c1";
  EXPECT_EQ(driver->Set(late).code(), absl::StatusCode::kFailedPrecondition);

  Transaction kept{{Update("sg-keep", "")}};
  kept.commit.kind = CommitAction::Kind::kCommit;
  kept.commit.id = "c2";
  kept.commit.rollback_duration_ms = 1000;
  absl::Status kept_status = driver->Set(kept);
  ASSERT_TRUE(kept_status.ok()) << kept_status;
  Transaction confirm;
  confirm.commit.kind = CommitAction::Kind::kConfirm;
  confirm.commit.id = "c2";
  absl::Status confirmed = driver->Set(confirm);
  ASSERT_TRUE(confirmed.ok()) << confirmed;
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  EXPECT_THAT(RunningInterfaces(*driver), HasSubstr("sg-keep"));

  Transaction cancelled{{Update("sg-cancel", "")}};
  cancelled.commit.kind = CommitAction::Kind::kCommit;
  cancelled.commit.id = "c3";
  cancelled.commit.rollback_duration_ms = 60000;
  ASSERT_TRUE(driver->Set(cancelled).ok());
  // While c3 waits (gNMI commit-confirmed spec): a plain Set and a second
  // commit are FAILED_PRECONDITION, a wrong id INVALID_ARGUMENT; none
  // changes anything (a plain <commit> would have confirmed c3).
  Transaction plain{{Update("sg-plain", "")}};
  EXPECT_EQ(driver->Set(plain).code(), absl::StatusCode::kFailedPrecondition);
  Transaction second{{Update("sg-second", "")}};
  second.commit.kind = CommitAction::Kind::kCommit;
  second.commit.id = "c4";
  second.commit.rollback_duration_ms = 60000;
  EXPECT_EQ(driver->Set(second).code(), absl::StatusCode::kFailedPrecondition);
  Transaction wrong_id;
  wrong_id.commit.kind = CommitAction::Kind::kConfirm;
  wrong_id.commit.id = "c9";
  EXPECT_EQ(driver->Set(wrong_id).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(RunningInterfaces(*driver), Not(HasSubstr("sg-plain")));
  EXPECT_THAT(RunningInterfaces(*driver), Not(HasSubstr("sg-second")));
  Transaction cancel;
  cancel.commit.kind = CommitAction::Kind::kCancel;
  cancel.commit.id = "c3";
  absl::Status cancel_status = driver->Set(cancel);
  ASSERT_TRUE(cancel_status.ok()) << cancel_status;
  EXPECT_THAT(RunningInterfaces(*driver), Not(HasSubstr("sg-cancel")));
  EXPECT_THAT(RunningInterfaces(*driver), HasSubstr("sg-keep"));
}

TEST_F(NetconfDriverTest, ReconnectsAfterNetconfdRestart) {
  auto driver = Connected();
  ASSERT_TRUE(driver);
  const uint64_t downloads_before = driver->schema_downloads();
  device_.KillNetconfd();
  DeviceStatus down;
  EXPECT_TRUE(Eventually(
      [&] {
        down = driver->Status();
        return down.state == ConnectionState::kError;
      },
      std::chrono::seconds(10)));
  EXPECT_FALSE(down.last_error.empty());
  // Requests fail fast and clearly while the device is away.
  auto get = driver->Get({kInterfaces}, DataType::kConfig);
  EXPECT_EQ(get.status().code(), absl::StatusCode::kUnavailable)
      << get.status();
  ASSERT_TRUE(device_.Start("netconfd")) << device_.error();
  EXPECT_TRUE(Eventually(
      [&] {
        DeviceStatus status = driver->Status();
        return status.state == ConnectionState::kConnected &&
               status.reconnects >= 1;
      },
      std::chrono::seconds(20)))
      << driver->Status().last_error;
  absl::Status set = driver->Set({{Update("sg-back", "")}});
  EXPECT_TRUE(set.ok()) << set;
  EXPECT_THAT(RunningInterfaces(*driver), HasSubstr("sg-back"));
  // The reconnect read every module from the on-disk cache.
  EXPECT_EQ(driver->schema_downloads(), downloads_before);
}

TEST_F(NetconfDriverTest, SshdDownAtStartThenBackoffAndConnect) {
  device_.StopSshd();
  drivers::DriverRegistry registry;
  ASSERT_TRUE(registry.Register("netconf", &CreateNetconfDriver).ok());
  DriverContext context;
  context.schemas = &cache_;
  context.state_dir = device_.dir() + "/state";
  devices::BackoffPolicy backoff;
  backoff.initial = std::chrono::milliseconds(100);
  backoff.max = std::chrono::milliseconds(400);
  devices::DeviceManager manager(registry, context, backoff);
  ASSERT_TRUE(manager.Add(Settings({})).ok());
  manager.Start();
  auto device = manager.Find("dut");
  ASSERT_TRUE(device);
  EXPECT_TRUE(Eventually(
      [&] { return device->status().state == ConnectionState::kError; },
      std::chrono::seconds(10)));
  EXPECT_THAT(device->status().last_error, HasSubstr("cannot connect"));
  ASSERT_TRUE(device_.Start("sshd")) << device_.error();
  EXPECT_TRUE(manager.WaitConnected(std::chrono::seconds(20)))
      << device->status().last_error;
  EXPECT_EQ(device->status().state, ConnectionState::kConnected);
  manager.Shutdown();
}

// Collects what a subscription delivers.
class TestSink : public NotificationSink {
 public:
  void OnNotification(Notification notification) override {
    std::lock_guard<std::mutex> lock(mutex_);
    notifications_.push_back(std::move(notification));
  }
  void OnSynced() override { synced_ = true; }
  void OnError(absl::Status status) override {
    std::lock_guard<std::mutex> lock(mutex_);
    error_ = status;
  }
  std::vector<Notification> notifications() {
    std::lock_guard<std::mutex> lock(mutex_);
    return notifications_;
  }
  // Whether any update so far has `path_part` in its path and `value_part`
  // in its value.
  bool Saw(const std::string& path_part, const std::string& value_part) {
    for (const auto& n : notifications())
      for (const auto& u : n.updates)
        if (u.xpath.find(path_part) != std::string::npos &&
            u.json_value.find(value_part) != std::string::npos)
          return true;
    return false;
  }
  bool SawDelete(const std::string& path_part) {
    for (const auto& n : notifications())
      for (const auto& d : n.deletes)
        if (d.find(path_part) != std::string::npos) return true;
    return false;
  }
  std::atomic<bool> synced_{false};

 private:
  std::mutex mutex_;
  std::vector<Notification> notifications_;
  absl::Status error_;
};

class SyncCountingSink : public TestSink {
 public:
  void OnSynced() override { ++syncs_; }
  std::atomic<int> syncs_{0};
};

TEST_F(NetconfDriverTest, SampleSendsEveryLeafEachInterval) {
  auto driver = Connected();
  ASSERT_TRUE(driver);
  ASSERT_TRUE(
      driver->Set({{Update("sg0", R"(,"description":"sampled")")}}).ok());
  auto sink = std::make_shared<TestSink>();
  SubscriptionSpec spec;
  spec.xpath = kInterfaces;
  spec.mode = SubscriptionMode::kSample;
  spec.sample_interval_ns = 100'000'000;
  auto subscription = driver->Subscribe({spec}, sink);
  ASSERT_TRUE(subscription.ok()) << subscription.status();
  EXPECT_TRUE(sink->synced_);
  EXPECT_TRUE(sink->Saw("description", "sampled"));
  EXPECT_TRUE(Eventually(
      [&] {
        int with_value = 0;
        for (const auto& n : sink->notifications())
          for (const auto& u : n.updates)
            if (u.json_value.find("sampled") != std::string::npos) ++with_value;
        return with_value >= 3;
      },
      std::chrono::seconds(10)));
  subscription->reset();
  size_t count = sink->notifications().size();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(sink->notifications().size(), count);  // nothing after cancel
}

TEST_F(NetconfDriverTest, OnChangeSeesOtherClientsAndResumesAfterRestart) {
  auto driver = Connected({{"change_poll_interval_ms", 100}});
  ASSERT_TRUE(driver);
  auto other = Connected();  // another NETCONF client of the same device
  ASSERT_TRUE(other);
  auto sink = std::make_shared<TestSink>();
  SubscriptionSpec spec;
  spec.xpath = kInterfaces;
  spec.mode = SubscriptionMode::kOnChange;
  auto subscription = driver->Subscribe({spec}, sink);
  ASSERT_TRUE(subscription.ok()) << subscription.status();
  ASSERT_TRUE(
      other->Set({{Update("sg-oc", R"(,"description":"first")")}}).ok());
  EXPECT_TRUE(Eventually([&] { return sink->Saw("sg-oc", "first"); },
                         std::chrono::seconds(10)));
  // netconfd restarts empty (no startup config): the entry is deleted, and
  // the subscription goes on once the driver has reconnected.
  device_.KillNetconfd();
  ASSERT_TRUE(device_.Start("netconfd")) << device_.error();
  EXPECT_TRUE(Eventually([&] { return sink->SawDelete("sg-oc"); },
                         std::chrono::seconds(20)));
  EXPECT_TRUE(Eventually(
      [&] {
        return other->Set({{Update("sg-oc", R"(,"description":"second")")}})
            .ok();
      },
      std::chrono::seconds(20), std::chrono::milliseconds(500)));
  EXPECT_TRUE(Eventually([&] { return sink->Saw("sg-oc", "second"); },
                         std::chrono::seconds(10)));
}

// How long the waits below allow on a heavily loaded machine (the
// notification session has been seen to take over 13 s to come up there):
// a bound on waiting, not a measurement.
constexpr auto kSlowMachine = std::chrono::seconds(60);

// ON_CHANGE driven by the device's netconf-config-change notifications:
// polling is pushed out of reach (an hour) and no resync runs, so only a
// notification can bring the other client's edits.
TEST_F(NetconfDriverTest, OnChangeFollowsNetconfConfigChangeNotifications) {
  auto driver = Connected({{"change_poll_interval_ms", 3'600'000},
                           {"notification_resync_interval_ms", 0}});
  ASSERT_TRUE(driver);
  auto other = Connected();
  ASSERT_TRUE(other);
  ASSERT_TRUE(
      other->Set({{Update("sg-n0", R"(,"description":"before")")}}).ok());
  auto sink = std::make_shared<TestSink>();
  SubscriptionSpec spec;
  spec.xpath = kInterfaces;
  spec.mode = SubscriptionMode::kOnChange;
  auto subscription = driver->Subscribe({spec}, sink);
  ASSERT_TRUE(subscription.ok()) << subscription.status();
  EXPECT_TRUE(sink->synced_);
  EXPECT_TRUE(sink->Saw("sg-n0", "before"));
  EXPECT_EQ(driver->Status().change_notifications, 0u);

  ASSERT_TRUE(
      other->Set({{Update("sg-n1", R"(,"description":"first")")}}).ok());
  EXPECT_TRUE(
      Eventually([&] { return sink->Saw("sg-n1", "first"); }, kSlowMachine));
  // Seen, so the notification session is up: either its notification or,
  // when it came up after this edit, its catch-up re-read brought it.
  // Every edit from here on is announced by a notification.
  // A changed leaf, a deleted leaf and a deleted entry.
  Transaction edits{
      {Edit{Edit::Op::kDelete, InterfacePath("sg-n0") + "/description", ""},
       Update("sg-n1", R"(,"description":"second")")}};
  ASSERT_TRUE(other->Set(edits).ok());
  EXPECT_TRUE(
      Eventually([&] { return sink->Saw("sg-n1", "second"); }, kSlowMachine));
  EXPECT_GE(driver->Status().change_notifications, 1u);
  EXPECT_TRUE(
      Eventually([&] { return sink->SawDelete("[name='sg-n0']/description"); },
                 kSlowMachine));
  ASSERT_TRUE(
      other->Set({{Edit{Edit::Op::kDelete, InterfacePath("sg-n1"), ""}}}).ok());
  EXPECT_TRUE(
      Eventually([&] { return sink->SawDelete("[name='sg-n1']/description"); },
                 kSlowMachine));
  EXPECT_GE(driver->Status().change_notifications, 2u);
  // Nothing about sg-n0's entry itself was deleted: only its description.
  EXPECT_FALSE(sink->SawDelete("[name='sg-n0']/type"));
}

// on_change_source: poll keeps ON_CHANGE on polling (no notification
// session), as on devices without :notification.
TEST_F(NetconfDriverTest, OnChangeByPollingWhenConfigured) {
  auto driver = Connected(
      {{"change_poll_interval_ms", 100}, {"on_change_source", "poll"}});
  ASSERT_TRUE(driver);
  auto other = Connected();
  ASSERT_TRUE(other);
  auto sink = std::make_shared<TestSink>();
  SubscriptionSpec spec;
  spec.xpath = kInterfaces;
  spec.mode = SubscriptionMode::kOnChange;
  auto subscription = driver->Subscribe({spec}, sink);
  ASSERT_TRUE(subscription.ok()) << subscription.status();
  ASSERT_TRUE(
      other->Set({{Update("sg-p", R"(,"description":"polled")")}}).ok());
  EXPECT_TRUE(Eventually([&] { return sink->Saw("sg-p", "polled"); },
                         std::chrono::seconds(10)));
  EXPECT_EQ(driver->Status().change_notifications, 0u);
}

// A device that does not advertise ietf-netconf-notifications (netconfd
// told not to): ON_CHANGE falls back to polling by itself.
TEST_F(NetconfDriverTest, OnChangeFallsBackToPollingWithoutConfigChangeModule) {
  RestartNetconfd("--non-advertised-module=ietf-netconf-notifications");
  auto driver = Connected({{"change_poll_interval_ms", 100}});
  ASSERT_TRUE(driver);
  EXPECT_THAT(
      driver->Capabilities(),
      Not(::testing::Contains(HasSubstr("ietf-netconf-notifications"))));
  auto other = Connected();
  ASSERT_TRUE(other);
  auto sink = std::make_shared<TestSink>();
  SubscriptionSpec spec;
  spec.xpath = kInterfaces;
  spec.mode = SubscriptionMode::kOnChange;
  auto subscription = driver->Subscribe({spec}, sink);
  ASSERT_TRUE(subscription.ok()) << subscription.status();
  ASSERT_TRUE(
      other->Set({{Update("sg-fb", R"(,"description":"fallback")")}}).ok());
  EXPECT_TRUE(Eventually([&] { return sink->Saw("sg-fb", "fallback"); },
                         std::chrono::seconds(10)));
  EXPECT_EQ(driver->Status().change_notifications, 0u);
}

// ON_CHANGE by notifications next to SAMPLE by polling in one Subscribe:
// one OnSynced for both.
TEST_F(NetconfDriverTest, OnChangeAndSampleInOneSubscription) {
  auto driver = Connected({{"notification_resync_interval_ms", 0}});
  ASSERT_TRUE(driver);
  ASSERT_TRUE(
      driver->Set({{Update("sg-m", R"(,"description":"mixed")")}}).ok());
  auto sink = std::make_shared<SyncCountingSink>();
  SubscriptionSpec on_change;
  on_change.xpath = InterfacePath("sg-m") + "/description";
  on_change.mode = SubscriptionMode::kOnChange;
  SubscriptionSpec sample;
  sample.xpath = InterfacePath("sg-m") + "/type";
  sample.mode = SubscriptionMode::kSample;
  sample.sample_interval_ns = 100'000'000;
  auto subscription = driver->Subscribe({on_change, sample}, sink);
  ASSERT_TRUE(subscription.ok()) << subscription.status();
  EXPECT_EQ(sink->syncs_, 1);
  EXPECT_TRUE(sink->Saw("description", "mixed"));
  ASSERT_TRUE(
      driver->Set({{Update("sg-m", R"(,"description":"again")")}}).ok());
  EXPECT_TRUE(Eventually([&] { return sink->Saw("description", "again"); },
                         std::chrono::seconds(10)));
  EXPECT_GE(driver->Status().change_notifications, 1u);
}

// rpc-errors of the real device become gRPC-style codes (RFC 6241
// appendix A tags): values and elements the device refuses are
// INVALID_ARGUMENT, a candidate lock held by another session ABORTED.
TEST_F(NetconfDriverTest, DeviceRpcErrorsMapToStatusCodes) {
  auto driver = Connected();
  ASSERT_TRUE(driver);
  auto other = RawSession();
  ASSERT_TRUE(other);
  using southgate::netconf::Datastore;
  const std::string bad_value =
      R"(<interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces"><interface><name>e1</name><enabled>maybe</enabled></interface></interfaces>)";
  absl::Status status = other->EditConfig(Datastore::kCandidate, bad_value,
                                          /*rollback_on_error=*/false);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("invalid-value"));
  (void)other->DiscardChanges();  // netconfd wants it after a rejected edit
  const std::string unknown =
      R"(<interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces"><interface><name>e1</name><no-such-leaf>1</no-such-leaf></interface></interfaces>)";
  status = other->EditConfig(Datastore::kCandidate, unknown, false);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("unknown-element"));
  (void)other->DiscardChanges();

  // The other client holds the candidate lock: the driver's Set is
  // ABORTED with the device's lock-denied, and changes nothing.
  ASSERT_TRUE(other->Lock(Datastore::kCandidate).ok());
  absl::Status locked = driver->Set({{Update("sg-locked", "")}});
  EXPECT_EQ(locked.code(), absl::StatusCode::kAborted) << locked;
  EXPECT_THAT(std::string(locked.message()), HasSubstr("lock-denied"));
  EXPECT_THAT(RunningInterfaces(*driver), Not(HasSubstr("sg-locked")));
  ASSERT_TRUE(other->Unlock(Datastore::kCandidate).ok());
  absl::Status unlocked = driver->Set({{Update("sg-locked", "")}});
  EXPECT_TRUE(unlocked.ok()) << unlocked;
  EXPECT_THAT(RunningInterfaces(*driver), HasSubstr("sg-locked"));
}

// netconfd --target=running: no :candidate, :writable-running and
// :rollback-on-error instead. A Set with one value the device refuses
// leaves running as it was (edit-config with error-option
// rollback-on-error).
TEST_F(NetconfDriverTest, RunningOnlyDeviceRollsBackOnError) {
  RestartNetconfd("--target=running");
  auto driver = Connected();
  ASSERT_TRUE(driver);
  EXPECT_THAT(driver->Capabilities(),
              ::testing::Contains(HasSubstr(":writable-running:1.0")));
  EXPECT_THAT(driver->Capabilities(),
              ::testing::Contains(HasSubstr(":rollback-on-error:1.0")));
  EXPECT_THAT(driver->Capabilities(),
              Not(::testing::Contains(HasSubstr(":candidate:1.0"))));
  EXPECT_FALSE(driver->SupportsConfirmedCommit());
  absl::Status good =
      driver->Set({{Update("sg-r0", R"(,"description":"kept")")}});
  ASSERT_TRUE(good.ok()) << good;
  EXPECT_THAT(RunningInterfaces(*driver), HasSubstr("kept"));
  // One good edit and one entry without its mandatory type.
  Transaction mixed{
      {Update("sg-r0", R"(,"description":"changed")"), Update("sg-r1", ""),
       Edit{
           Edit::Op::kUpdate, InterfacePath("sg-rbad"),
           R"({"ietf-interfaces:interfaces":{"interface":[{"name":"sg-rbad","description":"x"}]}})"}}};
  absl::Status status = driver->Set(mixed);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.code(), absl::StatusCode::kUnavailable) << status;
  std::string running = RunningInterfaces(*driver);
  EXPECT_THAT(running, HasSubstr("kept"));
  EXPECT_THAT(running, Not(HasSubstr("changed")));
  EXPECT_THAT(running, Not(HasSubstr("sg-r1")));
  EXPECT_THAT(running, Not(HasSubstr("sg-rbad")));
  // A confirmed commit needs :candidate.
  Transaction confirmed{{Update("sg-r2", "")}};
  confirmed.commit.kind = CommitAction::Kind::kCommit;
  confirmed.commit.rollback_duration_ms = 5000;
  EXPECT_EQ(driver->Set(confirmed).code(), absl::StatusCode::kUnimplemented);
}

// A device module that netconfd loads but libyang cannot compile (an XSD
// regex, \i\c, PCRE2 does not know): the device is connected but degraded,
// the reason names the module, its other models keep working, and another
// device in the same process (same shared context cache) is unaffected.
TEST_F(NetconfDriverTest, ModuleThatFailsToCompileDegradesOnlyThatDevice) {
  const std::string module = device_.dir() + "/sg-xsd-pattern.yang";
  std::ofstream(module) << R"(module sg-xsd-pattern {
  namespace "urn:southgate:test:xsd-pattern";
  prefix sgx;
  container names {
    leaf tag-name { type string { pattern '\i\c*'; } }
  }
}
)";
  RestartNetconfd("--module=" + module);
  auto driver = Connected();
  ASSERT_TRUE(driver);
  DeviceStatus status = driver->Status();
  EXPECT_EQ(status.state, ConnectionState::kConnected);
  EXPECT_THAT(status.last_error, HasSubstr("degraded"));
  EXPECT_THAT(status.last_error, HasSubstr("sg-xsd-pattern"));
  EXPECT_THAT(driver->degraded_reason(), HasSubstr("sg-xsd-pattern"));
  std::vector<std::string> names;
  for (const auto& model : driver->Models()) names.push_back(model.name);
  EXPECT_THAT(names, ::testing::Contains("ietf-interfaces"));
  EXPECT_THAT(names, Not(::testing::Contains("sg-xsd-pattern")));
  absl::Status set = driver->Set({{Update("sg-deg", "")}});
  EXPECT_TRUE(set.ok()) << set;
  EXPECT_THAT(RunningInterfaces(*driver), HasSubstr("sg-deg"));

  NetconfDevice healthy;
  ASSERT_TRUE(healthy.Start()) << healthy.error();
  DeviceSettings settings =
      Settings({{"known_hosts_file", healthy.KnownHostsFile()}});
  settings.name = "healthy";
  settings.address = healthy.address();
  DriverContext context;
  context.schemas = &cache_;
  context.state_dir = healthy.dir() + "/state";
  auto other = CreateNetconfDriver(settings, context);
  ASSERT_TRUE(other.ok()) << other.status();
  absl::Status connected = (*other)->Connect();
  ASSERT_TRUE(connected.ok()) << connected;
  EXPECT_EQ((*other)->Status().last_error, "");
  absl::Status other_set = (*other)->Set({{Update("sg-ok", "")}});
  EXPECT_TRUE(other_set.ok()) << other_set;
  (*other)->Close();
}

// A black hole: a loopback listener whose accept queue is full drops the
// SYN, so the TCP connect never completes; the driver gives up after
// connect_timeout_ms with a clear error instead of hanging.
TEST_F(NetconfDriverTest, ConnectTimeoutAgainstABlackHole) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
            0);
  socklen_t len = sizeof(addr);
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  ASSERT_EQ(listen(listener, 0), 0);  // room for one pending connection
  int filler = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(connect(filler, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
            0);
  DeviceSettings settings = Settings({{"connect_timeout_ms", 300}});
  settings.address = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  DriverContext context;
  context.schemas = &cache_;
  context.state_dir = device_.dir() + "/state";
  auto driver = CreateNetconfDriver(settings, context);
  ASSERT_TRUE(driver.ok()) << driver.status();
  absl::Status status = (*driver)->Connect();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("timed out after 300 ms"));
  EXPECT_EQ((*driver)->Status().state, ConnectionState::kError);
  (*driver)->Close();

  // A listener that accepts (the kernel does) but never speaks SSH: the
  // handshake times out.
  int mute = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in mute_addr{};
  mute_addr.sin_family = AF_INET;
  mute_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(
      bind(mute, reinterpret_cast<sockaddr*>(&mute_addr), sizeof(mute_addr)),
      0);
  len = sizeof(mute_addr);
  getsockname(mute, reinterpret_cast<sockaddr*>(&mute_addr), &len);
  ASSERT_EQ(listen(mute, 16), 0);
  settings.address = "127.0.0.1:" + std::to_string(ntohs(mute_addr.sin_port));
  auto silent = CreateNetconfDriver(settings, context);
  ASSERT_TRUE(silent.ok()) << silent.status();
  status = (*silent)->Connect();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("SSH handshake failed"));
  (*silent)->Close();
  close(mute);
  close(filler);
  close(listener);
}

// The interface entries of a Get answer as name -> {leaf: value}, without
// the order of entries and without default leaves (netconfd orders XPath
// results its own way and includes defaults for "/*" under XPath filters).
std::map<std::string, std::map<std::string, std::string>> Entries(
    const std::string& json_text) {
  std::map<std::string, std::map<std::string, std::string>> out;
  auto doc = nlohmann::json::parse(json_text);
  auto top = doc.find("ietf-interfaces:interfaces");
  if (top == doc.end()) return out;
  for (const auto& entry : top->value("interface", nlohmann::json::array())) {
    auto& leaves = out[entry.value("name", "")];
    for (const auto& [key, value] : entry.items()) {
      if (key == "enabled" && value == true) continue;  // the default
      leaves[key] = value.dump();
    }
  }
  return out;
}

// netconfd advertises :xpath: Gets and polls carry XPath filters
// (module-qualified paths; libnetconf2 declares the namespaces), which
// select exactly where subtree filters stop at a wildcard. filter: subtree
// turns them off; both give the same answers.
TEST_F(NetconfDriverTest, XpathFiltersWhereAdvertisedSubtreeOtherwise) {
  auto driver = Connected();
  ASSERT_TRUE(driver);
  EXPECT_THAT(driver->Capabilities(),
              ::testing::Contains(HasSubstr(":xpath:1.0")));
  ASSERT_TRUE(driver
                  ->Set({{Update("sg-x1", R"(,"description":"d1")"),
                          Update("sg-x2", R"(,"description":"d2")")}})
                  .ok());
  auto subtree = Connected({{"filter", "subtree"}});
  ASSERT_TRUE(subtree);
  const std::vector<std::vector<std::string>> queries = {
      {InterfacePath("sg-x1") + "/description"},
      {std::string(kInterfaces) + "/interface/description"},
      {InterfacePath("sg-x1"), InterfacePath("sg-x2") + "/type"},
      {std::string(kInterfaces) + "/*"}};
  for (const auto& paths : queries) {
    for (DataType type : {DataType::kConfig, DataType::kAll}) {
      auto by_xpath = driver->Get(paths, type);
      auto by_subtree = subtree->Get(paths, type);
      ASSERT_TRUE(by_xpath.ok()) << by_xpath.status();
      ASSERT_TRUE(by_subtree.ok()) << by_subtree.status();
      EXPECT_EQ(Entries(*by_xpath), Entries(*by_subtree)) << paths.front();
    }
  }
  auto one =
      driver->Get({InterfacePath("sg-x1") + "/description"}, DataType::kConfig);
  ASSERT_TRUE(one.ok());
  EXPECT_THAT(*one, HasSubstr("d1"));
  EXPECT_THAT(*one, Not(HasSubstr("d2")));
  auto union_of_two =
      driver->Get({InterfacePath("sg-x1"), InterfacePath("sg-x2") + "/type"},
                  DataType::kConfig);
  ASSERT_TRUE(union_of_two.ok());
  EXPECT_THAT(*union_of_two, HasSubstr("d1"));
  EXPECT_THAT(*union_of_two, Not(HasSubstr("d2")));
  EXPECT_GE(driver->xpath_filters(), queries.size() * 2);
  EXPECT_EQ(subtree->xpath_filters(), 0u);
  // Polls use them too.
  const uint64_t before = driver->xpath_filters();
  auto sink = std::make_shared<TestSink>();
  SubscriptionSpec spec;
  spec.xpath = std::string(kInterfaces) + "/interface/description";
  spec.mode = SubscriptionMode::kSample;
  spec.sample_interval_ns = 100'000'000;
  auto subscription = driver->Subscribe({spec}, sink);
  ASSERT_TRUE(subscription.ok()) << subscription.status();
  EXPECT_TRUE(sink->Saw("sg-x2", "d2"));
  EXPECT_GT(driver->xpath_filters(), before);
}

}  // namespace
}  // namespace southgate::drivers::netconf
