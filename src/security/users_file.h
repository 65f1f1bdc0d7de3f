// The users file (`users.file` in the configuration): YAML
//   users:
//     - name: alice
//       role: read-write
//       password_hash: "$argon2id$..."
// read and written by `southgated user add|del|list`. The daemon itself
// reads it through the configuration loader (strict validation).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/user.h"

namespace southgate::security {

// The users in `path`; an empty list when the file does not exist.
absl::StatusOr<std::vector<UserEntry>> ReadUsersFile(const std::string& path);

// Replaces `path` (atomically, mode 0600) with `users`.
absl::Status WriteUsersFile(const std::string& path,
                            const std::vector<UserEntry>& users);

}  // namespace southgate::security
