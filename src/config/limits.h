// The `limits:` section of the configuration: flood resistance of the gNMI
// server (rate limits, concurrency caps, message and request sizes, HTTP/2
// keepalive enforcement, connection age). Every key is documented in
// docs/configuration.md; docs/security.md explains how they work together.
#pragma once

#include <chrono>
#include <cstdint>

namespace southgate::config {

// A token bucket: `rate` requests per second refill it up to `burst`.
struct RateLimit {
  double rate = 0;   // tokens per second; 0 = no limit
  double burst = 0;  // bucket size (at least 1 when rate > 0)
  bool operator==(const RateLimit&) const = default;
};

struct Limits {
  // Per client address (the peer's IP, without the port).
  RateLimit peer{50, 100};
  int64_t peer_max_in_flight = 16;  // unary calls + Subscribe set-ups
  int64_t peer_max_streams = 32;    // open Subscribe streams
  // Per authenticated user (charged after authentication, so nobody can
  // spend another user's budget by sending that user's name).
  RateLimit user{200, 400};
  int64_t user_max_streams = 256;

  // Work admitted at once across all clients; the last `reserved_in_flight`
  // slots only go to clients within their share (see docs/security.md).
  int64_t max_in_flight = 256;
  int64_t reserved_in_flight = 64;
  int64_t max_streams = 10000;  // open Subscribe streams, all clients
  // Known clients (a peer sending as a user it has authenticated as
  // before, both within their share) are served by workers of their own,
  // so they never queue behind strangers' password checks.
  int64_t trusted_lane_threads = 2;
  // Clients over their share (recent authentication failure, or the
  // peer's or the claimed user's bucket below half) are served by this
  // many workers with a queue this long.
  int64_t slow_lane_threads = 1;
  int64_t slow_lane_queue = 64;
  // A failed authentication costs the peer this many tokens and keeps it
  // in the slow lane for this long.
  double auth_failure_cost = 20;
  std::chrono::milliseconds auth_failure_penalty{60000};
  // Peers and users remembered at once (idle ones are forgotten first).
  int64_t max_tracked_clients = 65536;

  // Request shape.
  int64_t max_message_bytes = 4 << 20;  // gRPC max receive size
  int64_t max_paths_per_request =
      1000;  // Get paths; Set deletes+replaces+updates
  int64_t max_subscriptions_per_stream = 1000;
  int64_t max_metadata_bytes = 16 << 10;  // HTTP/2 header list size

  // HTTP/2 connection policy.
  int64_t max_streams_per_connection = 128;  // concurrent HTTP/2 streams
  std::chrono::milliseconds keepalive_min_ping_interval{10000};
  int64_t keepalive_max_ping_strikes = 2;
  std::chrono::milliseconds max_connection_age{3600 * 1000};  // 0 = none
  std::chrono::milliseconds max_connection_age_grace{0};      // 0 = unlimited
  std::chrono::milliseconds max_connection_idle{0};           // 0 = none
  int64_t grpc_memory_bytes = int64_t{1} << 30;  // gRPC buffers; 0 = none

  bool operator==(const Limits&) const = default;
};

}  // namespace southgate::config
