#include "schema/netconf_xml.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "schema/data_tree.h"
#include "test_util.h"

namespace southgate::schema {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kIf[] = "urn:ietf:params:xml:ns:yang:ietf-interfaces";

std::string Eth(const std::string& name, const std::string& extra) {
  return R"({"ietf-interfaces:interfaces":{"interface":[{"name":")" + name +
         R"(","type":"iana-if-type:ethernetCsmacd")" + extra + "}]}}";
}

std::string Path(const std::string& name) {
  return "/ietf-interfaces:interfaces/interface[name='" + name + "']";
}

TEST(NetconfXml, EditsMergeUnderOneAncestorWithOperations) {
  auto xml = BuildEditConfig(
      testing::TestContext(),
      {Edit{Edit::Op::kDelete, Path("gone") + "/description", ""},
       Edit{Edit::Op::kReplace, Path("eth0"),
            Eth("eth0", R"(,"enabled":false)")},
       Edit{Edit::Op::kUpdate, Path("eth1"),
            Eth("eth1", R"(,"description":"a<b")")}});
  ASSERT_TRUE(xml.ok()) << xml.status();
  // One <interfaces>, three entries.
  EXPECT_EQ(xml->find("<interfaces"), xml->rfind("<interfaces"));
  EXPECT_THAT(*xml,
              HasSubstr(std::string("<interfaces xmlns=\"") + kIf + "\">"));
  EXPECT_THAT(*xml,
              HasSubstr("<name>gone</name><description "
                        "xmlns:nc=\"urn:ietf:params:xml:ns:netconf:base:1.0\" "
                        "nc:operation=\"remove\"/>"));
  EXPECT_THAT(*xml, HasSubstr("nc:operation=\"replace\"><name>eth0</name>"));
  EXPECT_THAT(*xml, HasSubstr("nc:operation=\"merge\"><name>eth1</name>"));
  // Identities carry their namespace; text is escaped.
  EXPECT_THAT(
      *xml,
      HasSubstr(
          "xmlns:iana-if-type=\"urn:ietf:params:xml:ns:yang:iana-if-type\">"
          "iana-if-type:ethernetCsmacd</type>"));
  EXPECT_THAT(*xml, HasSubstr("a&lt;b"));
}

TEST(NetconfXml, DeleteThenUpdateOfOneEntryIsAReplace) {
  auto xml =
      BuildEditConfig(testing::TestContext(),
                      {Edit{Edit::Op::kDelete, Path("eth0"), ""},
                       Edit{Edit::Op::kUpdate, Path("eth0"), Eth("eth0", "")}});
  ASSERT_TRUE(xml.ok()) << xml.status();
  EXPECT_THAT(*xml, HasSubstr("nc:operation=\"replace\""));
  EXPECT_THAT(*xml, Not(HasSubstr("remove")));
}

TEST(NetconfXml, BadValuesAreRefusedBeforeAnythingIsBuilt) {
  auto xml = BuildEditConfig(testing::TestContext(),
                             {Edit{Edit::Op::kUpdate, Path("eth0"),
                                   Eth("eth0", R"(,"enabled":"maybe")")}});
  EXPECT_EQ(xml.status().code(), absl::StatusCode::kInvalidArgument);
  auto wildcard = BuildEditConfig(
      testing::TestContext(),
      {Edit{Edit::Op::kDelete,
            "/ietf-interfaces:interfaces/interface/description", ""}});
  EXPECT_EQ(wildcard.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(NetconfXml, SubtreeFiltersStopAtWildcards) {
  auto context = testing::TestContext();
  auto keyed = BuildSubtreeFilter(*context, {Path("eth0") + "/description"});
  ASSERT_TRUE(keyed.ok()) << keyed.status();
  EXPECT_EQ(*keyed, std::string("<interfaces xmlns=\"") + kIf +
                        "\"><interface><name>eth0</name><description/>"
                        "</interface></interfaces>");
  auto wildcard = BuildSubtreeFilter(
      *context, {"/ietf-interfaces:interfaces/interface/description"});
  ASSERT_TRUE(wildcard.ok());
  EXPECT_EQ(*wildcard,
            std::string("<interfaces xmlns=\"") + kIf +
                "\"><interface><description/></interface></interfaces>");
  auto star = BuildSubtreeFilter(*context, {"/ietf-interfaces:interfaces/*"});
  ASSERT_TRUE(star.ok());
  EXPECT_EQ(*star, std::string("<interfaces xmlns=\"") + kIf + "\"/>");
  auto root = BuildSubtreeFilter(*context, {"/", Path("x")});
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(*root, "");
  // A whole subtree wins over a narrower one.
  auto both = BuildSubtreeFilter(*context,
                                 {Path("eth0"), "/ietf-interfaces:interfaces"});
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(*both, std::string("<interfaces xmlns=\"") + kIf + "\"/>");
}

TEST(NetconfXml, XpathFiltersAreTheUnionOfCheckedPaths) {
  auto context = testing::TestContext();
  auto one = BuildXpathFilter(*context, {Path("eth0") + "/description"});
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(*one, Path("eth0") + "/description");
  auto two = BuildXpathFilter(
      *context, {Path("eth0"), "/ietf-interfaces:interfaces/interface/type"});
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(*two,
            Path("eth0") + " | /ietf-interfaces:interfaces/interface/type");
  auto root = BuildXpathFilter(*context, {Path("x"), "/"});
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(*root, "");
  auto unknown = BuildXpathFilter(*context, {"/no-such-module:thing"});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  auto absent = BuildXpathFilter(
      *context, {"/ietf-interfaces:interfaces/interface/no-such-leaf"});
  EXPECT_EQ(absent.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(NetconfXml, ParseXmlSkipsUnknownModules) {
  auto tree = DataTree::ParseXml(
      testing::TestContext(),
      std::string("<interfaces xmlns=\"") + kIf +
          "\"><interface><name>eth0</name><description>d</description>"
          "</interface></interfaces><other xmlns=\"urn:x\"><a>1</a></other>");
  ASSERT_TRUE(tree.ok()) << tree.status();
  auto json = tree->ToJsonIetf();
  ASSERT_TRUE(json.ok());
  EXPECT_THAT(*json, HasSubstr("\"description\":\"d\""));
  EXPECT_THAT(*json, Not(HasSubstr("urn:x")));
}

}  // namespace
}  // namespace southgate::schema
