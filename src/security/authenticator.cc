#include "security/authenticator.h"

#include <optional>
#include <utility>

#include "absl/base/call_once.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "security/passwords.h"
#include "security/tls.h"

namespace southgate::security {
namespace {
constexpr char kInvalidCredentials[] = "invalid username or password";

// Appends a length-prefixed field so that ("a:b","c") and ("a","b:c") differ.
void AppendField(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out.append(field.data(), field.size());
  out += ';';
}
}  // namespace

bool MayWrite(const Identity& identity) {
  return identity.role == Role::kReadWrite || identity.role == Role::kAdmin;
}

bool IsAdmin(const Identity& identity) { return identity.role == Role::kAdmin; }

Authenticator::Authenticator(std::vector<UserEntry> users)
    : Authenticator(std::move(users), Options()) {}

Authenticator::Authenticator(std::vector<UserEntry> users, Options options)
    : options_(options) {
  ReplaceUsers(std::move(users));
  auto salt = RandomBytes(32);
  // RAND_bytes failing means no usable randomness at all; fall back to a
  // disabled cache rather than a predictable key.
  if (salt.ok()) process_salt_ = std::move(salt).value();
}

const std::string& Authenticator::DummyHash() {
  absl::call_once(dummy_once_, [this] {
    auto hash = HashPassword("southgate-dummy-password");
    if (hash.ok()) dummy_hash_ = std::move(hash).value();
  });
  return dummy_hash_;
}

std::string Authenticator::CacheKey(std::string_view username,
                                    std::string_view password) const {
  std::string material;
  AppendField(material, process_salt_);
  AppendField(material, username);
  AppendField(material, password);
  return Sha256(material);
}

absl::StatusOr<Identity> Authenticator::Authenticate(
    std::string_view username, std::string_view password) {
  const bool cache_enabled =
      options_.cache_capacity > 0 && !process_salt_.empty();
  std::string key;
  if (cache_enabled) {
    key = CacheKey(username, password);
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      if (it->second.expires > absl::Now()) {
        ++cache_hits_;
        return it->second.identity;
      }
      cache_.erase(it);
    }
  }

  std::optional<UserEntry> found;
  uint64_t generation = 0;
  {
    absl::MutexLock lock(&mu_);
    ++verifications_;
    generation = generation_;
    // A copy: a reload may replace the map while argon2 runs unlocked.
    auto it = users_.find(std::string(username));
    if (it != users_.end()) found = it->second;
  }
  const std::optional<UserEntry>& user = found;
  if (!user) {
    // Same cost as a real check, result ignored.
    (void)VerifyPassword(password, DummyHash());
    return absl::UnauthenticatedError(kInvalidCredentials);
  }
  if (!VerifyPassword(password, user->password_hash)) {
    return absl::UnauthenticatedError(kInvalidCredentials);
  }
  Identity identity{user->name, user->role};

  if (cache_enabled) {
    absl::MutexLock lock(&mu_);
    if (generation != generation_) return identity;
    absl::Time now = absl::Now();
    if (cache_.size() >= options_.cache_capacity) {
      for (auto it = cache_.begin(); it != cache_.end();) {
        it = it->second.expires <= now ? cache_.erase(it) : std::next(it);
      }
    }
    if (cache_.size() >= options_.cache_capacity) {
      auto oldest = cache_.begin();
      for (auto it = cache_.begin(); it != cache_.end(); ++it) {
        if (it->second.expires < oldest->second.expires) oldest = it;
      }
      cache_.erase(oldest);
    }
    cache_[key] = CacheEntry{identity, now + options_.cache_ttl};
  }
  return identity;
}

absl::StatusOr<Identity> Authenticator::IdentityOf(
    std::string_view username) const {
  absl::MutexLock lock(&mu_);
  auto it = users_.find(std::string(username));
  if (it == users_.end()) {
    return absl::UnauthenticatedError(absl::StrCat("client certificate names '",
                                                   std::string(username),
                                                   "', who is not a user"));
  }
  return Identity{it->second.name, it->second.role};
}

size_t Authenticator::user_count() const {
  absl::MutexLock lock(&mu_);
  return users_.size();
}

void Authenticator::ReplaceUsers(std::vector<UserEntry> users) {
  std::unordered_map<std::string, UserEntry> map;
  for (auto& user : users) {
    std::string name = user.name;
    map.emplace(std::move(name), std::move(user));  // first one wins
  }
  absl::MutexLock lock(&mu_);
  users_ = std::move(map);
  cache_.clear();
  ++generation_;
}

uint64_t Authenticator::cache_hits() const {
  absl::MutexLock lock(&mu_);
  return cache_hits_;
}

uint64_t Authenticator::verifications() const {
  absl::MutexLock lock(&mu_);
  return verifications_;
}

}  // namespace southgate::security
