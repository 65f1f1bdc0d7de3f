#include "northbound/admission.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <latch>
#include <mutex>
#include <unordered_map>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "common/log_limiter.h"
#include "common/status_macros.h"
#include "ops/metrics.h"
#include "spdlog/spdlog.h"

namespace southgate::northbound {

using TimePoint = std::chrono::steady_clock::time_point;

namespace {

constexpr size_t kRejectionKinds =
    static_cast<size_t>(Rejection::kLaneFull) + 1;

ops::Family<ops::Counter>& RejectedFamily() {
  static auto& family = ops::Metrics::Default().registry.AddCounter(
      "southgate_gnmi_rejected_total",
      "gNMI requests and streams refused RESOURCE_EXHAUSTED by admission "
      "control, by method and reason (peer_rate, user_rate, "
      "peer_in_flight, overload, peer_streams, user_streams, streams, "
      "too_many_paths, too_many_subscriptions, too_many_clients, "
      "lane_full)",
      {"method", "reason"});
  return family;
}

// A flood must not become a flood of log lines: one per reason per second.
LogLimiter& Log() {
  static auto* log = new LogLimiter();
  return *log;
}

// Keyed by absl's per-process seed: comparable within this process only,
// never stored or shown.
uint64_t HashOf(const ClaimedCredentials& claimed) {
  return absl::HashOf(claimed.user, claimed.password);
}

std::string Number(double value) {
  // 50 rather than 50.000000; fractions kept when configured.
  std::string text = absl::StrCat(value);
  return text;
}

}  // namespace

const char* RejectionName(Rejection reason) {
  switch (reason) {
    case Rejection::kPeerRate:
      return "peer_rate";
    case Rejection::kUserRate:
      return "user_rate";
    case Rejection::kPeerInFlight:
      return "peer_in_flight";
    case Rejection::kOverload:
      return "overload";
    case Rejection::kPeerStreams:
      return "peer_streams";
    case Rejection::kUserStreams:
      return "user_streams";
    case Rejection::kStreams:
      return "streams";
    case Rejection::kTooManyPaths:
      return "too_many_paths";
    case Rejection::kTooManySubscriptions:
      return "too_many_subscriptions";
    case Rejection::kTooManyClients:
      return "too_many_clients";
    case Rejection::kLaneFull:
      return "lane_full";
  }
  return "unknown";
}

// Everything admission knows, shared with the tickets so that a ticket
// released late (a stream outliving the server) never touches freed state.
class AdmissionState {
 public:
  AdmissionState(const config::Limits& limits, Admission::Clock clock)
      : limits(limits), clock(std::move(clock)) {}

  struct Bucket {
    double tokens = 0;
    TimePoint refilled;
  };
  struct Peer {
    Bucket bucket;
    size_t in_flight = 0;
    size_t streams = 0;
    TimePoint penalized_until;
    // Credentials this peer authenticated with (hashes; a few, most
    // recent last).
    std::vector<uint64_t> trusted;
  };
  static constexpr size_t kTrustedPerPeer = 4;
  struct User {
    Bucket bucket;
    size_t streams = 0;
  };

  // Tops `bucket` up for the time since its last refill.
  static void Refill(Bucket& bucket, const config::RateLimit& rate,
                     TimePoint now) {
    if (now > bucket.refilled) {
      const double seconds =
          std::chrono::duration<double>(now - bucket.refilled).count();
      bucket.tokens = std::min(rate.burst, bucket.tokens + seconds * rate.rate);
      bucket.refilled = now;
    }
  }
  static bool Limited(const config::RateLimit& rate) { return rate.rate > 0; }

  // The entry for `key`, created full; null when the table is full of
  // clients that are all busy.
  template <typename Entry>
  Entry* FindOrAdd(std::unordered_map<std::string, Entry>& table,
                   const std::string& key, const config::RateLimit& rate,
                   TimePoint now) {
    auto it = table.find(key);
    if (it != table.end()) return &it->second;
    if (table.size() >= static_cast<size_t>(limits.max_tracked_clients)) {
      // Idle entries (bucket full, nothing open, no penalty) are the same
      // as new ones: forgetting them changes nothing.
      for (auto entry = table.begin(); entry != table.end();) {
        Refill(entry->second.bucket, rate, now);
        entry = Idle(entry->second, rate, now) ? table.erase(entry)
                                               : std::next(entry);
      }
      if (table.size() >= static_cast<size_t>(limits.max_tracked_clients)) {
        return nullptr;
      }
    }
    Entry& entry = table[key];
    entry.bucket.tokens = rate.burst;
    entry.bucket.refilled = now;
    return &entry;
  }
  static bool Idle(const Peer& peer, const config::RateLimit& rate,
                   TimePoint now) {
    return peer.in_flight == 0 && peer.streams == 0 &&
           peer.bucket.tokens >= rate.burst && now >= peer.penalized_until;
  }
  static bool Idle(const User& user, const config::RateLimit& rate, TimePoint) {
    return user.streams == 0 && user.bucket.tokens >= rate.burst;
  }

  // Slow: the peer recently failed to authenticate, or it or the user it
  // claims has spent more than half of its burst. Trusted: the peer has
  // authenticated with exactly these credentials before (so a wrong
  // password, and its argon2 check, never runs there). Normal: anyone
  // else (new clients).
  Lane Classify(const Peer& peer, std::string_view claimed_user,
                uint64_t credentials_hash, TimePoint now) {
    if (now < peer.penalized_until) return Lane::kSlow;
    if (Limited(limits.peer) && peer.bucket.tokens < limits.peer.burst / 2) {
      return Lane::kSlow;
    }
    if (Limited(limits.user)) {
      // Looked up, never created: a name that was never authenticated has
      // no bucket, and nobody can drain a user's bucket without its
      // password (only authenticated calls are charged).
      auto user = users.find(std::string(claimed_user));
      if (user != users.end()) {
        Refill(user->second.bucket, limits.user, now);
        if (user->second.bucket.tokens < limits.user.burst / 2) {
          return Lane::kSlow;
        }
      }
    }
    for (uint64_t trusted : peer.trusted) {
      if (trusted == credentials_hash) return Lane::kTrusted;
    }
    return Lane::kNormal;
  }

  void Trust(const std::string& address, uint64_t credentials_hash) {
    auto peer = peers.find(address);
    if (peer == peers.end()) return;
    auto& trusted = peer->second.trusted;
    for (uint64_t known : trusted) {
      if (known == credentials_hash) return;
    }
    if (trusted.size() >= kTrustedPerPeer) trusted.erase(trusted.begin());
    trusted.push_back(credentials_hash);
  }

  void Release(AdmissionTicket& ticket) {
    std::lock_guard lock(mutex);
    auto peer = peers.find(ticket.peer_);
    if (ticket.kind_ == AdmissionTicket::Kind::kCall) {
      --(ticket.lane_ == Lane::kTrusted ? in_flight_trusted : in_flight);
      if (peer != peers.end() && peer->second.in_flight > 0) {
        --peer->second.in_flight;
      }
      return;
    }
    --streams;
    if (peer != peers.end() && peer->second.streams > 0) {
      --peer->second.streams;
    }
    if (!ticket.user_.empty()) {
      auto user = users.find(ticket.user_);
      if (user != users.end() && user->second.streams > 0) {
        --user->second.streams;
      }
    }
  }

  const config::Limits limits;
  const Admission::Clock clock;
  std::mutex mutex;
  std::unordered_map<std::string, Peer> peers;
  std::unordered_map<std::string, User> users;
  size_t in_flight = 0;          // normal and slow lanes
  size_t in_flight_trusted = 0;  // the trusted lane, capped on its own
  size_t streams = 0;
};

AdmissionTicket::AdmissionTicket(std::shared_ptr<AdmissionState> state,
                                 Kind kind, std::string peer, Lane lane,
                                 uint64_t credentials_hash)
    : state_(std::move(state)),
      kind_(kind),
      peer_(std::move(peer)),
      credentials_hash_(credentials_hash),
      lane_(lane) {}

AdmissionTicket::~AdmissionTicket() { state_->Release(*this); }

namespace {

absl::Status Refuse(Rejection reason, std::string_view method,
                    std::string_view who, std::string message) {
  RejectedFamily().With({std::string(method), RejectionName(reason)}).Inc();
  if (auto suppressed = Log().Admit(RejectionName(reason))) {
    spdlog::warn("refused {} from {} ({}): {}{}", std::string(method),
                 std::string(who), RejectionName(reason), message,
                 LogLimiter::Suffix(*suppressed));
  }
  return absl::ResourceExhaustedError(std::move(message));
}

// The client's entry, refreshed, when it may start one more call or
// stream: known (or room to track it) and a token in its bucket. Called
// with state.mutex held; the token is taken only once every other check
// has passed.
absl::StatusOr<AdmissionState::Peer*> PeerWithToken(AdmissionState& state,
                                                    const std::string& address,
                                                    std::string_view method,
                                                    TimePoint now) {
  const config::Limits& limits = state.limits;
  AdmissionState::Peer* peer =
      state.FindOrAdd(state.peers, address, limits.peer, now);
  if (peer == nullptr) {
    return Refuse(
        Rejection::kTooManyClients, method, address,
        absl::StrCat("server busy: already tracking "
                     "limits.max_tracked_clients=",
                     limits.max_tracked_clients, " busy clients; retry later"));
  }
  if (AdmissionState::Limited(limits.peer)) {
    AdmissionState::Refill(peer->bucket, limits.peer, now);
    if (peer->bucket.tokens < 1) {
      return Refuse(
          Rejection::kPeerRate, method, address,
          absl::StrCat("rate limit: client ", address,
                       " sends more than limits.peer.rate=",
                       Number(limits.peer.rate), " requests/s (burst ",
                       Number(limits.peer.burst), "); retry later"));
    }
  }
  return peer;
}

}  // namespace

namespace {

// The slow lane's threads yield the CPU to everyone else (nice +10): a
// flood's password checks then take what the others leave.
void LowerPriority(WorkQueue& queue, size_t threads) {
  auto all_there =
      std::make_shared<std::latch>(static_cast<ptrdiff_t>(threads));
  for (size_t i = 0; i < threads; ++i) {
    // Every task waits for the others, so each runs on its own thread.
    queue.Post([all_there] {
      setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10);
      all_there->arrive_and_wait();
    });
  }
}

}  // namespace

Admission::Admission(const config::Limits& limits, Clock clock) {
  if (!clock) clock = [] { return std::chrono::steady_clock::now(); };
  state_ = std::make_shared<AdmissionState>(limits, std::move(clock));
  trusted_lane_ = std::make_unique<WorkQueue>(
      static_cast<size_t>(limits.trusted_lane_threads),
      static_cast<size_t>(limits.max_in_flight));
  slow_lane_ =
      std::make_unique<WorkQueue>(static_cast<size_t>(limits.slow_lane_threads),
                                  static_cast<size_t>(limits.slow_lane_queue));
  LowerPriority(*slow_lane_, static_cast<size_t>(limits.slow_lane_threads));
  RejectedFamily();  // exported from the start, even before a refusal
  std::weak_ptr<AdmissionState> weak = state_;
  ops::Metrics::Default().registry.SetCollector(
      "southgate_admission_in_flight",
      "gNMI unary calls and Subscribe set-ups admitted and not finished",
      ops::MetricType::kGauge, [weak] {
        std::vector<ops::Sample> samples;
        if (auto state = weak.lock()) {
          std::lock_guard lock(state->mutex);
          samples.push_back({{{"lane", "trusted"}},
                             static_cast<double>(state->in_flight_trusted)});
          samples.push_back(
              {{{"lane", "other"}}, static_cast<double>(state->in_flight)});
        }
        return samples;
      });
  ops::Metrics::Default().registry.SetCollector(
      "southgate_admission_streams", "Subscribe streams admitted and open",
      ops::MetricType::kGauge, [weak] {
        std::vector<ops::Sample> samples;
        if (auto state = weak.lock()) {
          std::lock_guard lock(state->mutex);
          samples.push_back({{}, static_cast<double>(state->streams)});
        }
        return samples;
      });
  ops::Metrics::Default().registry.SetCollector(
      "southgate_admission_tracked_clients",
      "Client addresses and users admission control remembers, by kind",
      ops::MetricType::kGauge, [weak] {
        std::vector<ops::Sample> samples;
        if (auto state = weak.lock()) {
          std::lock_guard lock(state->mutex);
          samples.push_back(
              {{{"kind", "peer"}}, static_cast<double>(state->peers.size())});
          samples.push_back(
              {{{"kind", "user"}}, static_cast<double>(state->users.size())});
        }
        return samples;
      });
}

Admission::~Admission() {
  trusted_lane_->Stop();
  slow_lane_->Stop();
}

WorkQueue& Admission::QueueFor(const AdmissionTicket& ticket,
                               WorkQueue& normal) {
  switch (ticket.lane()) {
    case Lane::kTrusted:
      return *trusted_lane_;
    case Lane::kSlow:
      return *slow_lane_;
    case Lane::kNormal:
      break;
  }
  return normal;
}

std::string Admission::PeerAddress(std::string_view peer) {
  std::string_view rest = peer;
  if (rest.substr(0, 5) == "ipv4:") {
    rest.remove_prefix(5);
    const size_t colon = rest.rfind(':');
    return std::string(colon == std::string_view::npos ? rest
                                                       : rest.substr(0, colon));
  }
  if (rest.substr(0, 5) == "ipv6:") {
    rest.remove_prefix(5);
    if (!rest.empty() && rest.front() == '[') {
      const size_t close = rest.find(']');
      if (close != std::string_view::npos) {
        return std::string(rest.substr(1, close - 1));
      }
    }
    return std::string(rest);
  }
  return std::string(peer);
}

absl::StatusOr<Ticket> Admission::AdmitCall(std::string_view peer_text,
                                            std::string_view method,
                                            const ClaimedCredentials& claimed) {
  const uint64_t credentials_hash = HashOf(claimed);
  const std::string address = PeerAddress(peer_text);
  const config::Limits& limits = state_->limits;
  Lane lane = Lane::kNormal;
  {
    std::lock_guard lock(state_->mutex);
    const TimePoint now = state_->clock();
    ASSIGN_OR_RETURN(AdmissionState::Peer * peer,
                     PeerWithToken(*state_, address, method, now));
    const bool limited = AdmissionState::Limited(limits.peer);
    if (peer->in_flight >= static_cast<size_t>(limits.peer_max_in_flight)) {
      return Refuse(Rejection::kPeerInFlight, method, address,
                    absl::StrCat("too many calls in flight from client ",
                                 address, " (limits.peer.max_in_flight=",
                                 limits.peer_max_in_flight, ")"));
    }
    lane = state_->Classify(*peer, claimed.user, credentials_hash, now);
    // Known clients have a budget of their own that strangers cannot
    // fill; among the others, the last reserved_in_flight slots are kept
    // for clients within their share (new ones).
    const size_t cap = static_cast<size_t>(limits.max_in_flight);
    const size_t shared = cap - static_cast<size_t>(limits.reserved_in_flight);
    size_t& counter =
        lane == Lane::kTrusted ? state_->in_flight_trusted : state_->in_flight;
    if (counter >= cap || (lane == Lane::kSlow && counter >= shared)) {
      return Refuse(
          Rejection::kOverload, method, address,
          absl::StrCat("server busy: ", counter,
                       " requests in flight (limits.max_in_flight=", cap,
                       ", of which limits.reserved_in_flight=",
                       limits.reserved_in_flight,
                       " are kept for clients within their share); retry "
                       "later"));
    }
    if (limited) peer->bucket.tokens -= 1;
    ++peer->in_flight;
    ++counter;
  }
  return Ticket(new AdmissionTicket(state_, AdmissionTicket::Kind::kCall,
                                    address, lane, credentials_hash));
}

absl::StatusOr<Ticket> Admission::AdmitStream(
    std::string_view peer_text, const ClaimedCredentials& claimed) {
  const uint64_t credentials_hash = HashOf(claimed);
  constexpr std::string_view kMethod = "Subscribe";
  const std::string address = PeerAddress(peer_text);
  const config::Limits& limits = state_->limits;
  Lane lane = Lane::kNormal;
  {
    std::lock_guard lock(state_->mutex);
    const TimePoint now = state_->clock();
    ASSIGN_OR_RETURN(AdmissionState::Peer * peer,
                     PeerWithToken(*state_, address, kMethod, now));
    const bool limited = AdmissionState::Limited(limits.peer);
    if (peer->streams >= static_cast<size_t>(limits.peer_max_streams)) {
      return Refuse(Rejection::kPeerStreams, kMethod, address,
                    absl::StrCat("too many Subscribe streams open from client ",
                                 address, " (limits.peer.max_streams=",
                                 limits.peer_max_streams, ")"));
    }
    if (state_->streams >= static_cast<size_t>(limits.max_streams)) {
      return Refuse(Rejection::kStreams, kMethod, address,
                    absl::StrCat("server busy: ", state_->streams,
                                 " Subscribe streams open (limits.max_streams=",
                                 limits.max_streams, ")"));
    }
    lane = state_->Classify(*peer, claimed.user, credentials_hash, now);
    if (limited) peer->bucket.tokens -= 1;
    ++peer->streams;
    ++state_->streams;
  }
  return Ticket(new AdmissionTicket(state_, AdmissionTicket::Kind::kStream,
                                    address, lane, credentials_hash));
}

absl::Status Admission::AdmitUser(AdmissionTicket& call,
                                  const std::string& name,
                                  std::string_view method) {
  const config::Limits& limits = state_->limits;
  std::lock_guard lock(state_->mutex);
  state_->Trust(call.peer_, call.credentials_hash_);
  if (!AdmissionState::Limited(limits.user)) return absl::OkStatus();
  const TimePoint now = state_->clock();
  AdmissionState::User* user =
      state_->FindOrAdd(state_->users, name, limits.user, now);
  if (user == nullptr) {
    return Refuse(Rejection::kTooManyClients, method, name,
                  absl::StrCat("server busy: already tracking "
                               "limits.max_tracked_clients=",
                               limits.max_tracked_clients, " busy users"));
  }
  AdmissionState::Refill(user->bucket, limits.user, now);
  if (user->bucket.tokens < 1) {
    return Refuse(Rejection::kUserRate, method, name,
                  absl::StrCat("rate limit: user '", name,
                               "' sends more than limits.user.rate=",
                               Number(limits.user.rate), " requests/s (burst ",
                               Number(limits.user.burst), "); retry later"));
  }
  user->bucket.tokens -= 1;
  return absl::OkStatus();
}

absl::Status Admission::AdmitStreamUser(AdmissionTicket& stream,
                                        const std::string& name) {
  constexpr std::string_view kMethod = "Subscribe";
  const config::Limits& limits = state_->limits;
  std::lock_guard lock(state_->mutex);
  state_->Trust(stream.peer_, stream.credentials_hash_);
  const TimePoint now = state_->clock();
  AdmissionState::User* user =
      state_->FindOrAdd(state_->users, name, limits.user, now);
  if (user == nullptr) {
    return Refuse(Rejection::kTooManyClients, kMethod, name,
                  absl::StrCat("server busy: already tracking "
                               "limits.max_tracked_clients=",
                               limits.max_tracked_clients, " busy users"));
  }
  const bool limited = AdmissionState::Limited(limits.user);
  if (limited) {
    AdmissionState::Refill(user->bucket, limits.user, now);
    if (user->bucket.tokens < 1) {
      return Refuse(
          Rejection::kUserRate, kMethod, name,
          absl::StrCat("rate limit: user '", name,
                       "' sends more than limits.user.rate=",
                       Number(limits.user.rate), " requests/s (burst ",
                       Number(limits.user.burst), "); retry later"));
    }
  }
  if (user->streams >= static_cast<size_t>(limits.user_max_streams)) {
    return Refuse(Rejection::kUserStreams, kMethod, name,
                  absl::StrCat("too many Subscribe streams open for user '",
                               name, "' (limits.user.max_streams=",
                               limits.user_max_streams, ")"));
  }
  if (limited) user->bucket.tokens -= 1;
  if (stream.user_.empty()) {
    ++user->streams;
    stream.user_ = name;
  }
  return absl::OkStatus();
}

void Admission::AuthenticationFailed(std::string_view peer_text) {
  const std::string address = PeerAddress(peer_text);
  const config::Limits& limits = state_->limits;
  std::lock_guard lock(state_->mutex);
  const TimePoint now = state_->clock();
  AdmissionState::Peer* peer =
      state_->FindOrAdd(state_->peers, address, limits.peer, now);
  if (peer == nullptr) return;
  if (AdmissionState::Limited(limits.peer)) {
    AdmissionState::Refill(peer->bucket, limits.peer, now);
    // May go below zero: the peer then waits for the refill to climb back.
    peer->bucket.tokens -= limits.auth_failure_cost;
  }
  peer->penalized_until = now + limits.auth_failure_penalty;
  peer->trusted.clear();
}

absl::Status Admission::LaneFull(const AdmissionTicket& ticket,
                                 std::string_view method) {
  switch (ticket.lane()) {
    case Lane::kSlow:
      return Refuse(
          Rejection::kLaneFull, method, ticket.peer(),
          absl::StrCat("server busy: the queue for clients over "
                       "their share is full "
                       "(limits.slow_lane_queue=",
                       state_->limits.slow_lane_queue, "); retry later"));
    case Lane::kTrusted:
      return Refuse(
          Rejection::kLaneFull, method, ticket.peer(),
          absl::StrCat("server busy: the trusted lane's queue is "
                       "full (limits.max_in_flight=",
                       state_->limits.max_in_flight, "); retry later"));
    case Lane::kNormal:
      break;
  }
  return Refuse(Rejection::kLaneFull, method, ticket.peer(),
                "server busy: too many requests in flight; retry later");
}

absl::Status Admission::CheckPaths(size_t paths, std::string_view method) {
  const int64_t max = state_->limits.max_paths_per_request;
  if (static_cast<int64_t>(paths) <= max) return absl::OkStatus();
  return Refuse(Rejection::kTooManyPaths, method, "a client",
                absl::StrCat(std::string(method), " has ", paths,
                             " paths; limits.max_paths_per_request is ", max));
}

absl::Status Admission::CheckSubscriptions(size_t subscriptions) {
  const int64_t max = state_->limits.max_subscriptions_per_stream;
  if (static_cast<int64_t>(subscriptions) <= max) return absl::OkStatus();
  return Refuse(Rejection::kTooManySubscriptions, "Subscribe", "a client",
                absl::StrCat("SubscriptionList has ", subscriptions,
                             " subscriptions; "
                             "limits.max_subscriptions_per_stream is ",
                             max));
}

Admission::Stats Admission::stats() const {
  std::lock_guard lock(state_->mutex);
  return Stats{state_->in_flight + state_->in_flight_trusted, state_->streams,
               state_->peers.size(), state_->users.size()};
}

}  // namespace southgate::northbound
