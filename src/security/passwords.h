// Password hashing with argon2id (libargon2).
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "security/user.h"  // IsArgon2Hash

namespace southgate::security {

// Cost parameters of new hashes: OWASP's argon2id recommendation
// (19 MiB, 2 iterations, 1 lane), ~20-50 ms per hash on a server core.
inline constexpr uint32_t kArgon2TimeCost = 2;
inline constexpr uint32_t kArgon2MemoryKiB = 19456;
inline constexpr uint32_t kArgon2Parallelism = 1;

// Returns a PHC string "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>" with
// a random 16-byte salt and a 32-byte hash.
absl::StatusOr<std::string> HashPassword(std::string_view password);

// True when `password` matches `encoded` (an "$argon2id$..." or
// "$argon2i$..." string). False for a wrong password or a malformed hash.
// The comparison is constant-time (done by libargon2).
bool VerifyPassword(std::string_view password, std::string_view encoded);

}  // namespace southgate::security
