// Users and roles: the account model shared by the configuration (which
// lists users) and the authenticator (which checks them). Header-only so
// that the config library need not link the security library.
#pragma once

#include <optional>
#include <string>
#include <string_view>

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

// One configured account. password_hash is a PHC-encoded argon2id (or
// argon2i) hash as produced by HashPassword().
struct UserEntry {
  std::string name;
  Role role = Role::kReadOnly;
  std::string password_hash;
};

}  // namespace southgate::security
