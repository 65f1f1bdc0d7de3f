#include "security/users_file.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace southgate::security {
namespace {

namespace fs = std::filesystem;

TEST(UsersFileTest, RoundTripAndAbsentFile) {
  const std::string path =
      (fs::temp_directory_path() /
       ("southgate_users_" + std::to_string(::getpid()) + ".yaml"))
          .string();
  fs::remove(path);
  auto none = ReadUsersFile(path);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  std::vector<UserEntry> users = {
      {"alice", Role::kReadWrite, "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA"},
      {"carol", Role::kAdmin, ""}};
  ASSERT_TRUE(WriteUsersFile(path, users).ok());
  EXPECT_EQ(fs::status(path).permissions() &
                (fs::perms::group_all | fs::perms::others_all),
            fs::perms::none);
  auto read = ReadUsersFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[0].name, "alice");
  EXPECT_EQ((*read)[0].role, Role::kReadWrite);
  EXPECT_EQ((*read)[0].password_hash, users[0].password_hash);
  EXPECT_EQ((*read)[1].role, Role::kAdmin);
  EXPECT_TRUE((*read)[1].password_hash.empty());

  std::ofstream(path) << "users:\n  - name: x\n    role: god\n";
  EXPECT_FALSE(ReadUsersFile(path).ok());
  fs::remove(path);
}

}  // namespace
}  // namespace southgate::security
