#include "security/authorizer.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace southgate::security {
namespace {

bool IsWildcard(const PathElem& elem, const std::string& key) {
  auto it = elem.keys.find(key);
  return it == elem.keys.end() || it->second == "*";
}

// Whether the rule names this user (by name or role).
bool NamesSubject(const AccessRule& rule, const Identity& identity) {
  if (!rule.users.empty() && std::find(rule.users.begin(), rule.users.end(),
                                       identity.user) == rule.users.end()) {
    return false;
  }
  if (!rule.roles.empty() && std::find(rule.roles.begin(), rule.roles.end(),
                                       identity.role) == rule.roles.end()) {
    return false;
  }
  return true;
}

bool NamesTarget(const AccessRule& rule, std::string_view target) {
  if (rule.targets.empty()) return true;
  for (const std::string& t : rule.targets) {
    if (t == "*" || t == target) return true;
  }
  return false;
}

std::string Denied(const Identity& identity, std::string_view target,
                   const DataPath& path, Access access, const std::string& by) {
  return absl::StrCat("user '", identity.user, "' may not ", AccessName(access),
                      " ", DataPathString(path), " on target '",
                      std::string(target), "' (denied by ", by, ")");
}

}  // namespace

std::string DataPathString(const DataPath& path) {
  if (path.empty()) return "/";
  std::string out;
  for (const PathElem& elem : path) {
    absl::StrAppend(&out, "/", elem.name);
    for (const auto& [key, value] : elem.keys) {
      absl::StrAppend(&out, "[", key, "=", value, "]");
    }
  }
  return out;
}

bool Overlaps(const DataPath& a, const DataPath& b) {
  size_t common = std::min(a.size(), b.size());
  for (size_t i = 0; i < common; ++i) {
    if (a[i].name != b[i].name) return false;
    for (const auto& [key, value] : a[i].keys) {
      if (value == "*") continue;
      auto it = b[i].keys.find(key);
      if (it != b[i].keys.end() && it->second != "*" && it->second != value) {
        return false;
      }
    }
  }
  return true;
}

bool Within(const DataPath& inner, const DataPath& outer) {
  if (inner.size() < outer.size()) return false;
  for (size_t i = 0; i < outer.size(); ++i) {
    if (inner[i].name != outer[i].name) return false;
    for (const auto& [key, value] : outer[i].keys) {
      if (value == "*") continue;
      // The request covers every entry here; the rule only one.
      if (IsWildcard(inner[i], key)) return false;
      if (inner[i].keys.at(key) != value) return false;
    }
  }
  return true;
}

Authorizer::Authorizer(std::vector<AccessRule> rules, bool default_allow) {
  Replace(std::move(rules), default_allow);
}

void Authorizer::Replace(std::vector<AccessRule> rules, bool default_allow) {
  auto policy = std::make_shared<Policy>();
  policy->rules = std::move(rules);
  policy->default_allow = default_allow;
  absl::MutexLock lock(&mu_);
  policy_ = std::move(policy);
}

size_t Authorizer::rule_count() const {
  absl::MutexLock lock(&mu_);
  return policy_->rules.size();
}

absl::Status Authorizer::Check(const Identity& identity,
                               std::string_view target, const DataPath& path,
                               Access access) const {
  if (access == Access::kWrite && !MayWrite(identity)) {
    return absl::PermissionDeniedError(
        Denied(identity, target, path, access,
               absl::StrCat("role ", RoleName(identity.role))));
  }
  if (IsAdmin(identity)) return absl::OkStatus();
  std::shared_ptr<const Policy> policy;
  {
    absl::MutexLock lock(&mu_);
    policy = policy_;
  }
  for (const AccessRule& rule : policy->rules) {
    if (access == Access::kRead ? !rule.read : !rule.write) continue;
    if (!NamesSubject(rule, identity) || !NamesTarget(rule, target)) continue;
    bool applies = rule.paths.empty();
    for (const DataPath& subtree : rule.paths) {
      // A deny covers any request that reaches into its subtree; an allow
      // only requests entirely inside its subtree.
      if (rule.allow ? Within(path, subtree) : Overlaps(path, subtree)) {
        applies = true;
        break;
      }
    }
    if (!applies) continue;
    if (rule.allow) return absl::OkStatus();
    return absl::PermissionDeniedError(
        Denied(identity, target, path, access,
               absl::StrCat("rule '", rule.name, "'")));
  }
  if (policy->default_allow) return absl::OkStatus();
  return absl::PermissionDeniedError(
      Denied(identity, target, path, access, "the default policy (deny)"));
}

}  // namespace southgate::security
