#include "security/authorizer.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace southgate::security {
namespace {

using ::testing::HasSubstr;

DataPath P(const std::string& text) {
  std::string error;
  auto path = ParseDataPath(text, &error);
  EXPECT_TRUE(path) << text << ": " << error;
  return path ? *path : DataPath{};
}

AccessRule Rule(const std::string& name, bool allow,
                std::vector<std::string> paths) {
  AccessRule rule;
  rule.name = name;
  rule.allow = allow;
  for (auto& text : paths) {
    rule.paths.push_back(P(text));
    rule.path_texts.push_back(text);
  }
  return rule;
}

const Identity kViewer{"viewer", Role::kReadOnly};
const Identity kOps{"ops", Role::kReadWrite};
const Identity kAdmin{"root", Role::kAdmin};

TEST(DataPathTest, ParsesKeysAndStripsModules) {
  DataPath path = P("/oc-if:interfaces/interface[name=eth0][unit=0]/config");
  ASSERT_EQ(path.size(), 3u);
  EXPECT_EQ(path[0].name, "interfaces");
  EXPECT_EQ(path[1].keys.at("name"), "eth0");
  EXPECT_EQ(path[1].keys.at("unit"), "0");
  EXPECT_EQ(DataPathString(path),
            "/interfaces/interface[name=eth0][unit=0]/config");
  EXPECT_TRUE(P("/").empty());
  std::string error;
  EXPECT_FALSE(ParseDataPath("a/b", &error));
  EXPECT_FALSE(ParseDataPath("/a[x]", &error));
  EXPECT_FALSE(ParseDataPath("/a//b", &error));
}

TEST(DataPathTest, OverlapsAndWithin) {
  EXPECT_TRUE(Overlaps(P("/a"), P("/a/b")));
  EXPECT_TRUE(Overlaps(P("/a/b"), P("/a")));
  EXPECT_TRUE(Overlaps(P("/"), P("/a/b")));
  EXPECT_FALSE(Overlaps(P("/a/c"), P("/a/b")));
  EXPECT_TRUE(Overlaps(P("/a/i"), P("/a/i[k=1]")));
  EXPECT_TRUE(Overlaps(P("/a/i[k=*]"), P("/a/i[k=1]")));
  EXPECT_FALSE(Overlaps(P("/a/i[k=2]"), P("/a/i[k=1]")));

  EXPECT_TRUE(Within(P("/a/b/c"), P("/a/b")));
  EXPECT_TRUE(Within(P("/a/b"), P("/a/b")));
  EXPECT_FALSE(Within(P("/a"), P("/a/b")));
  EXPECT_FALSE(Within(P("/a/i/x"), P("/a/i[k=1]")));  // all entries
  EXPECT_TRUE(Within(P("/a/i[k=1]/x"), P("/a/i[k=1]")));
  EXPECT_TRUE(Within(P("/a/i[k=1]/x"), P("/a/i")));
}

TEST(AuthorizerTest, RolesDecideWithoutRules) {
  Authorizer authorizer({}, true);
  EXPECT_TRUE(authorizer.Check(kViewer, "r1", P("/a"), Access::kRead).ok());
  absl::Status status =
      authorizer.Check(kViewer, "r1", P("/a"), Access::kWrite);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(status.message(), HasSubstr("role read-only"));
  EXPECT_TRUE(authorizer.Check(kOps, "r1", P("/a"), Access::kWrite).ok());
}

TEST(AuthorizerTest, DenyCoversAnythingReachingIntoTheSubtree) {
  AccessRule deny = Rule("no-aaa", false, {"/system/aaa"});
  deny.targets = {"r1"};
  Authorizer authorizer({deny}, true);
  for (const char* path : {"/system/aaa/users", "/system", "/"}) {
    absl::Status status = authorizer.Check(kOps, "r1", P(path), Access::kRead);
    EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << path;
    EXPECT_THAT(status.message(), HasSubstr("rule 'no-aaa'"));
  }
  EXPECT_TRUE(
      authorizer.Check(kOps, "r1", P("/system/clock"), Access::kRead).ok());
  EXPECT_TRUE(
      authorizer.Check(kOps, "r2", P("/system/aaa"), Access::kRead).ok());
  // Admins are not subject to rules.
  EXPECT_TRUE(
      authorizer.Check(kAdmin, "r1", P("/system/aaa"), Access::kWrite).ok());
}

TEST(AuthorizerTest, FirstApplicableRuleWinsAndAllowNeedsAFullMatch) {
  AccessRule allow = Rule("ops-interfaces", true, {"/interfaces"});
  allow.users = {"ops"};
  allow.read = false;  // writes only
  AccessRule deny_writes = Rule("ops-no-writes", false, {});
  deny_writes.users = {"ops"};
  deny_writes.read = false;
  Authorizer authorizer({allow, deny_writes}, true);
  EXPECT_TRUE(authorizer
                  .Check(kOps, "r1", P("/interfaces/interface[name=e1]"),
                         Access::kWrite)
                  .ok());
  // "/" is not inside /interfaces: the allow does not apply, the deny does.
  absl::Status status = authorizer.Check(kOps, "r1", P("/"), Access::kWrite);
  EXPECT_THAT(status.message(), HasSubstr("rule 'ops-no-writes'"));
  status = authorizer.Check(kOps, "r1", P("/system"), Access::kWrite);
  EXPECT_THAT(status.message(), HasSubstr("rule 'ops-no-writes'"));
  // Reads are untouched by write-only rules.
  EXPECT_TRUE(authorizer.Check(kOps, "r1", P("/system"), Access::kRead).ok());
}

TEST(AuthorizerTest, DefaultDenyAndRoleSubjects) {
  AccessRule allow = Rule("viewers-read-interfaces", true, {"/interfaces"});
  allow.roles = {Role::kReadOnly};
  Authorizer authorizer({allow}, false);
  EXPECT_TRUE(
      authorizer.Check(kViewer, "r1", P("/interfaces"), Access::kRead).ok());
  absl::Status status =
      authorizer.Check(kViewer, "r1", P("/system"), Access::kRead);
  EXPECT_THAT(status.message(), HasSubstr("the default policy (deny)"));
  status = authorizer.Check(kOps, "r1", P("/interfaces"), Access::kRead);
  EXPECT_THAT(status.message(), HasSubstr("the default policy (deny)"));

  authorizer.Replace({}, true);
  EXPECT_TRUE(authorizer.Check(kOps, "r1", P("/system"), Access::kRead).ok());
  EXPECT_EQ(authorizer.rule_count(), 0u);
}

}  // namespace
}  // namespace southgate::security
