// Users and roles: the account model shared by the configuration (which
// lists users) and the authenticator (which checks them). Header-only so
// that the config library need not link the security library.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace southgate::security {

// What an authenticated user may do. Ordered: each role includes the
// rights of the ones before it.
enum class Role { kReadOnly, kReadWrite, kAdmin };

inline const char* RoleName(Role role) {
  switch (role) {
    case Role::kReadOnly:
      return "read-only";
    case Role::kReadWrite:
      return "read-write";
    case Role::kAdmin:
      return "admin";
  }
  return "unknown";
}

// Parses "read-only", "read-write" or "admin"; nullopt for anything else.
inline std::optional<Role> ParseRole(std::string_view text) {
  if (text == "read-only") return Role::kReadOnly;
  if (text == "read-write") return Role::kReadWrite;
  if (text == "admin") return Role::kAdmin;
  return std::nullopt;
}

// Where a verified client certificate names its user (if at all).
enum class CertIdentity { kNone, kCommonName, kSubjectAltName };

// One configured account. password_hash is a PHC-encoded argon2id (or
// argon2i) hash as produced by HashPassword().
struct UserEntry {
  std::string name;
  Role role = Role::kReadOnly;
  std::string password_hash;
};

// True when `encoded` looks like a PHC argon2id/argon2i string (prefix and
// field structure); does not check any password.
inline bool IsArgon2Hash(std::string_view encoded) {
  if (!encoded.starts_with("$argon2id$") && !encoded.starts_with("$argon2i$")) {
    return false;
  }
  // "", "argon2id", ["v=19"], "m=..,t=..,p=..", salt, hash
  std::vector<std::string_view> parts;
  size_t begin = 0;
  while (true) {
    size_t next = encoded.find('$', begin);
    parts.push_back(encoded.substr(begin, next == std::string_view::npos
                                              ? std::string_view::npos
                                              : next - begin));
    if (next == std::string_view::npos) break;
    begin = next + 1;
  }
  if (parts.size() != 5 && parts.size() != 6) return false;
  size_t params = parts.size() == 6 ? 3 : 2;
  if (parts.size() == 6 && !parts[2].starts_with("v=")) return false;
  if (!parts[params].starts_with("m=") ||
      parts[params].find(",t=") == std::string_view::npos ||
      parts[params].find(",p=") == std::string_view::npos) {
    return false;
  }
  return !parts[params + 1].empty() && !parts[params + 2].empty();
}

}  // namespace southgate::security
