#include "security/login_throttle.h"

#include <utility>

namespace southgate::security {
namespace {
std::string PairKey(std::string_view peer, std::string_view user) {
  std::string key(peer);
  key.push_back('\0');
  key.append(user);
  return key;
}
}  // namespace

const char* ScopeName(LoginThrottle::Scope scope) {
  return scope == LoginThrottle::Scope::kPeer ? "peer" : "user";
}

std::string PeerAddress(std::string_view peer) {
  std::string_view rest = peer;
  if (rest.starts_with("ipv4:")) {
    rest.remove_prefix(5);
    size_t colon = rest.rfind(':');
    return std::string(colon == std::string_view::npos ? rest
                                                       : rest.substr(0, colon));
  }
  if (rest.starts_with("ipv6:")) {
    rest.remove_prefix(5);
    if (rest.starts_with('[')) {
      size_t close = rest.find(']');
      if (close != std::string_view::npos) {
        return std::string(rest.substr(1, close - 1));
      }
    }
    return std::string(rest);
  }
  return std::string(peer);  // unix sockets and the like: as given
}

LoginThrottle::LoginThrottle(Options options, std::function<absl::Time()> clock)
    : clock_(std::move(clock)), options_(options) {}

void LoginThrottle::SetOptions(Options options) {
  absl::MutexLock lock(&mu_);
  options_ = options;
}

std::optional<LoginThrottle::Lockout> LoginThrottle::Check(
    std::string_view peer, std::string_view user) {
  const absl::Time now = clock_();
  absl::MutexLock lock(&mu_);
  if (auto it = peers_.find(std::string(peer));
      it != peers_.end() && it->second.locked_until > now) {
    return Lockout{Scope::kPeer, it->second.locked_until - now};
  }
  if (!user.empty()) {
    if (auto it = users_.find(std::string(user));
        it != users_.end() && it->second.locked_until > now) {
      auto trusted = trusted_.find(PairKey(peer, user));
      if (trusted == trusted_.end() ||
          now - trusted->second >= options_.trusted_for) {
        return Lockout{Scope::kUser, it->second.locked_until - now};
      }
    }
  }
  return std::nullopt;
}

bool LoginThrottle::Fail(Table& table, std::string_view key, absl::Time now) {
  if (table.size() >= options_.max_tracked) Prune(table, now);
  Record& record = table[std::string(key)];
  if (record.failures == 0 || now - record.window_start > options_.window) {
    record.failures = 0;
    record.window_start = now;
  }
  ++record.failures;
  if (record.failures >= options_.max_failures) {
    record.failures = 0;
    record.locked_until = now + options_.lockout;
    return true;
  }
  return false;
}

void LoginThrottle::Prune(Table& table, absl::Time now) {
  for (auto it = table.begin(); it != table.end();) {
    bool stale = it->second.locked_until <= now &&
                 now - it->second.window_start > options_.window;
    it = stale ? table.erase(it) : std::next(it);
  }
  // Still full of fresh entries: forget counts (never active lockouts).
  for (auto it = table.begin();
       table.size() >= options_.max_tracked && it != table.end();) {
    it = it->second.locked_until <= now ? table.erase(it) : std::next(it);
  }
}

std::vector<LoginThrottle::Scope> LoginThrottle::RecordFailure(
    std::string_view peer, std::string_view user) {
  const absl::Time now = clock_();
  std::vector<Scope> locked;
  absl::MutexLock lock(&mu_);
  if (Fail(peers_, peer, now)) locked.push_back(Scope::kPeer);
  if (!user.empty() && Fail(users_, user, now)) locked.push_back(Scope::kUser);
  return locked;
}

void LoginThrottle::RecordSuccess(std::string_view peer,
                                  std::string_view user) {
  const absl::Time now = clock_();
  absl::MutexLock lock(&mu_);
  if (trusted_.size() >= options_.max_tracked) {
    // Expired pairs first; if all are fresh, start over rather than grow.
    std::erase_if(trusted_, [&](const auto& entry) {
      return now - entry.second > options_.trusted_for;
    });
    if (trusted_.size() >= options_.max_tracked) trusted_.clear();
  }
  trusted_[PairKey(peer, user)] = now;
  if (auto it = peers_.find(std::string(peer)); it != peers_.end()) {
    it->second.failures = 0;
  }
  if (auto it = users_.find(std::string(user)); it != users_.end()) {
    it->second.failures = 0;
  }
}

size_t LoginThrottle::ActiveLockouts() {
  const absl::Time now = clock_();
  absl::MutexLock lock(&mu_);
  size_t count = 0;
  for (const Table* table : {&peers_, &users_}) {
    for (const auto& [key, record] : *table) {
      if (record.locked_until > now) ++count;
    }
  }
  return count;
}

}  // namespace southgate::security
