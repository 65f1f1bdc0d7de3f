// The telemetry hub (sharing, cache, teardown), the wire assembly and the
// timer service, with a fake driver.
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "gtest/gtest.h"
#include "schema/test_util.h"
#include "telemetry/hub.h"
#include "telemetry/timer_service.h"
#include "telemetry/wire.h"

namespace southgate::telemetry {
namespace {

using namespace std::chrono_literals;

constexpr char kEth0Description[] =
    "/ietf-interfaces:interfaces/interface[name='eth0']/description";

// Bounded wait for a condition that another thread makes true.
bool Eventually(const std::function<bool()>& condition) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return condition();
}

class FakeDriver : public Driver {
 public:
  class FakeSubscription : public Subscription {
   public:
    explicit FakeSubscription(FakeDriver* driver) : driver_(driver) {}
    ~FakeSubscription() override { --driver_->live; }

   private:
    FakeDriver* driver_;
  };

  absl::Status Connect() override { return absl::OkStatus(); }
  void Close() override {}
  DeviceStatus Status() const override { return {}; }
  std::shared_ptr<const schema::YangContext> Schema() const override {
    return schema::testing::TestContext();
  }
  std::vector<ModelInfo> Models() const override { return {}; }
  absl::StatusOr<std::string> Get(const std::vector<std::string>&,
                                  DataType) override {
    std::lock_guard lock(mutex);
    ++gets;
    return document;
  }
  absl::Status Set(const Transaction&) override { return absl::OkStatus(); }
  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(
      const std::vector<SubscriptionSpec>& specs,
      std::shared_ptr<NotificationSink> sink) override {
    if (fail) return absl::UnavailableError("device down");
    if (cannot_push) return absl::UnimplementedError("no push here");
    ++subscribes;
    ++live;
    {
      std::lock_guard lock(mutex);
      sinks.push_back(sink);
      last_specs = specs;
    }
    return std::unique_ptr<Subscription>(new FakeSubscription(this));
  }
  void Push(Notification notification) {
    std::lock_guard lock(mutex);
    for (auto& sink : sinks) sink->OnNotification(notification);
  }
  void Sync() {
    std::lock_guard lock(mutex);
    for (auto& sink : sinks) sink->OnSynced();
  }
  void Fail(absl::Status status) {
    std::lock_guard lock(mutex);
    for (auto& sink : sinks) sink->OnError(status);
  }

  std::atomic<int> subscribes{0};
  std::atomic<int> live{0};
  bool fail = false;
  bool cannot_push = false;
  std::mutex mutex;
  std::string document = "{}";
  int gets = 0;
  std::vector<std::shared_ptr<NotificationSink>> sinks;
  std::vector<SubscriptionSpec> last_specs;
};

class Recorder : public Listener {
 public:
  void OnLeaves(const std::vector<LeafPtr>& leaves) override {
    std::lock_guard lock(mutex);
    for (const auto& leaf : leaves) {
      seen.push_back(leaf->deleted() ? "delete " + leaf->path().xpath
                                     : leaf->json());
    }
  }
  void OnSynced() override { synced = true; }
  void OnError(const absl::Status& status) override { error = status; }
  std::vector<std::string> Seen() {
    std::lock_guard lock(mutex);
    return seen;
  }

  std::mutex mutex;
  std::vector<std::string> seen;
  std::atomic<bool> synced{false};
  absl::Status error;
};

class HubTest : public ::testing::Test {
 protected:
  HubTest() {
    auto driver = std::make_unique<FakeDriver>();
    driver_ = driver.get();
    DeviceSettings settings;
    settings.name = "dev";
    device_ = std::make_shared<devices::Device>(settings, std::move(driver));
    translator_ = std::make_shared<schema::GnmiTranslator>(
        schema::testing::TestContext());
  }
  Notification Value(const std::string& json) {
    Notification n;
    n.timestamp_ns = 42;
    n.updates.push_back({kEth0Description, json});
    return n;
  }
  SubscriptionSpec OnChange() {
    SubscriptionSpec spec;
    spec.xpath = "/ietf-interfaces:interfaces";
    spec.mode = SubscriptionMode::kOnChange;
    return spec;
  }

  FakeDriver* driver_;
  std::shared_ptr<devices::Device> device_;
  std::shared_ptr<const schema::GnmiTranslator> translator_;
  Hub hub_;
};

TEST_F(HubTest, OneDriverSubscriptionPerKeySharedAndReleased) {
  Recorder a, b, c;
  auto first = hub_.Join(device_, translator_, OnChange(), &a);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = hub_.Join(device_, translator_, OnChange(), &b);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(driver_->subscribes.load(), 1);
  EXPECT_EQ(hub_.Stats().upstream_subscriptions, 1u);

  SubscriptionSpec sample = OnChange();
  sample.mode = SubscriptionMode::kSample;
  sample.sample_interval_ns = 1000000000;
  auto third = hub_.Join(device_, translator_, sample, &c);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(driver_->subscribes.load(), 2);
  EXPECT_EQ(hub_.Stats().upstream_subscriptions, 2u);

  first->reset();
  EXPECT_EQ(driver_->live.load(), 2);  // b still holds the on-change one
  second->reset();
  third->reset();
  EXPECT_TRUE(Eventually([&] { return driver_->live.load() == 0; }));
  EXPECT_TRUE(
      Eventually([&] { return hub_.Stats().upstream_subscriptions == 0; }));

  // A new client after teardown subscribes the driver again.
  auto again = hub_.Join(device_, translator_, OnChange(), &a);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(driver_->subscribes.load(), 3);
}

TEST_F(HubTest, LateJoinerGetsTheCacheThenChangesAndDeletes) {
  Recorder early, late;
  auto first = hub_.Join(device_, translator_, OnChange(), &early);
  ASSERT_TRUE(first.ok());
  driver_->Push(Value("\"a\""));
  driver_->Sync();
  EXPECT_TRUE(early.synced);
  EXPECT_EQ(hub_.Stats().cached_leaves, 1u);

  auto second = hub_.Join(device_, translator_, OnChange(), &late);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(late.synced);
  EXPECT_EQ(late.Seen(), std::vector<std::string>{"\"a\""});

  driver_->Push(Value("\"b\""));
  EXPECT_EQ(early.Seen(), (std::vector<std::string>{"\"a\"", "\"b\""}));
  EXPECT_EQ(late.Seen(), (std::vector<std::string>{"\"a\"", "\"b\""}));
  auto snapshot = (*second)->Snapshot();
  ASSERT_EQ(snapshot.size(), 1u);
  EXPECT_EQ(snapshot[0]->json(), "\"b\"");
  EXPECT_EQ(snapshot[0]->timestamp_ns(), 42);

  Notification gone;
  gone.deletes.push_back(kEth0Description);
  driver_->Push(gone);
  EXPECT_EQ(late.Seen().back(), std::string("delete ") + kEth0Description);
  EXPECT_EQ(hub_.Stats().cached_leaves, 0u);
  EXPECT_TRUE((*second)->Snapshot().empty());
}

TEST_F(HubTest, DriverErrorsReachListenersAndFailuresAreReturned) {
  Recorder a;
  auto membership = hub_.Join(device_, translator_, OnChange(), &a);
  ASSERT_TRUE(membership.ok());
  driver_->Fail(absl::UnavailableError("link lost"));
  EXPECT_EQ(a.error.code(), absl::StatusCode::kUnavailable);

  driver_->fail = true;
  Recorder b;
  SubscriptionSpec other = OnChange();
  other.xpath = "/ietf-interfaces:interfaces-state";
  auto failed = hub_.Join(device_, translator_, other, &b);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
}

std::string InterfacesDocument(const std::string& description) {
  std::string interface =
      R"({"name":"eth0","type":"iana-if-type:ethernetCsmacd")";
  if (!description.empty()) {
    interface += R"(,"description":")" + description + "\"";
  }
  return R"({"ietf-interfaces:interfaces":{"interface":[)" + interface + "}]}}";
}

TEST(HubPollingTest, DriversThatCannotPushArePolledAndDiffed) {
  auto driver = std::make_unique<FakeDriver>();
  FakeDriver* fake = driver.get();
  fake->cannot_push = true;
  fake->document = InterfacesDocument("one");
  DeviceSettings settings;
  settings.name = "polled";
  auto device = std::make_shared<devices::Device>(settings, std::move(driver));
  auto translator =
      std::make_shared<schema::GnmiTranslator>(schema::testing::TestContext());
  Hub hub(HubOptions{std::chrono::milliseconds(5)});

  Recorder recorder;
  SubscriptionSpec spec;
  spec.xpath = kEth0Description;
  spec.mode = SubscriptionMode::kOnChange;
  auto membership = hub.Join(device, translator, spec, &recorder);
  ASSERT_TRUE(membership.ok()) << membership.status();
  EXPECT_TRUE(recorder.synced);
  EXPECT_EQ(recorder.Seen(), std::vector<std::string>{"\"one\""});
  EXPECT_EQ(hub.Stats().upstream_subscriptions, 1u);

  {
    std::lock_guard lock(fake->mutex);
    fake->document = InterfacesDocument("two");
  }
  EXPECT_TRUE(Eventually([&] { return recorder.Seen().size() >= 2; }));
  EXPECT_EQ(recorder.Seen()[1], "\"two\"");
  // Unchanged reads send nothing.
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(recorder.Seen().size(), 2u);

  {
    std::lock_guard lock(fake->mutex);
    fake->document = InterfacesDocument("");
  }
  EXPECT_TRUE(Eventually([&] { return recorder.Seen().size() >= 3; }));
  EXPECT_EQ(recorder.Seen()[2], std::string("delete ") + kEth0Description);
  membership->reset();
  EXPECT_TRUE(
      Eventually([&] { return hub.Stats().upstream_subscriptions == 0; }));
}

TEST(WireTest, AssembledNotificationParsesAsGnmi) {
  auto translator =
      std::make_shared<schema::GnmiTranslator>(schema::testing::TestContext());
  auto path = std::make_shared<PathInfo>();
  path->xpath = kEth0Description;
  auto gnmi_path = translator->ToGnmiPath(path->xpath);
  ASSERT_TRUE(gnmi_path.ok());
  path->path_bytes = gnmi_path->SerializeAsString();
  Leaf leaf(path, "\"uplink\"", 7, false);

  const std::string* json_ietf = leaf.UpdateBytes(gnmi::JSON_IETF, *translator);
  ASSERT_NE(json_ietf, nullptr);
  // Encoded once, shared afterwards.
  EXPECT_EQ(leaf.UpdateBytes(gnmi::JSON_IETF, *translator), json_ietf);
  const std::string* proto = leaf.UpdateBytes(gnmi::PROTO, *translator);
  ASSERT_NE(proto, nullptr);

  gnmi::Path prefix;
  prefix.set_target("dev");
  NotificationWriter writer(123, prefix.SerializeAsString());
  writer.AddUpdate(*json_ietf);
  writer.AddUpdate(*proto);
  writer.AddDelete(path->path_bytes);
  gnmi::SubscribeResponse response;
  writer.MoveInto(response);

  gnmi::SubscribeResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(response.SerializeAsString()));
  ASSERT_TRUE(parsed.has_update());
  const gnmi::Notification& n = parsed.update();
  EXPECT_EQ(n.timestamp(), 123);
  EXPECT_EQ(n.prefix().target(), "dev");
  ASSERT_EQ(n.update_size(), 2);
  EXPECT_EQ(n.update(0).val().json_ietf_val(), "\"uplink\"");
  EXPECT_EQ(n.update(1).val().string_val(), "uplink");
  EXPECT_EQ(n.update(0).path().elem(1).key().at("name"), "eth0");
  ASSERT_EQ(n.delete__size(), 1);
  EXPECT_EQ(n.delete_(0).elem(2).name(), "description");
}

TEST(TimerServiceTest, PeriodicTimersFireUntilCancelled) {
  TimerService timers;
  std::atomic<int> fired{0};
  auto timer = timers.Schedule(1ms, 1ms, [&] { ++fired; });
  EXPECT_TRUE(Eventually([&] { return fired.load() >= 3; }));
  timer->Cancel();
  const int after_cancel = fired.load();
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(fired.load(), after_cancel);

  std::atomic<bool> posted{false};
  timers.Post([&] { posted = true; });
  EXPECT_TRUE(Eventually([&] { return posted.load(); }));
}

// Found by fuzz_subscribe_request (AddressSanitizer): the timer thread
// waited until a reference to the earliest entry's due time, and a timer
// scheduled meanwhile could reallocate the queue under it, so the wait read
// freed memory. The fuzz build also runs this test with AddressSanitizer
// (ctest label fuzz), where that read fails it.
TEST(TimerServiceTest, TimersScheduledWhileWaitingForALaterOneFire) {
  TimerService timers;
  auto later = timers.Schedule(std::chrono::hours(1), 0ms, [] {});
  std::this_thread::sleep_for(20ms);  // the timer thread now waits for it
  std::atomic<int> fired{0};
  std::vector<std::shared_ptr<TimerService::Timer>> soon;
  for (int i = 0; i < 64; ++i) {
    soon.push_back(timers.Schedule(1ms, 0ms, [&] { ++fired; }));
  }
  EXPECT_TRUE(Eventually([&] { return fired.load() == 64; }));
  later->Cancel();
}

}  // namespace
}  // namespace southgate::telemetry
