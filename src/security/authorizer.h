// Decides whether an authenticated user may read or change a subtree of a
// target: first the role (writes need read-write or admin), then the
// configured rules in order; the first rule that applies decides. Admins
// are not subject to rules. See docs/security.md, "Authorization".
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "security/access_rule.h"
#include "security/authenticator.h"

namespace southgate::security {

class Authorizer {
 public:
  Authorizer(std::vector<AccessRule> rules, bool default_allow);

  // OK, or PERMISSION_DENIED naming what denied it: "rule 'x'", "role
  // read-only" or "the default policy (deny)". `path` is the request's
  // full path (prefix joined), module prefixes stripped.
  absl::Status Check(const Identity& identity, std::string_view target,
                     const DataPath& path, Access access) const;

  // Live reload: the new rules apply to the next request.
  void Replace(std::vector<AccessRule> rules, bool default_allow);
  size_t rule_count() const;

 private:
  struct Policy {
    std::vector<AccessRule> rules;
    bool default_allow = true;
  };
  mutable absl::Mutex mu_;
  std::shared_ptr<const Policy> policy_ ABSL_GUARDED_BY(mu_);
};

// "/a/b[k=v]" form of a path, for messages and the audit log.
std::string DataPathString(const DataPath& path);

// Whether two subtrees share any node (one contains the other).
bool Overlaps(const DataPath& a, const DataPath& b);
// Whether every node of `inner` lies in the subtree `outer`.
bool Within(const DataPath& inner, const DataPath& outer);

}  // namespace southgate::security
