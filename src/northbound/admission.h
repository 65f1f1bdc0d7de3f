// Admission control for the gNMI server: who may start work, and where it
// runs. Keeps the daemon serving its legitimate clients while others flood
// it (docs/security.md, "Flood resistance").
//
// - Per peer (the client's IP address, without the port): a token bucket of
//   requests (every unary call and every Subscribe stream opened takes one
//   token), a cap on its calls in flight and on its open streams.
// - Per authenticated user: a token bucket and a cap on open streams,
//   charged after authentication so a client cannot spend another user's
//   budget by sending that user's name.
// - Globally: a cap on work in flight whose last `reserved_in_flight` slots
//   go only to clients within their share (the peer's bucket and the
//   claimed user's bucket at least half full, no recent authentication
//   failure from the peer).
// - Lanes: work runs on one of three worker pools. Trusted: the peer has
//   authenticated as the claimed user before and both are within their
//   share. Normal (the daemon's work queue): other clients within their
//   share, e.g. new ones. Slow (one thread by default): clients over their
//   share. So a flood, and its password checks, never queue in front of
//   known clients, and new clients still get in.
// - Shape: paths per request and subscriptions per stream.
// Every refusal is RESOURCE_EXHAUSTED with a message naming the limit
// (configuration key), counted in southgate_gnmi_rejected_total{method,
// reason} and logged at most once per second per reason.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/work_queue.h"
#include "config/limits.h"

namespace southgate::northbound {

class AdmissionState;

// Where an admitted call's work runs.
enum class Lane { kTrusted, kNormal, kSlow };

// The credentials a call presents, not verified yet: they only choose the
// lane (never charged to anyone).
struct ClaimedCredentials {
  std::string_view user;
  std::string_view password;
};

// Why a request was refused; the metric label.
enum class Rejection {
  kPeerRate,
  kUserRate,
  kPeerInFlight,
  kOverload,
  kPeerStreams,
  kUserStreams,
  kStreams,
  kTooManyPaths,
  kTooManySubscriptions,
  kTooManyClients,
  kLaneFull,
};
const char* RejectionName(Rejection reason);

// One admitted unary call or Subscribe stream. Releasing it (the last
// shared_ptr going away) frees its in-flight or stream slot.
class AdmissionTicket {
 public:
  ~AdmissionTicket();
  AdmissionTicket(const AdmissionTicket&) = delete;
  AdmissionTicket& operator=(const AdmissionTicket&) = delete;

  Lane lane() const { return lane_; }
  const std::string& peer() const { return peer_; }

 private:
  friend class Admission;
  friend class AdmissionState;
  enum class Kind { kCall, kStream };
  AdmissionTicket(std::shared_ptr<AdmissionState> state, Kind kind,
                  std::string peer, Lane lane, uint64_t credentials_hash);

  std::shared_ptr<AdmissionState> state_;
  Kind kind_;
  std::string peer_;
  std::string user_;  // set once a stream's user is admitted
  // Keyed hash of the presented user and password: what "the peer has
  // authenticated with these credentials before" compares.
  uint64_t credentials_hash_ = 0;
  Lane lane_;
};
using Ticket = std::shared_ptr<AdmissionTicket>;

class Admission {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  explicit Admission(const config::Limits& limits, Clock clock = nullptr);
  ~Admission();
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;

  // A unary call from `peer` (grpc::ServerContext::peer() form, e.g.
  // "ipv4:127.0.0.1:5555") presenting `claimed`. Takes a peer token and an
  // in-flight slot.
  absl::StatusOr<Ticket> AdmitCall(std::string_view peer,
                                   std::string_view method,
                                   const ClaimedCredentials& claimed);
  // A new Subscribe stream: a peer token and a stream slot; the call slot
  // for its set-up is the stream slot.
  absl::StatusOr<Ticket> AdmitStream(std::string_view peer,
                                     const ClaimedCredentials& claimed);
  // After authentication: a user token for `call`; from now on the same
  // credentials from the same peer run on the trusted lane.
  absl::Status AdmitUser(AdmissionTicket& call, const std::string& user,
                         std::string_view method);
  // After authentication: a user token and a user stream slot, held by
  // `stream` until it is released.
  absl::Status AdmitStreamUser(AdmissionTicket& stream,
                               const std::string& user);
  // A failed authentication from `peer`: costs it `auth_failure_cost`
  // tokens and puts it on the slow lane for `auth_failure_penalty`.
  void AuthenticationFailed(std::string_view peer);

  // The refusal when `ticket`'s lane did not take its work (queue full).
  absl::Status LaneFull(const AdmissionTicket& ticket, std::string_view method);

  absl::Status CheckPaths(size_t paths, std::string_view method);
  absl::Status CheckSubscriptions(size_t subscriptions);

  // The worker pool for `ticket`'s lane; `normal` is the daemon's queue.
  WorkQueue& QueueFor(const AdmissionTicket& ticket, WorkQueue& normal);

  struct Stats {
    size_t in_flight = 0;
    size_t streams = 0;
    size_t tracked_peers = 0;
    size_t tracked_users = 0;
  };
  Stats stats() const;

  // "127.0.0.1" for "ipv4:127.0.0.1:5555", "::1" for "ipv6:[::1]:5555";
  // anything else unchanged.
  static std::string PeerAddress(std::string_view peer);

 private:
  std::shared_ptr<AdmissionState> state_;
  std::unique_ptr<WorkQueue> trusted_lane_;
  std::unique_ptr<WorkQueue> slow_lane_;
};

}  // namespace southgate::northbound
