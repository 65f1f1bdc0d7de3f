#include "security/passwords.h"

#include <argon2.h>

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "security/tls.h"

namespace southgate::security {
namespace {
constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;
}  // namespace

absl::StatusOr<std::string> HashPassword(std::string_view password) {
  std::string salt;
  auto random = RandomBytes(kSaltBytes);
  if (!random.ok()) return random.status();
  salt = std::move(random).value();
  size_t encoded_len =
      argon2_encodedlen(kArgon2TimeCost, kArgon2MemoryKiB, kArgon2Parallelism,
                        kSaltBytes, kHashBytes, Argon2_id);
  std::vector<char> encoded(encoded_len + 1, '\0');
  int rc = argon2id_hash_encoded(kArgon2TimeCost, kArgon2MemoryKiB,
                                 kArgon2Parallelism, password.data(),
                                 password.size(), salt.data(), salt.size(),
                                 kHashBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) {
    return absl::InternalError(
        absl::StrCat("argon2id hashing failed: ", argon2_error_message(rc)));
  }
  return std::string(encoded.data());
}

bool IsArgon2Hash(std::string_view encoded) {
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

bool VerifyPassword(std::string_view password, std::string_view encoded) {
  std::string encoded_z(encoded);  // libargon2 wants a C string
  int rc;
  if (encoded.starts_with("$argon2id$")) {
    rc = argon2id_verify(encoded_z.c_str(), password.data(), password.size());
  } else if (encoded.starts_with("$argon2i$")) {
    rc = argon2i_verify(encoded_z.c_str(), password.data(), password.size());
  } else {
    return false;
  }
  return rc == ARGON2_OK;
}

}  // namespace southgate::security
