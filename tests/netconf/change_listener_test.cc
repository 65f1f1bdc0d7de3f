// Unit tests of the notification side of ON_CHANGE (no device): what a
// netconf-config-change means, and which subscribed paths it touches.
#include "drivers/netconf/change_listener.h"

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

}  // namespace
}  // namespace southgate::drivers::netconf
