#include "security/audit_log.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace southgate::security {
namespace {

namespace fs = std::filesystem;

std::vector<nlohmann::json> Lines(const std::string& path) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

TEST(AuditLogTest, OneJsonLinePerRecordAndReopenAfterRotation) {
  fs::path dir = fs::temp_directory_path() /
                 ("southgate_audit_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "audit.log").string();
  auto log = AuditLog::Open(path);
  ASSERT_TRUE(log.ok()) << log.status();
  (*log)->Write({"alice",
                 "ipv4:127.0.0.1:1",
                 "r1",
                 "Set",
                 {"/a", "/b[k=\"quoted\"]"},
                 "OK",
                 ""});
  (*log)->Write({"bob",
                 "ipv4:127.0.0.1:2",
                 "r1",
                 "Get",
                 {"/"},
                 "PERMISSION_DENIED",
                 "denied by rule 'x'"});
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::others_all,
            fs::perms::none);
  auto lines = Lines(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["user"], "alice");
  EXPECT_EQ(lines[0]["paths"][1], "/b[k=\"quoted\"]");
  EXPECT_EQ(lines[0]["result"], "OK");
  EXPECT_FALSE(lines[0].contains("message"));
  EXPECT_THAT(lines[0]["time"].get<std::string>(),
              ::testing::MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z"));
  EXPECT_EQ(lines[1]["message"], "denied by rule 'x'");

  fs::rename(path, path + ".1");
  ASSERT_TRUE((*log)->Reopen().ok());
  (*log)->Write({"carol", "p", "r2", "Set", {}, "OK", ""});
  EXPECT_EQ(Lines(path).size(), 1u);
  EXPECT_EQ(Lines(path + ".1").size(), 2u);
  fs::remove_all(dir);
}

TEST(AuditLogTest, UnwritablePathIsAnError) {
  auto log = AuditLog::Open("/nonexistent-dir/audit.log");
  EXPECT_FALSE(log.ok());
  EXPECT_THAT(std::string(log.status().message()),
              ::testing::HasSubstr("/nonexistent-dir/audit.log"));
}

}  // namespace
}  // namespace southgate::security
