// Username/password authentication against the configured users.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "security/user.h"

namespace southgate::security {

struct Identity {
  std::string user;
  Role role = Role::kReadOnly;
};

// True for roles allowed to change device configuration (gNMI Set).
bool MayWrite(const Identity& identity);
// True for the admin role.
bool IsAdmin(const Identity& identity);

// Checks credentials against a fixed list of users. Thread-safe.
//
// gNMI clients send credentials with every RPC and argon2 costs tens of
// milliseconds, so successful verifications are cached for `cache_ttl`,
// keyed by SHA-256(process salt, user, password): the cache holds no
// password and a wrong password never hits it.
class Authenticator {
 public:
  struct Options {
    absl::Duration cache_ttl = absl::Seconds(60);
    size_t cache_capacity = 1024;  // 0 disables the cache
  };

  // Users with duplicate names: the first one wins (the config loader
  // already rejects duplicates).
  explicit Authenticator(std::vector<UserEntry> users);
  Authenticator(std::vector<UserEntry> users, Options options);

  // UNAUTHENTICATED "invalid username or password" for an unknown user or a
  // wrong password alike; an unknown user still costs one argon2 verify so
  // timing does not reveal which names exist.
  absl::StatusOr<Identity> Authenticate(std::string_view username,
                                        std::string_view password);

  // The identity of a configured user, for a name taken from a verified
  // client certificate; UNAUTHENTICATED when no such user exists.
  absl::StatusOr<Identity> IdentityOf(std::string_view username) const;

  size_t user_count() const;
  // Live reload: the new user list replaces the old one at once, and the
  // verification cache is emptied so a removed user or changed password
  // stops working immediately.
  void ReplaceUsers(std::vector<UserEntry> users);
  // Statistics, for tests and metrics.
  uint64_t cache_hits() const;
  uint64_t verifications() const;

 private:
  struct CacheEntry {
    Identity identity;
    absl::Time expires;
  };
  std::string CacheKey(std::string_view username,
                       std::string_view password) const;
  const std::string& DummyHash();

  const Options options_;
  std::unordered_map<std::string, UserEntry> users_ ABSL_GUARDED_BY(mu_);
  std::string process_salt_;

  absl::once_flag dummy_once_;
  std::string dummy_hash_;

  mutable absl::Mutex mu_;
  std::unordered_map<std::string, CacheEntry> cache_ ABSL_GUARDED_BY(mu_);
  uint64_t cache_hits_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t verifications_ ABSL_GUARDED_BY(mu_) = 0;
  // Bumped by ReplaceUsers: a verification that started against the old
  // list does not fill the cache.
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace southgate::security
