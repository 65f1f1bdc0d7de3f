// The `limits:` section: defaults, every key, and its errors.
#include <string>

#include "config/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace southgate::config {
namespace {

using ::testing::HasSubstr;

TEST(LimitsConfig, DefaultsWhenAbsent) {
  auto config = ParseConfig("state_dir: /tmp\n", "<inline>", "/");
  ASSERT_TRUE(config.ok()) << config.status();
  const Limits defaults;
  EXPECT_EQ(config->limits.peer.rate, defaults.peer.rate);
  EXPECT_EQ(config->limits.max_in_flight, defaults.max_in_flight);
  EXPECT_EQ(config->limits.max_message_bytes, 4 << 20);
  EXPECT_GT(config->limits.max_connection_age.count(), 0);
}

TEST(LimitsConfig, EveryKeyIsRead) {
  auto config = ParseConfig(R"(limits:
  peer: {rate: 2.5, burst: 5, max_in_flight: 3, max_streams: 4}
  user: {rate: 7, burst: 8, max_streams: 9}
  max_in_flight: 100
  reserved_in_flight: 10
  max_streams: 11
  slow_lane_threads: 2
  slow_lane_queue: 12
  auth_failure_cost: 13
  auth_failure_penalty_ms: 14
  max_tracked_clients: 150
  max_message_bytes: 2048
  max_paths_per_request: 16
  max_subscriptions_per_stream: 17
  max_metadata_bytes: 4096
  max_streams_per_connection: 19
  keepalive: {min_ping_interval_ms: 20, max_ping_strikes: 21}
  max_connection_age_ms: 22
  max_connection_age_grace_ms: 23
  max_connection_idle_ms: 24
  grpc_memory_bytes: 25
)",
                            "<inline>", "/");
  ASSERT_TRUE(config.ok()) << config.status();
  const Limits& l = config->limits;
  EXPECT_EQ(l.peer.rate, 2.5);
  EXPECT_EQ(l.peer.burst, 5);
  EXPECT_EQ(l.peer_max_in_flight, 3);
  EXPECT_EQ(l.peer_max_streams, 4);
  EXPECT_EQ(l.user.rate, 7);
  EXPECT_EQ(l.user.burst, 8);
  EXPECT_EQ(l.user_max_streams, 9);
  EXPECT_EQ(l.max_in_flight, 100);
  EXPECT_EQ(l.reserved_in_flight, 10);
  EXPECT_EQ(l.max_streams, 11);
  EXPECT_EQ(l.slow_lane_threads, 2);
  EXPECT_EQ(l.slow_lane_queue, 12);
  EXPECT_EQ(l.auth_failure_cost, 13);
  EXPECT_EQ(l.auth_failure_penalty.count(), 14);
  EXPECT_EQ(l.max_tracked_clients, 150);
  EXPECT_EQ(l.max_message_bytes, 2048);
  EXPECT_EQ(l.max_paths_per_request, 16);
  EXPECT_EQ(l.max_subscriptions_per_stream, 17);
  EXPECT_EQ(l.max_metadata_bytes, 4096);
  EXPECT_EQ(l.max_streams_per_connection, 19);
  EXPECT_EQ(l.keepalive_min_ping_interval.count(), 20);
  EXPECT_EQ(l.keepalive_max_ping_strikes, 21);
  EXPECT_EQ(l.max_connection_age.count(), 22);
  EXPECT_EQ(l.max_connection_age_grace.count(), 23);
  EXPECT_EQ(l.max_connection_idle.count(), 24);
  EXPECT_EQ(l.grpc_memory_bytes, 25);
}

TEST(LimitsConfig, ErrorsNameTheLineAndField) {
  struct Case {
    const char* yaml;
    const char* error;
  };
  for (const Case& c : {
           Case{"limits:\n  rate: 5\n", "<inline>:2: limits.rate: unknown key"},
           Case{"limits:\n  peer: {rate: fast}\n",
                "limits.peer.rate: expected a number"},
           Case{"limits:\n  peer: {rate: -1}\n",
                "limits.peer.rate: must be between 0"},
           Case{"limits:\n  user: {burst: 0.5}\n",
                "limits.user.burst: must be at least 1"},
           Case{"limits:\n  user: {max_in_flight: 3}\n",
                "limits.user.max_in_flight: unknown key"},
           Case{"limits:\n  max_in_flight: 10\n  reserved_in_flight: 10\n",
                "<inline>:3: limits.reserved_in_flight: must be below "
                "limits.max_in_flight (10)"},
           Case{"limits:\n  max_message_bytes: 10\n",
                "limits.max_message_bytes: must be between 1024"},
           Case{"limits:\n  keepalive: {every: 1}\n",
                "limits.keepalive.every: unknown key"},
           Case{"limits: 5\n", "limits: expected a mapping"},
       }) {
    auto config = ParseConfig(c.yaml, "<inline>", "/");
    ASSERT_FALSE(config.ok()) << c.yaml;
    EXPECT_THAT(std::string(config.status().message()), HasSubstr(c.error))
        << c.yaml;
  }
}

}  // namespace
}  // namespace southgate::config
