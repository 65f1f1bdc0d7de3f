// Admission control with a fake clock: buckets, caps, the reserve, the slow
// lane, the failure penalty and the bounded client table.
#include "northbound/admission.h"

#include <chrono>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace southgate::northbound {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

class AdmissionTest : public ::testing::Test {
 protected:
  Admission::Clock Clock() {
    return [this] { return now_; };
  }
  void Advance(milliseconds by) { now_ += by; }
  std::chrono::steady_clock::time_point now_{std::chrono::seconds(1000)};
};

const ClaimedCredentials kUser{"u", "p"};

config::Limits Unlimited() {
  config::Limits limits;
  limits.peer = {0, 0};
  limits.user = {0, 0};
  return limits;
}

TEST(PeerAddress, StripsSchemeAndPort) {
  EXPECT_EQ(Admission::PeerAddress("ipv4:127.0.0.5:41234"), "127.0.0.5");
  EXPECT_EQ(Admission::PeerAddress("ipv6:[::1]:41234"), "::1");
  EXPECT_EQ(Admission::PeerAddress("ipv6:[2001:db8::7]:1"), "2001:db8::7");
  EXPECT_EQ(Admission::PeerAddress("unix:/run/x.sock"), "unix:/run/x.sock");
}

TEST_F(AdmissionTest, PeerBucketEmptiesAndRefills) {
  config::Limits limits = Unlimited();
  limits.peer = {1, 3};
  Admission admission(limits, Clock());
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(admission.AdmitCall("ipv4:10.0.0.1:1", "Get", kUser).ok()) << i;
  }
  auto refused = admission.AdmitCall("ipv4:10.0.0.1:2", "Get", kUser);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.status().message(), HasSubstr("limits.peer.rate=1"));
  // Another address has its own bucket.
  EXPECT_TRUE(admission.AdmitCall("ipv4:10.0.0.2:1", "Get", kUser).ok());
  Advance(milliseconds(999));
  EXPECT_FALSE(admission.AdmitCall("ipv4:10.0.0.1:1", "Get", kUser).ok());
  Advance(milliseconds(1));
  EXPECT_TRUE(admission.AdmitCall("ipv4:10.0.0.1:1", "Get", kUser).ok());
}

TEST_F(AdmissionTest, InFlightPerPeerIsReleasedWithTheTicket) {
  config::Limits limits = Unlimited();
  limits.peer_max_in_flight = 2;
  Admission admission(limits, Clock());
  std::vector<Ticket> held;
  for (int i = 0; i < 2; ++i) {
    auto ticket = admission.AdmitCall("ipv4:10.0.0.1:1", "Get", kUser);
    ASSERT_TRUE(ticket.ok());
    held.push_back(*ticket);
  }
  EXPECT_EQ(admission.stats().in_flight, 2u);
  auto refused = admission.AdmitCall("ipv4:10.0.0.1:1", "Get", kUser);
  EXPECT_THAT(refused.status().message(),
              HasSubstr("limits.peer.max_in_flight=2"));
  held.pop_back();
  EXPECT_EQ(admission.stats().in_flight, 1u);
  EXPECT_TRUE(admission.AdmitCall("ipv4:10.0.0.1:1", "Get", kUser).ok());
}

TEST_F(AdmissionTest, ReserveIsKeptForPeersWithinTheirShare) {
  config::Limits limits = Unlimited();
  limits.peer = {1, 10};
  limits.max_in_flight = 6;
  limits.reserved_in_flight = 3;
  Admission admission(limits, Clock());
  std::vector<Ticket> held;
  // The flooder spends its bucket below half: over its share.
  for (int i = 0; i < 6; ++i) {
    auto ticket = admission.AdmitCall("ipv4:10.0.0.66:1", "Get", kUser);
    ASSERT_TRUE(ticket.ok()) << i;
    held.push_back(*ticket);
    if (i < 3) held.pop_back();  // finished at once
  }
  // 3 in flight, the shared part is full: the flooder is shed...
  auto shed = admission.AdmitCall("ipv4:10.0.0.66:1", "Get", kUser);
  ASSERT_FALSE(shed.ok());
  EXPECT_THAT(shed.status().message(), HasSubstr("server busy"));
  EXPECT_THAT(shed.status().message(),
              HasSubstr("limits.reserved_in_flight=3"));
  // ...a client within its share still gets in, up to the cap.
  for (int i = 0; i < 3; ++i) {
    auto ticket = admission.AdmitCall("ipv4:10.0.0.7:1", "Get", kUser);
    ASSERT_TRUE(ticket.ok()) << i;
    EXPECT_NE((*ticket)->lane(), Lane::kSlow);
    held.push_back(*ticket);
  }
  EXPECT_FALSE(admission.AdmitCall("ipv4:10.0.0.8:1", "Get", kUser).ok());
}

TEST_F(AdmissionTest, PeersOverTheirShareRunOnTheSlowLane) {
  config::Limits limits = Unlimited();
  limits.peer = {1, 4};
  Admission admission(limits, Clock());
  auto first = admission.AdmitCall("ipv4:10.0.0.1:1", "Get", kUser);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ((*first)->lane(), Lane::kNormal);
  ASSERT_TRUE(admission.AdmitCall("ipv4:10.0.0.1:1", "Get", kUser).ok());
  ASSERT_TRUE(admission.AdmitCall("ipv4:10.0.0.1:1", "Get", kUser).ok());
  // 1 token left of 4: below half.
  auto fourth = admission.AdmitCall("ipv4:10.0.0.1:1", "Get", kUser);
  ASSERT_TRUE(fourth.ok());
  EXPECT_EQ((*fourth)->lane(), Lane::kSlow);
}

TEST_F(AdmissionTest, KnownClientsRunOnTheTrustedLane) {
  config::Limits limits = Unlimited();
  limits.user = {1, 4};
  limits.auth_failure_penalty = milliseconds(0);
  Admission admission(limits, Clock());
  const ClaimedCredentials alice{"alice", "secret"};
  auto first = admission.AdmitCall("ipv4:10.0.0.1:1", "Get", alice);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ((*first)->lane(), Lane::kNormal);
  ASSERT_TRUE(admission.AdmitUser(**first, "alice", "Get").ok());
  auto known = admission.AdmitCall("ipv4:10.0.0.1:2", "Get", alice);
  ASSERT_TRUE(known.ok());
  EXPECT_EQ((*known)->lane(), Lane::kTrusted);
  // Another password (a guess) or another user is not trusted: it would
  // cost a password check.
  auto guess = admission.AdmitCall("ipv4:10.0.0.1:3", "Get",
                                   ClaimedCredentials{"alice", "guess"});
  ASSERT_TRUE(guess.ok());
  EXPECT_EQ((*guess)->lane(), Lane::kNormal);
  auto bob = admission.AdmitCall("ipv4:10.0.0.1:3", "Get",
                                 ClaimedCredentials{"bob", "secret"});
  ASSERT_TRUE(bob.ok());
  EXPECT_EQ((*bob)->lane(), Lane::kNormal);
  // Nor the same credentials from elsewhere.
  auto elsewhere = admission.AdmitCall("ipv4:10.0.0.2:1", "Get", alice);
  ASSERT_TRUE(elsewhere.ok());
  EXPECT_EQ((*elsewhere)->lane(), Lane::kNormal);
  // Alice spends her bucket below half: her calls go to the slow lane,
  // from any address.
  ASSERT_TRUE(admission.AdmitUser(**known, "alice", "Get").ok());
  ASSERT_TRUE(admission.AdmitUser(**known, "alice", "Get").ok());
  auto spent = admission.AdmitCall("ipv4:10.0.0.1:4", "Get", alice);
  ASSERT_TRUE(spent.ok());
  EXPECT_EQ((*spent)->lane(), Lane::kSlow);
  // Refilled, trusted again; a failed authentication ends the trust.
  Advance(milliseconds(10000));
  auto refilled = admission.AdmitCall("ipv4:10.0.0.1:5", "Get", alice);
  ASSERT_TRUE(refilled.ok());
  EXPECT_EQ((*refilled)->lane(), Lane::kTrusted);
  admission.AuthenticationFailed("ipv4:10.0.0.1:6");
  auto distrusted = admission.AdmitCall("ipv4:10.0.0.1:7", "Get", alice);
  ASSERT_TRUE(distrusted.ok());
  EXPECT_EQ((*distrusted)->lane(), Lane::kNormal);
}

TEST_F(AdmissionTest, FailedAuthenticationCostsTokensAndAPenalty) {
  config::Limits limits = Unlimited();
  limits.peer = {1, 10};
  limits.auth_failure_cost = 10;
  limits.auth_failure_penalty = milliseconds(60000);
  Admission admission(limits, Clock());
  admission.AuthenticationFailed("ipv4:10.0.0.9:1");
  EXPECT_FALSE(admission.AdmitCall("ipv4:10.0.0.9:1", "Get", kUser).ok());
  Advance(milliseconds(2000));
  auto after = admission.AdmitCall("ipv4:10.0.0.9:1", "Get", kUser);
  ASSERT_TRUE(after.ok());
  // Still penalized: slow lane until the penalty ends.
  EXPECT_EQ((*after)->lane(), Lane::kSlow);
  Advance(milliseconds(60000));
  auto later = admission.AdmitCall("ipv4:10.0.0.9:1", "Get", kUser);
  ASSERT_TRUE(later.ok());
  EXPECT_NE((*later)->lane(), Lane::kSlow);
}

TEST_F(AdmissionTest, UserBucketIsPerUser) {
  config::Limits limits = Unlimited();
  limits.user = {1, 2};
  Admission admission(limits, Clock());
  auto call = admission.AdmitCall("ipv4:10.0.0.1:1", "Get", kUser);
  ASSERT_TRUE(call.ok());
  EXPECT_TRUE(admission.AdmitUser(**call, "alice", "Get").ok());
  EXPECT_TRUE(admission.AdmitUser(**call, "alice", "Get").ok());
  absl::Status refused = admission.AdmitUser(**call, "alice", "Get");
  EXPECT_THAT(refused.message(), HasSubstr("user 'alice'"));
  EXPECT_TRUE(admission.AdmitUser(**call, "bob", "Get").ok());
  Advance(milliseconds(1000));
  EXPECT_TRUE(admission.AdmitUser(**call, "alice", "Get").ok());
}

TEST_F(AdmissionTest, StreamsPerPeerPerUserAndInTotal) {
  config::Limits limits = Unlimited();
  limits.peer_max_streams = 2;
  limits.user_max_streams = 1;
  limits.max_streams = 3;
  Admission admission(limits, Clock());
  auto a = admission.AdmitStream("ipv4:10.0.0.1:1", kUser);
  auto b = admission.AdmitStream("ipv4:10.0.0.1:2", kUser);
  ASSERT_TRUE(a.ok() && b.ok());
  auto c = admission.AdmitStream("ipv4:10.0.0.1:3", kUser);
  EXPECT_THAT(c.status().message(), HasSubstr("limits.peer.max_streams=2"));
  EXPECT_TRUE(admission.AdmitStreamUser(**a, "alice").ok());
  absl::Status second = admission.AdmitStreamUser(**b, "alice");
  EXPECT_THAT(second.message(), HasSubstr("limits.user.max_streams=1"));
  EXPECT_TRUE(admission.AdmitStreamUser(**b, "bob").ok());
  auto d = admission.AdmitStream("ipv4:10.0.0.2:1", kUser);
  ASSERT_TRUE(d.ok());
  auto e = admission.AdmitStream("ipv4:10.0.0.3:1", kUser);
  EXPECT_THAT(e.status().message(), HasSubstr("limits.max_streams=3"));
  // Closing alice's stream frees her slot and the peer's.
  a->reset();
  EXPECT_EQ(admission.stats().streams, 2u);
  auto f = admission.AdmitStream("ipv4:10.0.0.1:4", kUser);
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(admission.AdmitStreamUser(**f, "alice").ok());
}

TEST_F(AdmissionTest, ClientTableIsBoundedAndForgetsIdleClients) {
  config::Limits limits = Unlimited();
  limits.peer = {1, 2};
  limits.max_tracked_clients = 16;
  Admission admission(limits, Clock());
  std::vector<Ticket> held;
  for (int i = 0; i < 16; ++i) {
    auto ticket =
        admission.AdmitCall("ipv4:10.1.0." + std::to_string(i) + ":1", "Get", kUser);
    ASSERT_TRUE(ticket.ok());
    held.push_back(*ticket);
  }
  auto full = admission.AdmitCall("ipv4:10.2.0.1:1", "Get", kUser);
  EXPECT_THAT(full.status().message(), HasSubstr("limits.max_tracked_clients"));
  // Finished and refilled: idle, so forgotten to make room.
  held.clear();
  Advance(milliseconds(5000));
  EXPECT_TRUE(admission.AdmitCall("ipv4:10.2.0.1:1", "Get", kUser).ok());
  EXPECT_LE(admission.stats().tracked_peers, 16u);
}

TEST_F(AdmissionTest, RequestShape) {
  config::Limits limits = Unlimited();
  limits.max_paths_per_request = 2;
  limits.max_subscriptions_per_stream = 3;
  Admission admission(limits, Clock());
  EXPECT_TRUE(admission.CheckPaths(2, "Get").ok());
  EXPECT_THAT(admission.CheckPaths(3, "Set").message(),
              HasSubstr("Set has 3 paths; limits.max_paths_per_request is 2"));
  EXPECT_TRUE(admission.CheckSubscriptions(3).ok());
  EXPECT_EQ(admission.CheckSubscriptions(4).code(),
            absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace southgate::northbound
