#include "security/passwords.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace southgate::security {
namespace {

TEST(PasswordsTest, HashVerifyRoundTrip) {
  auto hash = HashPassword("s3cret!");
  ASSERT_TRUE(hash.ok()) << hash.status();
  EXPECT_TRUE(absl::StartsWith(*hash, "$argon2id$v=19$m=19456,t=2,p=1$"))
      << *hash;
  EXPECT_TRUE(IsArgon2Hash(*hash));
  EXPECT_TRUE(VerifyPassword("s3cret!", *hash));
  EXPECT_FALSE(VerifyPassword("s3cret", *hash));
  EXPECT_FALSE(VerifyPassword("", *hash));
}

TEST(PasswordsTest, SaltsDiffer) {
  auto a = HashPassword("same");
  auto b = HashPassword("same");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
}

TEST(PasswordsTest, MalformedHashesNeverVerify) {
  EXPECT_FALSE(VerifyPassword("x", ""));
  EXPECT_FALSE(VerifyPassword("x", "plaintext"));
  EXPECT_FALSE(VerifyPassword("x", "$2b$12$abcdefghijklmnopqrstuv"));
  EXPECT_FALSE(VerifyPassword("x", "$argon2id$garbage"));
  EXPECT_FALSE(IsArgon2Hash("$2b$12$abc"));
  EXPECT_FALSE(IsArgon2Hash("$argon2id$v=19$m=65536,t=3,p=1$..."));
  EXPECT_FALSE(IsArgon2Hash("$argon2d$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA"));
  EXPECT_TRUE(IsArgon2Hash("$argon2i$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA"));
}

}  // namespace
}  // namespace southgate::security
