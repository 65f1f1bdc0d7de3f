#include "security/authenticator.h"

#include <thread>

#include "gtest/gtest.h"
#include "security/passwords.h"

namespace southgate::security {
namespace {

std::vector<UserEntry> Users() {
  return {
      {"alice", Role::kReadOnly, HashPassword("alice-pw").value()},
      {"bob", Role::kReadWrite, HashPassword("bob-pw").value()},
      {"root", Role::kAdmin, HashPassword("root-pw").value()},
  };
}

TEST(AuthenticatorTest, AcceptsValidCredentialsWithRoles) {
  Authenticator auth(Users());
  auto alice = auth.Authenticate("alice", "alice-pw");
  ASSERT_TRUE(alice.ok()) << alice.status();
  EXPECT_EQ(alice->user, "alice");
  EXPECT_EQ(alice->role, Role::kReadOnly);
  EXPECT_FALSE(MayWrite(*alice));
  EXPECT_FALSE(IsAdmin(*alice));

  auto bob = auth.Authenticate("bob", "bob-pw");
  ASSERT_TRUE(bob.ok());
  EXPECT_TRUE(MayWrite(*bob));
  EXPECT_FALSE(IsAdmin(*bob));

  auto root = auth.Authenticate("root", "root-pw");
  ASSERT_TRUE(root.ok());
  EXPECT_TRUE(MayWrite(*root));
  EXPECT_TRUE(IsAdmin(*root));
}

TEST(AuthenticatorTest, UnknownUserAndWrongPasswordLookTheSame) {
  Authenticator auth(Users());
  auto unknown = auth.Authenticate("mallory", "alice-pw");
  auto wrong = auth.Authenticate("alice", "bob-pw");
  ASSERT_FALSE(unknown.ok());
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(unknown.status(), wrong.status());
  EXPECT_EQ(unknown.status().message(), "invalid username or password");
  // The unknown user still paid an argon2 verification.
  EXPECT_EQ(auth.verifications(), 2u);
}

TEST(AuthenticatorTest, CacheHitsButStillRejectsWrongPasswords) {
  Authenticator auth(Users());
  ASSERT_TRUE(auth.Authenticate("bob", "bob-pw").ok());
  ASSERT_TRUE(auth.Authenticate("bob", "bob-pw").ok());
  ASSERT_TRUE(auth.Authenticate("bob", "bob-pw").ok());
  EXPECT_EQ(auth.verifications(), 1u);
  EXPECT_EQ(auth.cache_hits(), 2u);
  EXPECT_FALSE(auth.Authenticate("bob", "bob-pw2").ok());
  EXPECT_FALSE(auth.Authenticate("bob", "").ok());
  EXPECT_FALSE(auth.Authenticate("alice", "bob-pw").ok());
  EXPECT_EQ(auth.cache_hits(), 2u);
}

TEST(AuthenticatorTest, CacheExpiresAndIsBounded) {
  Authenticator::Options options;
  options.cache_ttl = absl::Milliseconds(50);
  options.cache_capacity = 1;
  Authenticator auth(Users(), options);
  ASSERT_TRUE(auth.Authenticate("bob", "bob-pw").ok());
  absl::SleepFor(absl::Milliseconds(80));
  ASSERT_TRUE(auth.Authenticate("bob", "bob-pw").ok());
  EXPECT_EQ(auth.verifications(), 2u);
  // Capacity 1: alice evicts bob.
  ASSERT_TRUE(auth.Authenticate("alice", "alice-pw").ok());
  ASSERT_TRUE(auth.Authenticate("bob", "bob-pw").ok());
  EXPECT_EQ(auth.verifications(), 4u);
}

TEST(AuthenticatorTest, CacheCanBeDisabled) {
  Authenticator::Options options;
  options.cache_capacity = 0;
  Authenticator auth(Users(), options);
  ASSERT_TRUE(auth.Authenticate("bob", "bob-pw").ok());
  ASSERT_TRUE(auth.Authenticate("bob", "bob-pw").ok());
  EXPECT_EQ(auth.verifications(), 2u);
  EXPECT_EQ(auth.cache_hits(), 0u);
}

TEST(AuthenticatorTest, ThreadSafe) {
  Authenticator auth(Users());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 5; ++j) {
        if (auth.Authenticate("bob", "bob-pw").ok()) ++ok;
        if (!auth.Authenticate("bob", "nope").ok()) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 40);
}

}  // namespace
}  // namespace southgate::security
