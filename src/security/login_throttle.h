// Slows password guessing: failed logins are counted per peer address and
// per user name; too many within a window locks that peer (or user) out
// for a while, without spending argon2 time on it. A user lockout does not
// apply to a peer address that proved that user's password recently: an
// attacker guessing a name from elsewhere must not lock its owner out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace southgate::security {

class LoginThrottle {
 public:
  struct Options {
    int max_failures = 5;
    absl::Duration window = absl::Minutes(1);
    absl::Duration lockout = absl::Minutes(5);
    // Peers and names remembered at most (each); beyond it entries that
    // are not locked out are forgotten first, so a flood of random names
    // cannot grow memory.
    size_t max_tracked = 10000;
    // How long a successful login keeps (peer address, user) exempt from
    // that user's lockout.
    absl::Duration trusted_for = absl::Hours(24);
  };
  enum class Scope { kPeer, kUser };

  struct Lockout {
    Scope scope;
    absl::Duration retry_after;
  };

  explicit LoginThrottle(Options options,
                         std::function<absl::Time()> clock = absl::Now);

  // A current lockout of `peer` or `user`, if any (peer first). The user's
  // lockout is skipped for a peer that logged in as that user recently.
  std::optional<Lockout> Check(std::string_view peer, std::string_view user);
  // Counts a failure; returns the scopes this failure locked out.
  std::vector<Scope> RecordFailure(std::string_view peer,
                                   std::string_view user);
  // A success clears the user's and the peer's counts and trusts the pair.
  void RecordSuccess(std::string_view peer, std::string_view user);
  // Live reload of the limits; counts and lockouts are kept.
  void SetOptions(Options options);

  // Peers plus users locked out now (for the metrics gauge).
  size_t ActiveLockouts();

 private:
  struct Record {
    int failures = 0;
    absl::Time window_start;
    absl::Time locked_until = absl::InfinitePast();
  };
  using Table = std::unordered_map<std::string, Record>;
  bool Fail(Table& table, std::string_view key, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Prune(Table& table, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::function<absl::Time()> clock_;
  absl::Mutex mu_;
  Options options_ ABSL_GUARDED_BY(mu_);
  Table peers_ ABSL_GUARDED_BY(mu_);
  Table users_ ABSL_GUARDED_BY(mu_);
  // (peer address, user) -> last successful login.
  std::unordered_map<std::string, absl::Time> trusted_ ABSL_GUARDED_BY(mu_);
};

const char* ScopeName(LoginThrottle::Scope scope);

// "ipv4:127.0.0.1:5555" / "ipv6:[::1]:5555" -> "127.0.0.1" / "::1": the
// address without the port, so reconnecting does not reset the count.
std::string PeerAddress(std::string_view grpc_peer);

}  // namespace southgate::security
