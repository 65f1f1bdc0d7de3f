// Unit tests of the notification side of ON_CHANGE (no device): what a
// netconf-config-change means, which subscribed paths it touches, and how
// the listener treats an open of the notification session that hangs.
#include "drivers/netconf/change_listener.h"

#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace southgate::drivers::netconf {
namespace {

using ::testing::ElementsAre;

// As NotificationSession prints what netconfd 2.13 sends.
constexpr char kConfigChange[] = R"({
  "ietf-netconf-notifications:netconf-config-change": {
    "changed-by": {"username": "u", "session-id": 4, "source-host": "127.0.0.1"},
    "edit": [
      {"target": "/ietf-interfaces:interfaces/interface[name='x1']/description",
       "operation": "replace"},
      {"target": "/ietf-interfaces:interfaces/interface[name='x3']",
       "operation": "create"}]}})";

TEST(ParseConfigChangeTest, ReadsTheEditedPaths) {
  auto change = ParseConfigChange(kConfigChange);
  ASSERT_TRUE(change.has_value());
  EXPECT_FALSE(change->everything);
  EXPECT_THAT(change->paths,
              ElementsAre("/ietf-interfaces:interfaces/"
                          "interface[name='x1']/description",
                          "/ietf-interfaces:interfaces/interface[name='x3']"));
}

TEST(ParseConfigChangeTest, WithoutEditsEverythingMayHaveChanged) {
  auto change = ParseConfigChange(
      R"({"ietf-netconf-notifications:netconf-config-change":{"changed-by":{"server":[null]}}})");
  ASSERT_TRUE(change.has_value());
  EXPECT_TRUE(change->everything);
}

TEST(ParseConfigChangeTest, IgnoresOtherNotificationsAndStartup) {
  EXPECT_FALSE(ParseConfigChange(
                   R"({"ietf-netconf-notifications:netconf-session-start":
                       {"username":"u","session-id":2}})")
                   .has_value());
  EXPECT_FALSE(ParseConfigChange(
                   R"({"ietf-netconf-notifications:netconf-config-change":
                       {"datastore":"startup","edit":[{"target":"/a:b"}]}})")
                   .has_value());
  EXPECT_FALSE(ParseConfigChange("not json").has_value());
}

TEST(OverlapTest, ChangesBelowASubscriptionAreReadAlone) {
  const std::string interfaces = "/ietf-interfaces:interfaces";
  EXPECT_EQ(Overlap(interfaces, interfaces + "/interface[name='a']/mtu"),
            PathOverlap::kChangeInside);
  EXPECT_EQ(Overlap(interfaces + "/interface[name='a']",
                    interfaces + "/interface[name='a']/mtu"),
            PathOverlap::kChangeInside);
  EXPECT_EQ(Overlap(interfaces, interfaces), PathOverlap::kChangeInside);
}

TEST(OverlapTest, ChangesAboveOrAcrossWildcardsRereadTheSubscription) {
  const std::string interfaces = "/ietf-interfaces:interfaces";
  EXPECT_EQ(Overlap(interfaces + "/interface[name='a']/mtu", interfaces),
            PathOverlap::kOverlapping);
  EXPECT_EQ(Overlap(interfaces + "/interface/description",
                    interfaces + "/interface[name='b']/description"),
            PathOverlap::kOverlapping);
  EXPECT_EQ(Overlap(interfaces + "/*", interfaces + "/interface[name='b']"),
            PathOverlap::kOverlapping);
  EXPECT_EQ(Overlap("/", interfaces), PathOverlap::kOverlapping);
  // Another key of the same list: the subscription is re-read (no diff).
  EXPECT_EQ(Overlap(interfaces + "/interface[name='a']",
                    interfaces + "/interface[name='b']"),
            PathOverlap::kOverlapping);
}

TEST(OverlapTest, DisjointPathsAreIgnored) {
  EXPECT_EQ(
      Overlap("/ietf-interfaces:interfaces", "/ietf-system:system/hostname"),
      PathOverlap::kNone);
  // "interfaces-state" is not below "interfaces".
  EXPECT_EQ(Overlap("/ietf-interfaces:interfaces",
                    "/ietf-interfaces:interfaces-state/interface[name='a']"),
            PathOverlap::kNone);
}

// An opener that hangs like a notification session set-up the device never
// answers: it blocks reading a socket (attached to its ConnectCancel) that
// nobody writes to, until that socket is shut down. Only the first call
// hangs; later ones fail at once.
class HangingOpener {
 public:
  HangingOpener() { socketpair(AF_UNIX, SOCK_STREAM, 0, fds_); }
  ~HangingOpener() {
    close(fds_[0]);
    close(fds_[1]);
  }

  ChangeListener::Opener opener() {
    return [this](southgate::netconf::ConnectCancel* cancel)
               -> absl::StatusOr<
                   std::unique_ptr<southgate::netconf::NotificationSession>> {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (++calls_ > 1) {
          cv_.notify_all();
          return absl::UnavailableError("refused");
        }
        entered_ = true;
        cv_.notify_all();
      }
      char byte;
      if (cancel && cancel->Attach(fds_[0])) {
        (void)!read(fds_[0], &byte, 1);
        cancel->Detach();
      }
      std::lock_guard<std::mutex> lock(mutex_);
      returned_ = true;
      cv_.notify_all();
      return absl::UnavailableError("abandoned");
    };
  }

  // Bounded waits, so that a failure does not hang the test.
  bool WaitEntered() {
    return WaitFor([this] { return entered_; });
  }
  bool WaitReturned() {
    return WaitFor([this] { return returned_; });
  }
  bool WaitCalls(int n) {
    return WaitFor([this, n] { return calls_ >= n; });
  }
  // Ends a hang the listener failed to end (the test then fails cleanly).
  void Release() { (void)!send(fds_[1], "x", 1, MSG_NOSIGNAL); }

 private:
  template <typename Pred>
  bool WaitFor(Pred pred) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, std::chrono::seconds(60), pred);
  }
  int fds_[2] = {-1, -1};
  std::mutex mutex_;
  std::condition_variable cv_;
  int calls_ = 0;
  bool entered_ = false;
  bool returned_ = false;
};

// Regression: destroying a driver with an ON_CHANGE subscription while its
// notification session was being opened left the open hanging (and the
// process's teardown waiting on it). Stop abandons the open at once.
TEST(ChangeListenerTest, StopAbandonsAnOpenInProgress) {
  Executor work(1), connects(1);
  NetconfOptions options;
  // Far out of reach: only Stop can end the open.
  options.ssh.connect_timeout = std::chrono::hours(1);
  options.rpc_timeout = std::chrono::hours(1);
  HangingOpener hanging;
  auto listener = std::make_shared<ChangeListener>("test", hanging.opener(),
                                                   options, work, connects);
  listener->Add([](const ConfigChange&) { return true; });
  ASSERT_TRUE(hanging.WaitEntered());
  listener->Stop();
  EXPECT_TRUE(hanging.WaitReturned());
  hanging.Release();
  listener.reset();
}

// An open that outlives all of its own timeouts is abandoned by the
// listener, and the session is opened again: ON_CHANGE does not stay
// without notifications for good.
TEST(ChangeListenerTest, AnOpenOutlivingItsTimeoutsIsAbandonedAndRetried) {
  Executor work(1), connects(1);
  NetconfOptions options;
  options.ssh.connect_timeout = std::chrono::milliseconds(10);
  options.rpc_timeout = std::chrono::milliseconds(10);
  options.backoff_initial = std::chrono::milliseconds(10);
  options.backoff_max = std::chrono::milliseconds(10);
  HangingOpener hanging;
  auto listener = std::make_shared<ChangeListener>("test", hanging.opener(),
                                                   options, work, connects);
  listener->Add([](const ConfigChange&) { return true; });
  ASSERT_TRUE(hanging.WaitEntered());
  EXPECT_TRUE(hanging.WaitReturned());
  EXPECT_TRUE(hanging.WaitCalls(2));
  hanging.Release();
  listener->Stop();
  listener.reset();
}

}  // namespace
}  // namespace southgate::drivers::netconf
