#include "security/login_throttle.h"

#include "gtest/gtest.h"

namespace southgate::security {
namespace {

class LoginThrottleTest : public ::testing::Test {
 protected:
  LoginThrottle::Options Options() {
    LoginThrottle::Options options;
    options.max_failures = 3;
    options.window = absl::Seconds(10);
    options.lockout = absl::Seconds(30);
    options.max_tracked = 4;
    return options;
  }
  absl::Time now_ = absl::FromUnixSeconds(1000000);
  LoginThrottle throttle_{Options(), [this] { return now_; }};
};

TEST_F(LoginThrottleTest, LocksPeerAndUserAfterMaxFailuresInTheWindow) {
  EXPECT_FALSE(throttle_.Check("10.0.0.1", "alice"));
  EXPECT_TRUE(throttle_.RecordFailure("10.0.0.1", "alice").empty());
  EXPECT_TRUE(throttle_.RecordFailure("10.0.0.1", "alice").empty());
  auto locked = throttle_.RecordFailure("10.0.0.1", "alice");
  ASSERT_EQ(locked.size(), 2u);
  EXPECT_EQ(locked[0], LoginThrottle::Scope::kPeer);
  EXPECT_EQ(locked[1], LoginThrottle::Scope::kUser);
  EXPECT_EQ(throttle_.ActiveLockouts(), 2u);

  auto lockout = throttle_.Check("10.0.0.1", "bob");
  ASSERT_TRUE(lockout);
  EXPECT_EQ(lockout->scope, LoginThrottle::Scope::kPeer);
  EXPECT_EQ(lockout->retry_after, absl::Seconds(30));
  // alice from elsewhere: the user is locked too.
  lockout = throttle_.Check("10.0.0.2", "alice");
  ASSERT_TRUE(lockout);
  EXPECT_EQ(lockout->scope, LoginThrottle::Scope::kUser);
  EXPECT_FALSE(throttle_.Check("10.0.0.2", "bob"));

  now_ += absl::Seconds(31);
  EXPECT_FALSE(throttle_.Check("10.0.0.1", "alice"));
  EXPECT_EQ(throttle_.ActiveLockouts(), 0u);
}

TEST_F(LoginThrottleTest, FailuresOutsideTheWindowStartOver) {
  throttle_.RecordFailure("p", "u");
  throttle_.RecordFailure("p", "u");
  now_ += absl::Seconds(11);
  EXPECT_TRUE(throttle_.RecordFailure("p", "u").empty());
  EXPECT_FALSE(throttle_.Check("p", "u"));
}

TEST_F(LoginThrottleTest, SuccessClearsTheCount) {
  throttle_.RecordFailure("p", "u");
  throttle_.RecordFailure("p", "u");
  throttle_.RecordSuccess("p", "u");
  EXPECT_TRUE(throttle_.RecordFailure("p", "u").empty());
  EXPECT_TRUE(throttle_.RecordFailure("p", "u").empty());
  EXPECT_FALSE(throttle_.RecordFailure("p", "u").empty());
}

TEST_F(LoginThrottleTest, RandomNamesCannotGrowMemoryOrEvictLockouts) {
  for (int i = 0; i < 3; ++i) throttle_.RecordFailure("attacker", "root");
  ASSERT_TRUE(throttle_.Check("attacker", "root"));
  for (int i = 0; i < 1000; ++i) {
    throttle_.RecordFailure("p" + std::to_string(i), "u" + std::to_string(i));
  }
  // Still locked: active lockouts are never forgotten to make room.
  EXPECT_TRUE(throttle_.Check("attacker", "root"));
  EXPECT_TRUE(throttle_.Check("x", "root"));
}

TEST_F(LoginThrottleTest, AUserLockoutSparesAPeerThatLoggedInAsThatUser) {
  throttle_.RecordSuccess("10.0.0.5", "alice");
  // Someone elsewhere guesses alice's password until alice is locked out.
  for (int i = 0; i < 3; ++i) throttle_.RecordFailure("10.0.0.66", "alice");
  auto lockout = throttle_.Check("10.0.0.7", "alice");
  ASSERT_TRUE(lockout);
  EXPECT_EQ(lockout->scope, LoginThrottle::Scope::kUser);
  // alice's own address keeps working; the guesser's stays locked.
  EXPECT_FALSE(throttle_.Check("10.0.0.5", "alice"));
  EXPECT_TRUE(throttle_.Check("10.0.0.66", "alice"));
  // The trust ends: then alice's address is under the user lockout too.
  now_ += absl::Hours(25);
  for (int i = 0; i < 3; ++i) throttle_.RecordFailure("10.0.0.66", "alice");
  EXPECT_TRUE(throttle_.Check("10.0.0.5", "alice"));
}

TEST(PeerAddressTest, DropsThePort) {
  EXPECT_EQ(PeerAddress("ipv4:127.0.0.1:5555"), "127.0.0.1");
  EXPECT_EQ(PeerAddress("ipv6:[::1]:5555"), "::1");
  EXPECT_EQ(PeerAddress("unix:/run/x.sock"), "unix:/run/x.sock");
}

}  // namespace
}  // namespace southgate::security
