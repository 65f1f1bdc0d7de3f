// The sim driver, loaded as the real plugin (sim.so) through the loader.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "drivers/driver_registry.h"
#include "drivers/plugin_loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "schema/yang_context.h"

namespace southgate::drivers {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;

constexpr auto kWait = std::chrono::seconds(20);

// Records what a driver pushes; waits with a bounded timeout.
class RecordingSink : public NotificationSink {
 public:
  void OnNotification(Notification notification) override {
    std::lock_guard lock(mutex_);
    notifications_.push_back(std::move(notification));
    changed_.notify_all();
  }
  void OnSynced() override {
    std::lock_guard lock(mutex_);
    ++synced_;
    changed_.notify_all();
  }
  void OnError(absl::Status status) override {
    std::lock_guard lock(mutex_);
    errors_.push_back(status);
    changed_.notify_all();
  }

  bool WaitFor(const std::function<bool(const RecordingSink&)>& done) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kWait, [&] { return done(*this); });
  }
  std::vector<Notification> notifications() const {
    std::lock_guard lock(mutex_);
    return notifications_;
  }
  int synced() const {
    std::lock_guard lock(mutex_);
    return synced_;
  }
  std::vector<absl::Status> errors() const {
    std::lock_guard lock(mutex_);
    return errors_;
  }

  // Unlocked accessors for WaitFor predicates.
  const std::vector<Notification>& notifications_locked() const {
    return notifications_;
  }
  int synced_locked() const { return synced_; }
  size_t errors_locked() const { return errors_.size(); }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Notification> notifications_;
  std::vector<absl::Status> errors_;
  int synced_ = 0;
};

// The value of the first update whose path ends with `suffix` (and holds
// `contains`), or "" when none.
std::string FindUpdate(const std::vector<Notification>& notifications,
                       const std::string& contains, const std::string& suffix) {
  for (const Notification& n : notifications) {
    for (const auto& update : n.updates) {
      if (update.xpath.find(contains) != std::string::npos &&
          update.xpath.size() >= suffix.size() &&
          update.xpath.compare(update.xpath.size() - suffix.size(),
                               suffix.size(), suffix) == 0) {
        return update.json_value;
      }
    }
  }
  return "";
}

class SimDriverTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    loader_ = new PluginLoader();
    registry_ = new DriverRegistry();
    absl::Status status = loader_->Load(
        std::string(SOUTHGATE_PLUGIN_DIR) + "/sim.so", *registry_);
    ASSERT_TRUE(status.ok()) << status;
    ietf_schemas_ = new schema::ContextCache(
        {SOUTHGATE_SOURCE_DIR "/yang", "/usr/share/yuma/modules/ietf"});
    oc_schemas_ = new schema::ContextCache(
        {SOUTHGATE_SHARED_DIR "/yang/openconfig/release/models",
         SOUTHGATE_SHARED_DIR "/yang/openconfig/third_party",
         "/usr/share/yuma/modules/ietf"});
  }
  static void TearDownTestSuite() {
    delete registry_;
    delete ietf_schemas_;
    delete oc_schemas_;
    delete loader_;
  }

  std::unique_ptr<Driver> Create(const std::string& name,
                                 const std::string& extra_options,
                                 schema::ContextCache* schemas = nullptr) {
    DeviceSettings settings;
    settings.name = name;
    settings.driver = "sim";
    settings.options_json =
        std::string(R"({"base_dir": ")") + SOUTHGATE_SOURCE_DIR + "\"" +
        (extra_options.empty() ? "" : ", " + extra_options) + "}";
    auto driver = registry_->Create(
        settings,
        DriverContext{schemas != nullptr ? schemas : ietf_schemas_, ""});
    EXPECT_TRUE(driver.ok()) << driver.status();
    return driver.ok() ? *std::move(driver) : nullptr;
  }

  std::unique_ptr<Driver> Connected(const std::string& extra_options) {
    auto driver =
        Create("sim-test",
               R"("seed": "examples/sim/ietf-default.json", )" + extra_options);
    if (driver == nullptr) return nullptr;
    absl::Status status = driver->Connect();
    EXPECT_TRUE(status.ok()) << status;
    return status.ok() ? std::move(driver) : nullptr;
  }

  static json GetJson(Driver& driver, const std::vector<std::string>& paths,
                      DataType type) {
    auto text = driver.Get(paths, type);
    EXPECT_TRUE(text.ok()) << text.status();
    if (!text.ok()) return json();
    json parsed = json::parse(*text, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << *text;
    return parsed;
  }

  static std::string Description(Driver& driver, const std::string& name) {
    json data = GetJson(
        driver, {"/ietf-interfaces:interfaces/interface[name='" + name + "']"},
        DataType::kConfig);
    for (const auto& interface :
         data["ietf-interfaces:interfaces"]["interface"]) {
      if (interface["name"] == name) {
        return interface.value("description", "");
      }
    }
    return "<missing>";
  }

  static uint64_t InOctets(Driver& driver, const std::string& name) {
    json data = GetJson(driver,
                        {"/ietf-interfaces:interfaces-state/interface[name='" +
                         name + "']/statistics/in-octets"},
                        DataType::kState);
    for (const auto& interface :
         data["ietf-interfaces:interfaces-state"]["interface"]) {
      if (interface["name"] == name) {
        return std::stoull(
            interface["statistics"]["in-octets"].get<std::string>());
      }
    }
    return 0;
  }

  static Edit UpdateDescription(const std::string& name,
                                const std::string& description) {
    Edit edit;
    edit.op = Edit::Op::kUpdate;
    edit.xpath = "/ietf-interfaces:interfaces/interface[name='" + name +
                 "']/description";
    edit.document =
        json{
            {"ietf-interfaces:interfaces",
             {{"interface", {{{"name", name}, {"description", description}}}}}}}
            .dump();
    return edit;
  }

  static PluginLoader* loader_;
  static DriverRegistry* registry_;
  static schema::ContextCache* ietf_schemas_;
  static schema::ContextCache* oc_schemas_;
};

PluginLoader* SimDriverTest::loader_ = nullptr;
DriverRegistry* SimDriverTest::registry_ = nullptr;
schema::ContextCache* SimDriverTest::ietf_schemas_ = nullptr;
schema::ContextCache* SimDriverTest::oc_schemas_ = nullptr;

TEST_F(SimDriverTest, RejectsBadOptions) {
  DeviceSettings settings;
  settings.name = "bad";
  settings.driver = "sim";
  for (
      const char* options :
      {R"({"bogus": 1})", R"({"update_interval_ms": -1})", "[1]", "{",
       R"({"modules": "ietf-interfaces"})",
       R"({"features": {"ietf-system": ["ntp"]}, "modules": ["iana-if-type"]})"}) {
    settings.options_json = options;
    auto driver = registry_->Create(settings, DriverContext{ietf_schemas_, ""});
    EXPECT_EQ(driver.status().code(), absl::StatusCode::kInvalidArgument)
        << options;
  }
}

TEST_F(SimDriverTest, FailConnectReportsError) {
  auto driver = Create("failing", R"("fail_connect": true)");
  ASSERT_NE(driver, nullptr);
  EXPECT_FALSE(driver->Connect().ok());
  DeviceStatus status = driver->Status();
  EXPECT_EQ(status.state, ConnectionState::kError);
  EXPECT_THAT(status.last_error, HasSubstr("fail_connect"));
  EXPECT_FALSE(driver->Get({"/*"}, DataType::kAll).ok());
}

TEST_F(SimDriverTest, MissingSeedFileFailsConnect) {
  auto driver = Create("noseed", R"("seed": "does/not/exist.json")");
  ASSERT_NE(driver, nullptr);
  absl::Status status = driver->Connect();
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr("does/not/exist.json"));
  EXPECT_EQ(driver->Status().state, ConnectionState::kError);
}

TEST_F(SimDriverTest, ConnectsWithModelsAndGetsConfigStateAll) {
  auto driver = Connected(R"("update_interval_ms": 0)");
  ASSERT_NE(driver, nullptr);
  EXPECT_EQ(driver->Status().state, ConnectionState::kConnected);
  EXPECT_NE(driver->Schema(), nullptr);
  std::vector<std::string> names;
  for (const ModelInfo& model : driver->Models()) names.push_back(model.name);
  EXPECT_THAT(names, ::testing::IsSupersetOf({"ietf-interfaces", "ietf-system",
                                              "ietf-hardware", "ietf-ip"}));

  // CONFIG: the interfaces list, no state.
  json config = GetJson(
      *driver,
      {"/ietf-interfaces:interfaces", "/ietf-interfaces:interfaces-state"},
      DataType::kConfig);
  ASSERT_TRUE(config.contains("ietf-interfaces:interfaces")) << config;
  EXPECT_EQ(config["ietf-interfaces:interfaces"]["interface"].size(), 4u);
  EXPECT_FALSE(
      config.contains("ietf-interfaces:interfaces-state") &&
      config["ietf-interfaces:interfaces-state"].contains("interface") &&
      config["ietf-interfaces:interfaces-state"]["interface"][0].contains(
          "statistics"))
      << config;
  EXPECT_EQ(Description(*driver, "eth0"), "uplink to core-1");

  // STATE: statistics, no config-only leaves.
  json state =
      GetJson(*driver, {"/ietf-interfaces:interfaces-state"}, DataType::kState);
  ASSERT_TRUE(state.contains("ietf-interfaces:interfaces-state")) << state;
  EXPECT_TRUE(
      state["ietf-interfaces:interfaces-state"]["interface"][0].contains(
          "statistics"));
  json state_of_config =
      GetJson(*driver, {"/ietf-interfaces:interfaces"}, DataType::kState);
  EXPECT_THAT(state_of_config.dump(), Not(HasSubstr("uplink to core-1")));

  // ALL: both, plus system data.
  json all = GetJson(*driver,
                     {"/ietf-interfaces:interfaces",
                      "/ietf-interfaces:interfaces-state", "/ietf-system:*"},
                     DataType::kAll);
  EXPECT_TRUE(all.contains("ietf-interfaces:interfaces")) << all;
  EXPECT_TRUE(all.contains("ietf-interfaces:interfaces-state")) << all;
  EXPECT_THAT(all.dump(), HasSubstr("sim-router"));

  // Nothing selected: an empty document, not an error.
  auto nothing = driver->Get(
      {"/ietf-interfaces:interfaces/interface[name='nope']"}, DataType::kAll);
  ASSERT_TRUE(nothing.ok()) << nothing.status();
  EXPECT_THAT(*nothing, Not(HasSubstr("eth0")));
}

TEST_F(SimDriverTest, SetIsAtomic) {
  auto driver = Connected(R"("update_interval_ms": 0)");
  ASSERT_NE(driver, nullptr);
  ASSERT_EQ(Description(*driver, "eth0"), "uplink to core-1");

  // A good edit, then one the schema rejects (wrong type).
  Transaction bad_type;
  bad_type.edits.push_back(UpdateDescription("eth0", "changed"));
  Edit wrong;
  wrong.op = Edit::Op::kUpdate;
  wrong.xpath = "/ietf-interfaces:interfaces/interface[name='eth1']/enabled";
  wrong.document =
      R"({"ietf-interfaces:interfaces":{"interface":[{"name":"eth1","enabled":"maybe"}]}})";
  bad_type.edits.push_back(wrong);
  absl::Status status = driver->Set(bad_type);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(Description(*driver, "eth0"), "uplink to core-1");

  // A good edit, then one that breaks validation (mandatory leaf deleted).
  Transaction bad_validation;
  bad_validation.edits.push_back(UpdateDescription("eth0", "changed"));
  Edit remove_type;
  remove_type.op = Edit::Op::kDelete;
  remove_type.xpath = "/ietf-interfaces:interfaces/interface[name='eth1']/type";
  bad_validation.edits.push_back(remove_type);
  status = driver->Set(bad_validation);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(Description(*driver, "eth0"), "uplink to core-1");
  json eth1 =
      GetJson(*driver, {"/ietf-interfaces:interfaces/interface[name='eth1']"},
              DataType::kConfig);
  EXPECT_THAT(eth1.dump(), HasSubstr("ethernetCsmacd"));

  // The good edits alone apply.
  Transaction good;
  good.edits.push_back(UpdateDescription("eth0", "changed"));
  good.edits.push_back(UpdateDescription("eth2", "also changed"));
  status = driver->Set(good);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(Description(*driver, "eth0"), "changed");
  EXPECT_EQ(Description(*driver, "eth2"), "also changed");
  EXPECT_EQ(Description(*driver, "eth1"), "uplink to core-2");

  // Delete of a leaf, and of something absent (not an error).
  Transaction remove;
  Edit remove_description;
  remove_description.op = Edit::Op::kDelete;
  remove_description.xpath =
      "/ietf-interfaces:interfaces/interface[name='eth2']/description";
  remove.edits.push_back(remove_description);
  remove_description.xpath =
      "/ietf-interfaces:interfaces/interface[name='eth9']/description";
  remove.edits.push_back(remove_description);
  status = driver->Set(remove);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(Description(*driver, "eth2"), "");
}

TEST_F(SimDriverTest, StateEvolves) {
  auto driver = Connected(R"("update_interval_ms": 10, "flap_probability": 0)");
  ASSERT_NE(driver, nullptr);
  const uint64_t first = InOctets(*driver, "eth0");
  ASSERT_GT(first, 0u);
  uint64_t later = first;
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (later <= first && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    later = InOctets(*driver, "eth0");
  }
  EXPECT_GT(later, first);
  // Frozen interfaces (oper down) do not count.
  EXPECT_EQ(InOctets(*driver, "eth3"), 4000000u);
}

TEST_F(SimDriverTest, FrozenStateDoesNotChange) {
  auto driver = Connected(R"("update_interval_ms": 0)");
  ASSERT_NE(driver, nullptr);
  const uint64_t first = InOctets(*driver, "eth0");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(InOctets(*driver, "eth0"), first);
}

TEST_F(SimDriverTest, SubscribeDeliversInitialChangesAndStops) {
  auto driver = Connected(R"("update_interval_ms": 0)");
  ASSERT_NE(driver, nullptr);
  auto sink = std::make_shared<RecordingSink>();
  auto subscription =
      driver->Subscribe({{"/ietf-interfaces:interfaces/interface[name='eth0']",
                          SubscriptionMode::kOnChange, 0}},
                        sink);
  ASSERT_TRUE(subscription.ok()) << subscription.status();

  // Initial values, then sync.
  ASSERT_EQ(sink->synced(), 1);
  ASSERT_FALSE(sink->notifications().empty());
  EXPECT_EQ(FindUpdate(sink->notifications(), "eth0", "/description"),
            "\"uplink to core-1\"");
  EXPECT_EQ(FindUpdate(sink->notifications(), "eth1", "/description"), "");
  const size_t initial = sink->notifications().size();

  // A change under the path is pushed; one elsewhere is not.
  Transaction other;
  other.edits.push_back(UpdateDescription("eth1", "elsewhere"));
  ASSERT_TRUE(driver->Set(other).ok());
  Transaction change;
  change.edits.push_back(UpdateDescription("eth0", "changed"));
  ASSERT_TRUE(driver->Set(change).ok());
  ASSERT_TRUE(sink->WaitFor([&](const RecordingSink& s) {
    return s.notifications_locked().size() > initial;
  }));
  auto after = sink->notifications();
  ASSERT_EQ(after.size(), initial + 1);
  ASSERT_EQ(after.back().updates.size(), 1u);
  EXPECT_THAT(after.back().updates[0].xpath, HasSubstr("eth0"));
  EXPECT_EQ(after.back().updates[0].json_value, "\"changed\"");
  EXPECT_GT(after.back().timestamp_ns, 0);

  // A delete is pushed as a delete.
  Transaction remove;
  Edit edit;
  edit.op = Edit::Op::kDelete;
  edit.xpath = "/ietf-interfaces:interfaces/interface[name='eth0']/description";
  remove.edits.push_back(edit);
  ASSERT_TRUE(driver->Set(remove).ok());
  after = sink->notifications();
  ASSERT_EQ(after.size(), initial + 2);
  ASSERT_EQ(after.back().deletes.size(), 1u);
  EXPECT_THAT(after.back().deletes[0], HasSubstr("eth0"));
  EXPECT_THAT(after.back().deletes[0], HasSubstr("description"));

  // Once destroyed, nothing more arrives.
  subscription->reset();
  change.edits[0] = UpdateDescription("eth0", "after the end");
  ASSERT_TRUE(driver->Set(change).ok());
  EXPECT_EQ(sink->notifications().size(), initial + 2);
  EXPECT_TRUE(sink->errors().empty());
}

TEST_F(SimDriverTest, SubscribeSeesEvolvingCounters) {
  auto driver = Connected(R"("update_interval_ms": 10, "flap_probability": 0)");
  ASSERT_NE(driver, nullptr);
  auto sink = std::make_shared<RecordingSink>();
  auto subscription = driver->Subscribe(
      {{"/ietf-interfaces:interfaces-state/interface[name='eth0']/statistics",
        SubscriptionMode::kTargetDefined, 0}},
      sink);
  ASSERT_TRUE(subscription.ok()) << subscription.status();
  const std::string first =
      FindUpdate(sink->notifications(), "eth0", "/in-octets");
  ASSERT_FALSE(first.empty());
  ASSERT_TRUE(sink->WaitFor([](const RecordingSink& s) {
    return s.notifications_locked().size() >= 3;
  }));
  auto notifications = sink->notifications();
  const Notification& change = notifications[1];
  EXPECT_TRUE(change.deletes.empty());
  bool saw_octets = false;
  for (const auto& update : change.updates) {
    EXPECT_THAT(update.xpath, HasSubstr("eth0"));
    if (update.xpath.ends_with("/in-octets")) saw_octets = true;
    // Only changed leaves: discontinuity-time never changes.
    EXPECT_THAT(update.xpath, Not(HasSubstr("discontinuity-time")));
  }
  EXPECT_TRUE(saw_octets);
  subscription->reset();
  const size_t count = sink->notifications().size();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(sink->notifications().size(), count);
}

TEST_F(SimDriverTest, SampleModeResendsEverything) {
  auto driver = Connected(R"("update_interval_ms": 0)");
  ASSERT_NE(driver, nullptr);
  auto sink = std::make_shared<RecordingSink>();
  auto subscription = driver->Subscribe(
      {{"/ietf-system:system", SubscriptionMode::kSample, 20'000'000}}, sink);
  ASSERT_TRUE(subscription.ok()) << subscription.status();
  ASSERT_TRUE(sink->WaitFor([](const RecordingSink& s) {
    return s.notifications_locked().size() >= 3;
  }));
  auto notifications = sink->notifications();
  EXPECT_EQ(notifications[0].updates.size(), notifications[2].updates.size());
  EXPECT_EQ(FindUpdate({notifications[2]}, "", "/hostname"), "\"sim-router\"");
}

TEST_F(SimDriverTest, ChangeGeneratorPushesCoveredLeavesInBatches) {
  auto driver = Connected(
      R"("update_interval_ms": 0, "change_rate": 20000, "change_leaves": 8, )"
      R"("change_batch": 4)");
  ASSERT_NE(driver, nullptr);
  auto gen1 = std::make_shared<RecordingSink>();
  auto gen1_subscription = driver->Subscribe(
      {{"/ietf-interfaces:interfaces-state/interface[name='gen1']",
        SubscriptionMode::kOnChange, 0}},
      gen1);
  ASSERT_TRUE(gen1_subscription.ok()) << gen1_subscription.status();
  auto eth0 = std::make_shared<RecordingSink>();
  auto eth0_subscription = driver->Subscribe(
      {{"/ietf-interfaces:interfaces-state/interface[name='eth0']",
        SubscriptionMode::kOnChange, 0}},
      eth0);
  ASSERT_TRUE(eth0_subscription.ok());
  const size_t eth0_initial = eth0->notifications().size();

  ASSERT_TRUE(gen1->WaitFor([](const RecordingSink& s) {
    return s.notifications_locked().size() >= 20;
  }));
  auto notifications = gen1->notifications();
  uint64_t last_octets = 0;
  for (const Notification& n : notifications) {
    EXPECT_LE(n.updates.size(), 4u);
    for (const auto& update : n.updates) {
      EXPECT_THAT(update.xpath, HasSubstr("[name='gen1']/statistics/"));
      if (update.xpath.ends_with("/in-octets")) {
        uint64_t value =
            std::stoull(json::parse(update.json_value).get<std::string>());
        EXPECT_GT(value, last_octets);  // counters only grow
        last_octets = value;
      }
    }
  }
  EXPECT_GT(last_octets, 0u);
  // A subscription that does not cover the generated leaves gets none.
  EXPECT_EQ(eth0->notifications().size(), eth0_initial);
}

// A sink that keeps the driver's demand callback (flow control).
class DemandSink : public RecordingSink {
 public:
  void SetDemandCallback(std::function<void()> wake) override {
    std::lock_guard lock(wake_mutex_);
    wake_ = std::move(wake);
  }
  std::function<void()> wake() const {
    std::lock_guard lock(wake_mutex_);
    return wake_;
  }

 private:
  mutable std::mutex wake_mutex_;
  std::function<void()> wake_;
};

TEST_F(SimDriverTest, PacedGeneratorRegistersForDemandAndAnswersIt) {
  auto unpaced = Connected(
      R"("update_interval_ms": 0, "change_rate": 1000, "change_leaves": 4)");
  ASSERT_NE(unpaced, nullptr);
  auto plain = std::make_shared<DemandSink>();
  auto plain_subscription = unpaced->Subscribe(
      {{"/ietf-interfaces:interfaces-state", SubscriptionMode::kOnChange, 0}},
      plain);
  ASSERT_TRUE(plain_subscription.ok());
  EXPECT_FALSE(plain->wake());  // not paced: no flow control

  auto driver = Connected(
      R"("update_interval_ms": 0, "change_rate": 2000000, "change_leaves": 4, )"
      R"("change_batch": 4, "change_paced": true)");
  ASSERT_NE(driver, nullptr);
  auto sink = std::make_shared<DemandSink>();
  auto subscription = driver->Subscribe(
      {{"/ietf-interfaces:interfaces-state/interface[name='gen0']",
        SubscriptionMode::kOnChange, 0}},
      sink);
  ASSERT_TRUE(subscription.ok()) << subscription.status();
  std::function<void()> wake = sink->wake();
  ASSERT_TRUE(wake);
  // Every demand is answered with (at least) one more batch of real,
  // growing counter values.
  uint64_t last_octets = 0;
  for (int i = 0; i < 20; ++i) {
    const size_t before = sink->notifications().size();
    wake();
    ASSERT_TRUE(sink->WaitFor([before](const RecordingSink& s) {
      return s.notifications_locked().size() > before;
    }));
    const Notification last = sink->notifications().back();
    EXPECT_EQ(last.updates.size(), 4u);
    for (const auto& update : last.updates) {
      if (!update.xpath.ends_with("/in-octets")) continue;
      uint64_t value =
          std::stoull(json::parse(update.json_value).get<std::string>());
      EXPECT_GT(value, last_octets);
      last_octets = value;
    }
  }
  // The callback may outlive the driver (the hub keeps it): harmless.
  subscription->reset();
  driver.reset();
  wake();
}

TEST_F(SimDriverTest, CloseEndsSubscriptions) {
  auto driver = Connected(R"("update_interval_ms": 0)");
  ASSERT_NE(driver, nullptr);
  auto sink = std::make_shared<RecordingSink>();
  auto subscription = driver->Subscribe(
      {{"/ietf-system:system", SubscriptionMode::kOnChange, 0}}, sink);
  ASSERT_TRUE(subscription.ok());
  driver->Close();
  EXPECT_EQ(sink->errors().size(), 1u);
  EXPECT_EQ(driver->Status().state, ConnectionState::kDisconnected);
  subscription->reset();
  EXPECT_EQ(sink->errors().size(), 1u);
}

TEST_F(SimDriverTest, ReconnectKeepsData) {
  auto driver = Connected(R"("update_interval_ms": 0)");
  ASSERT_NE(driver, nullptr);
  Transaction change;
  change.edits.push_back(UpdateDescription("eth0", "kept"));
  ASSERT_TRUE(driver->Set(change).ok());
  driver->Close();
  EXPECT_EQ(driver->Get({"/*"}, DataType::kAll).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(driver->Set(change).code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(driver->Connect().ok());
  EXPECT_EQ(driver->Status().state, ConnectionState::kConnected);
  EXPECT_EQ(Description(*driver, "eth0"), "kept");
}

TEST_F(SimDriverTest, SubscribeToABadPathFails) {
  auto driver = Connected(R"("update_interval_ms": 0)");
  ASSERT_NE(driver, nullptr);
  auto sink = std::make_shared<RecordingSink>();
  auto subscription = driver->Subscribe(
      {{"/no-such-module:thing", SubscriptionMode::kOnChange, 0}}, sink);
  EXPECT_FALSE(subscription.ok());
  EXPECT_EQ(sink->synced(), 0);
}

TEST_F(SimDriverTest, ConcurrentReadersWritersAndSubscribers) {
  auto driver =
      Connected(R"("update_interval_ms": 1, "flap_probability": 0.1)");
  ASSERT_NE(driver, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        auto sink = std::make_shared<RecordingSink>();
        auto subscription =
            driver->Subscribe({{"/ietf-interfaces:interfaces-state",
                                SubscriptionMode::kOnChange, 0}},
                              sink);
        EXPECT_TRUE(subscription.ok());
        Transaction txn;
        txn.edits.push_back(UpdateDescription("eth" + std::to_string(t),
                                              "d" + std::to_string(i)));
        EXPECT_TRUE(driver->Set(txn).ok());
        EXPECT_TRUE(driver->Get({"/*"}, DataType::kAll).ok());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(Description(*driver, "eth0"), "d19");
}

// Concurrent readers (Get and subscription snapshots, both under the shared
// tree lock) while the tree evolves must always find a seeded leaf: reads must
// not mutate the shared tree or context (the flood benchmark once lost
// eth0/description this way and answered NOT_FOUND from then on).
TEST_F(SimDriverTest, ConcurrentReadersAlwaysFindASeededLeaf) {
  auto driver = Connected(R"("update_interval_ms": 1, "flap_probability": 0)");
  ASSERT_NE(driver, nullptr);
  const std::string path =
      "/ietf-interfaces:interfaces/interface[name='eth0']/description";
  constexpr int kThreads = 8;
  constexpr int kRounds = 5000;
  std::atomic<int> missing_gets{0};
  std::atomic<int> missing_snapshots{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        auto text = driver->Get({path}, DataType::kAll);
        if (!text.ok() || text->find("uplink to core-1") == std::string::npos) {
          ++missing_gets;
        }
        auto sink = std::make_shared<RecordingSink>();
        auto subscription =
            driver->Subscribe({{path, SubscriptionMode::kOnChange, 0}}, sink);
        if (!subscription.ok() ||
            FindUpdate(sink->notifications(), "eth0", "/description") !=
                "\"uplink to core-1\"") {
          ++missing_snapshots;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(missing_gets.load(), 0);
  EXPECT_EQ(missing_snapshots.load(), 0);
  // Still there once the readers are gone (a lost node would stay lost).
  EXPECT_EQ(Description(*driver, "eth0"), "uplink to core-1");
}

TEST_F(SimDriverTest, OpenConfigConfiguredSim) {
  auto driver = Create("oc-sim",
                       R"("seed": "examples/sim/openconfig-default.json",
         "modules": ["openconfig-interfaces", "openconfig-system",
                     "iana-if-type"],
         "update_interval_ms": 10, "flap_probability": 0)",
                       oc_schemas_);
  ASSERT_NE(driver, nullptr);
  absl::Status status = driver->Connect();
  ASSERT_TRUE(status.ok()) << status;
  std::vector<std::string> names;
  for (const ModelInfo& model : driver->Models()) names.push_back(model.name);
  EXPECT_THAT(names, ::testing::IsSupersetOf(
                         {"openconfig-interfaces", "openconfig-system"}));

  json config =
      GetJson(*driver, {"/openconfig-system:system"}, DataType::kConfig);
  EXPECT_EQ(config["openconfig-system:system"]["config"]["hostname"], "oc-sim")
      << config;

  auto in_octets = [&]() -> uint64_t {
    json state = GetJson(*driver,
                         {"/openconfig-interfaces:interfaces/"
                          "interface[name='Ethernet1']/state/counters"},
                         DataType::kState);
    for (const auto& interface :
         state["openconfig-interfaces:interfaces"]["interface"]) {
      return std::stoull(
          interface["state"]["counters"]["in-octets"].get<std::string>());
    }
    return uint64_t{0};
  };
  const uint64_t first = in_octets();
  ASSERT_GT(first, 0u);
  uint64_t later = first;
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (later <= first && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    later = in_octets();
  }
  EXPECT_GT(later, first);
}

// ---------------------------------------------------------------------------
// Confirmed commit (the gnmi_ext Commit extension). No wall-clock
// assertions: a rollback is waited for with a generous bound, and a change
// that must survive a deadline is checked after that deadline has passed.

Transaction Commit(const std::string& id, int64_t rollback_ms,
                   std::vector<Edit> edits) {
  Transaction transaction;
  transaction.edits = std::move(edits);
  transaction.commit.kind = CommitAction::Kind::kCommit;
  transaction.commit.id = id;
  transaction.commit.rollback_duration_ms = rollback_ms;
  return transaction;
}

Transaction FollowUp(CommitAction::Kind kind, const std::string& id,
                     int64_t rollback_ms = 0) {
  Transaction transaction;
  transaction.commit.kind = kind;
  transaction.commit.id = id;
  transaction.commit.rollback_duration_ms = rollback_ms;
  return transaction;
}

// Whether `sink` saw `value` for eth0's description after `from`
// notifications.
bool SawDescription(const RecordingSink& sink, size_t from,
                    const std::string& value) {
  const auto& all = sink.notifications_locked();
  for (size_t i = from; i < all.size(); ++i) {
    for (const auto& update : all[i].updates) {
      if (update.xpath.find("eth0") != std::string::npos &&
          update.xpath.ends_with("/description") &&
          update.json_value == "\"" + value + "\"") {
        return true;
      }
    }
  }
  return false;
}

TEST_F(SimDriverTest, SupportsConfirmedCommit) {
  auto driver = Connected(R"("update_interval_ms": 0)");
  ASSERT_NE(driver, nullptr);
  EXPECT_TRUE(driver->SupportsConfirmedCommit());
}

TEST_F(SimDriverTest, ConfirmKeepsTheCommitAndRefusalsChangeNothing) {
  auto driver = Connected(R"("update_interval_ms": 0)");
  ASSERT_NE(driver, nullptr);
  ASSERT_TRUE(
      driver->Set(Commit("c1", 60'000, {UpdateDescription("eth0", "pending")}))
          .ok());
  EXPECT_EQ(Description(*driver, "eth0"), "pending");

  // While c1 waits: a second commit and a Set without the extension are
  // FAILED_PRECONDITION; a wrong or missing id is INVALID_ARGUMENT; a
  // follow-up with edits is INVALID_ARGUMENT. None changes anything.
  absl::Status status =
      driver->Set(Commit("c2", 60'000, {UpdateDescription("eth1", "second")}));
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(status.message(), HasSubstr("'c1'"));
  Transaction plain;
  plain.edits.push_back(UpdateDescription("eth1", "plain"));
  status = driver->Set(plain);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  status = driver->Set(FollowUp(CommitAction::Kind::kConfirm, "c9"));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr("'c1', not 'c9'"));
  status = driver->Set(FollowUp(CommitAction::Kind::kCancel, "c9"));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  status = driver->Set(FollowUp(CommitAction::Kind::kConfirm, ""));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  Transaction confirm_with_edits = FollowUp(CommitAction::Kind::kConfirm, "c1");
  confirm_with_edits.edits.push_back(UpdateDescription("eth1", "sneaked in"));
  status = driver->Set(confirm_with_edits);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  status =
      driver->Set(FollowUp(CommitAction::Kind::kSetRollbackDuration, "c1", 0));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(Description(*driver, "eth0"), "pending");
  EXPECT_EQ(Description(*driver, "eth1"), "uplink to core-2");

  ASSERT_TRUE(driver->Set(FollowUp(CommitAction::Kind::kConfirm, "c1")).ok());
  EXPECT_EQ(Description(*driver, "eth0"), "pending");
  // Nothing waits any more: follow-ups are FAILED_PRECONDITION, plain Sets
  // and new commits work again.
  for (auto kind : {CommitAction::Kind::kConfirm, CommitAction::Kind::kCancel,
                    CommitAction::Kind::kSetRollbackDuration}) {
    status = driver->Set(FollowUp(kind, "c1", 1000));
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  }
  ASSERT_TRUE(driver->Set(plain).ok());
  EXPECT_EQ(Description(*driver, "eth1"), "plain");
}

TEST_F(SimDriverTest, ConfirmedCommitOutlivesItsDeadline) {
  auto driver = Connected(R"("update_interval_ms": 0)");
  ASSERT_NE(driver, nullptr);
  const auto rollback = std::chrono::milliseconds(1500);
  const auto committed = std::chrono::steady_clock::now();
  ASSERT_TRUE(driver
                  ->Set(Commit("keep", rollback.count(),
                               {UpdateDescription("eth0", "confirmed")}))
                  .ok());
  absl::Status status =
      driver->Set(FollowUp(CommitAction::Kind::kConfirm, "keep"));
  ASSERT_TRUE(status.ok()) << status << " (confirmed after the deadline?)";
  // Past the old deadline (and a margin for the timer thread) it stays.
  std::this_thread::sleep_until(committed + rollback + std::chrono::seconds(1));
  EXPECT_EQ(Description(*driver, "eth0"), "confirmed");
}

TEST_F(SimDriverTest, CancelRollsBackConfigButNotStateAndNotifies) {
  auto driver = Connected(R"("update_interval_ms": 20, "flap_probability": 0)");
  ASSERT_NE(driver, nullptr);
  auto sink = std::make_shared<RecordingSink>();
  auto subscription = driver->Subscribe(
      {{"/ietf-interfaces:interfaces", SubscriptionMode::kOnChange, 0}}, sink);
  ASSERT_TRUE(subscription.ok()) << subscription.status();
  const size_t initial = sink->notifications().size();

  // One changed leaf and one new interface.
  Edit add;
  add.op = Edit::Op::kUpdate;
  add.xpath = "/ietf-interfaces:interfaces/interface[name='lo9']";
  add.document =
      json{{"ietf-interfaces:interfaces",
            {{"interface",
              {{{"name", "lo9"}, {"type", "iana-if-type:softwareLoopback"}}}}}}}
          .dump();
  ASSERT_TRUE(driver
                  ->Set(Commit("c1", 600'000,
                               {UpdateDescription("eth0", "to cancel"), add}))
                  .ok());
  ASSERT_TRUE(sink->WaitFor([&](const RecordingSink& s) {
    return SawDescription(s, initial, "to cancel");
  }));
  // Counters evolve meanwhile; the rollback must not take them back.
  const uint64_t octets_before = InOctets(*driver, "eth0");
  uint64_t octets = octets_before;
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (octets <= octets_before &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    octets = InOctets(*driver, "eth0");
  }
  ASSERT_GT(octets, octets_before);
  const size_t before_cancel = sink->notifications().size();

  ASSERT_TRUE(driver->Set(FollowUp(CommitAction::Kind::kCancel, "c1")).ok());
  EXPECT_EQ(Description(*driver, "eth0"), "uplink to core-1");
  EXPECT_EQ(Description(*driver, "lo9"), "<missing>");
  EXPECT_GE(InOctets(*driver, "eth0"), octets);
  // Subscribers see the rollback like any Set: the old value, and deletes
  // of what the commit had added.
  ASSERT_TRUE(sink->WaitFor([&](const RecordingSink& s) {
    return SawDescription(s, before_cancel, "uplink to core-1");
  }));
  bool deleted_lo9 = false;
  for (const Notification& n : sink->notifications()) {
    for (const auto& path : n.deletes) {
      deleted_lo9 |= path.find("lo9") != std::string::npos;
    }
  }
  EXPECT_TRUE(deleted_lo9);
  // Cancelled: nothing waits.
  EXPECT_EQ(driver->Set(FollowUp(CommitAction::Kind::kConfirm, "c1")).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(SimDriverTest, UnconfirmedCommitRollsBackAtItsDeadline) {
  auto driver = Connected(R"("update_interval_ms": 0)");
  ASSERT_NE(driver, nullptr);
  auto sink = std::make_shared<RecordingSink>();
  auto subscription = driver->Subscribe(
      {{"/ietf-interfaces:interfaces", SubscriptionMode::kOnChange, 0}}, sink);
  ASSERT_TRUE(subscription.ok()) << subscription.status();
  const size_t initial = sink->notifications().size();
  ASSERT_TRUE(
      driver->Set(Commit("gone", 200, {UpdateDescription("eth0", "expiring")}))
          .ok());
  // The timer rolls it back by itself (bounded wait, no Set needed).
  ASSERT_TRUE(sink->WaitFor([&](const RecordingSink& s) {
    return SawDescription(s, initial, "expiring") &&
           SawDescription(s, initial + 1, "uplink to core-1");
  }));
  EXPECT_EQ(Description(*driver, "eth0"), "uplink to core-1");
  EXPECT_EQ(driver->Set(FollowUp(CommitAction::Kind::kConfirm, "gone")).code(),
            absl::StatusCode::kFailedPrecondition);
  Transaction plain;
  plain.edits.push_back(UpdateDescription("eth0", "after the rollback"));
  EXPECT_TRUE(driver->Set(plain).ok());
}

TEST_F(SimDriverTest, SetRollbackDurationRearmsTheTimer) {
  auto driver = Connected(R"("update_interval_ms": 0)");
  ASSERT_NE(driver, nullptr);
  // Longer: the change outlives the first deadline.
  const auto committed = std::chrono::steady_clock::now();
  ASSERT_TRUE(
      driver->Set(Commit("c1", 1500, {UpdateDescription("eth0", "extended")}))
          .ok());
  absl::Status status = driver->Set(
      FollowUp(CommitAction::Kind::kSetRollbackDuration, "c1", 600'000));
  ASSERT_TRUE(status.ok()) << status;
  std::this_thread::sleep_until(committed + std::chrono::milliseconds(1500) +
                                std::chrono::seconds(1));
  EXPECT_EQ(Description(*driver, "eth0"), "extended");
  // Wrong id: refused, the timer unchanged.
  status = driver->Set(
      FollowUp(CommitAction::Kind::kSetRollbackDuration, "c2", 100));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  // Shorter: rolled back soon (bounded wait).
  ASSERT_TRUE(
      driver->Set(FollowUp(CommitAction::Kind::kSetRollbackDuration, "c1", 100))
          .ok());
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (Description(*driver, "eth0") != "uplink to core-1" &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(Description(*driver, "eth0"), "uplink to core-1");
}

TEST_F(SimDriverTest, CommitWithoutRollbackOrFailingLeavesNothingPending) {
  auto driver = Connected(R"("update_interval_ms": 0)");
  ASSERT_NE(driver, nullptr);
  // A commit the schema refuses: nothing changes, nothing waits.
  Edit remove_type;
  remove_type.op = Edit::Op::kDelete;
  remove_type.xpath = "/ietf-interfaces:interfaces/interface[name='eth1']/type";
  absl::Status status = driver->Set(
      Commit("bad", 60'000, {UpdateDescription("eth0", "no"), remove_type}));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(Description(*driver, "eth0"), "uplink to core-1");
  EXPECT_EQ(driver->Set(FollowUp(CommitAction::Kind::kCancel, "bad")).code(),
            absl::StatusCode::kFailedPrecondition);
  // rollback_duration 0: a plain commit.
  ASSERT_TRUE(
      driver->Set(Commit("now", 0, {UpdateDescription("eth0", "at once")}))
          .ok());
  EXPECT_EQ(driver->Set(FollowUp(CommitAction::Kind::kConfirm, "now")).code(),
            absl::StatusCode::kFailedPrecondition);
  Transaction plain;
  plain.edits.push_back(UpdateDescription("eth1", "free"));
  EXPECT_TRUE(driver->Set(plain).ok());
  EXPECT_EQ(Description(*driver, "eth0"), "at once");
  // A commit needs an id.
  EXPECT_EQ(
      driver->Set(Commit("", 60'000, {UpdateDescription("eth0", "x")})).code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Description(*driver, "eth0"), "at once");
}

TEST_F(SimDriverTest, PendingCommitSurvivesReconnectAndStillRollsBack) {
  auto driver = Connected(R"("update_interval_ms": 0)");
  ASSERT_NE(driver, nullptr);
  ASSERT_TRUE(
      driver->Set(Commit("c1", 300, {UpdateDescription("eth0", "reconnect")}))
          .ok());
  driver->Close();
  ASSERT_TRUE(driver->Connect().ok());
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (Description(*driver, "eth0") != "uplink to core-1" &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(Description(*driver, "eth0"), "uplink to core-1");
}

}  // namespace
}  // namespace southgate::drivers
