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
