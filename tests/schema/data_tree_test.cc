#include "schema/data_tree.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "test_util.h"

namespace southgate::schema {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using json = nlohmann::json;

constexpr char kDoc[] = R"({
  "sg-test:top": {
    "name": "abc",
    "big": "9000000000",
    "tags": ["x", "y"],
    "item": [
      {"id": 1, "value": "one", "required": "r",
       "state": {"counter": "5", "temperature": "21.5"}},
      {"id": 2, "value": "two", "required": "r"}
    ],
    "status": {"uptime": 77},
    "sg-test-aug:extra": {"level": 3}
  },
  "ietf-interfaces:interfaces": {
    "interface": [{"name": "eth0", "type": "iana-if-type:ethernetCsmacd",
                   "ietf-ip:ipv4": {"mtu": 1500}}]
  }
})";

DataTree Parse(const std::string& text = kDoc) {
  auto tree = DataTree::ParseJsonIetf(testing::TestContext(), text,
                                      DataTree::Parse::kValidate);
  EXPECT_TRUE(tree.ok()) << tree.status();
  return tree.ok() ? std::move(*tree) : DataTree(testing::TestContext());
}

json ToJson(const DataTree& tree) {
  auto text = tree.ToJsonIetf();
  EXPECT_TRUE(text.ok()) << text.status();
  return json::parse(text.ok() ? *text : "{}");
}

TEST(DataTreeTest, EmptyTree) {
  DataTree tree(testing::TestContext());
  EXPECT_TRUE(tree.empty());
  EXPECT_EQ(*tree.ToJsonIetf(), "{}");
  auto found = tree.Find("/sg-test:top");
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found->empty());
  auto parsed = DataTree::ParseJsonIetf(testing::TestContext(), "",
                                        DataTree::Parse::kPartial);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->empty());
}

TEST(DataTreeTest, ParseAndPrintRoundTrip) {
  DataTree tree = Parse();
  json doc = ToJson(tree);
  EXPECT_EQ(doc["sg-test:top"]["name"], "abc");
  EXPECT_EQ(doc["sg-test:top"]["big"], "9000000000");
  EXPECT_EQ(doc["sg-test:top"]["sg-test-aug:extra"]["level"], 3);
  EXPECT_EQ(
      doc["ietf-interfaces:interfaces"]["interface"][0]["ietf-ip:ipv4"]["mtu"],
      1500);
}

TEST(DataTreeTest, ParseRejectsBadData) {
  auto bad_type = DataTree::ParseJsonIetf(testing::TestContext(),
                                          R"({"sg-test:top":{"small":50}})",
                                          DataTree::Parse::kPartial);
  ASSERT_FALSE(bad_type.ok());
  EXPECT_EQ(bad_type.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad_type.status().message()), HasSubstr("small"));
  auto unknown = DataTree::ParseJsonIetf(testing::TestContext(),
                                         R"({"sg-test:top":{"nope":1}})",
                                         DataTree::Parse::kPartial);
  EXPECT_FALSE(unknown.ok());
  // Missing mandatory leaf: fine for a fragment, not for a validated tree.
  const char* partial = R"({"sg-test:top":{"item":[{"id":9}]}})";
  EXPECT_TRUE(DataTree::ParseJsonIetf(testing::TestContext(), partial,
                                      DataTree::Parse::kPartial)
                  .ok());
  auto invalid = DataTree::ParseJsonIetf(testing::TestContext(), partial,
                                         DataTree::Parse::kValidate);
  ASSERT_FALSE(invalid.ok());
  EXPECT_THAT(std::string(invalid.status().message()), HasSubstr("required"));
}

TEST(DataTreeTest, ValidateAddsDefaults) {
  auto tree = DataTree::ParseJsonIetf(testing::TestContext(),
                                      R"({"sg-test:top":{"name":"a"}})",
                                      DataTree::Parse::kPartial);
  ASSERT_TRUE(tree.ok());
  EXPECT_FALSE(tree->LeafValue("/sg-test:top/flag").ok());
  ASSERT_TRUE(tree->Validate().ok());
  EXPECT_EQ(*tree->LeafValue("/sg-test:top/flag"), "true");
}

TEST(DataTreeTest, CloneIsIndependent) {
  DataTree tree = Parse();
  DataTree copy = tree.Clone();
  ASSERT_TRUE(copy.SetLeaf("/sg-test:top/name", "changed").ok());
  EXPECT_EQ(*tree.LeafValue("/sg-test:top/name"), "abc");
  EXPECT_EQ(*copy.LeafValue("/sg-test:top/name"), "changed");
  EXPECT_EQ(copy.context().get(), tree.context().get());
}

TEST(DataTreeTest, ApplyUpdateMerges) {
  DataTree tree = Parse();
  Edit edit{
      Edit::Op::kUpdate, "/sg-test:top/item[id='3']",
      R"({"sg-test:top":{"item":[{"id":3,"value":"three","required":"r"}]}})"};
  ASSERT_TRUE(tree.Apply(edit).ok());
  EXPECT_EQ(*tree.LeafValue("/sg-test:top/item[id='3']/value"), "three");
  EXPECT_EQ(*tree.LeafValue("/sg-test:top/item[id='1']/value"), "one");
  EXPECT_TRUE(tree.Validate().ok());
}

TEST(DataTreeTest, ApplyReplaceDropsOldContent) {
  DataTree tree = Parse();
  Edit edit{Edit::Op::kReplace, "/sg-test:top/item[id='1']",
            R"({"sg-test:top":{"item":[{"id":1,"required":"new"}]}})"};
  ASSERT_TRUE(tree.Apply(edit).ok()) << tree.Apply(edit);
  EXPECT_FALSE(tree.LeafValue("/sg-test:top/item[id='1']/value").ok());
  EXPECT_EQ(*tree.LeafValue("/sg-test:top/item[id='1']/required"), "new");
  EXPECT_EQ(*tree.LeafValue("/sg-test:top/item[id='2']/value"), "two");
}

TEST(DataTreeTest, ApplyDelete) {
  DataTree tree = Parse();
  ASSERT_TRUE(
      tree.Apply({Edit::Op::kDelete, "/sg-test:top/item[id='2']", ""}).ok());
  EXPECT_THAT(*tree.Find("/sg-test:top/item"),
              ElementsAre("/sg-test:top/item[id='1']"));
  // Absent: not an error.
  EXPECT_TRUE(
      tree.Apply({Edit::Op::kDelete, "/sg-test:top/item[id='42']", ""}).ok());
  // Deleting a whole top-level node, including the first sibling.
  ASSERT_TRUE(tree.Apply({Edit::Op::kDelete, "/sg-test:top", ""}).ok());
  ASSERT_TRUE(
      tree.Apply({Edit::Op::kDelete, "/ietf-interfaces:interfaces", ""}).ok());
  // Only implicit (default) empty containers may remain.
  EXPECT_EQ(*tree.ToJsonIetf(), "{}");
}

TEST(DataTreeTest, ApplyRejectsBadDocument) {
  DataTree tree = Parse();
  auto status = tree.Apply({Edit::Op::kUpdate, "/sg-test:top/small",
                            R"({"sg-test:top":{"small":99}})"});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
}

TEST(DataTreeTest, FailedTransactionOnCloneLeavesOriginal) {
  DataTree tree = Parse();
  const std::string before = *tree.ToJsonIetf();
  DataTree candidate = tree.Clone();
  ASSERT_TRUE(candidate
                  .Apply({Edit::Op::kUpdate, "/sg-test:top/item[id='5']",
                          R"({"sg-test:top":{"item":[{"id":5}]}})"})
                  .ok());
  absl::Status status = candidate.Validate();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("required"));
  EXPECT_EQ(*tree.ToJsonIetf(), before);
  EXPECT_TRUE(tree.Validate().ok());
}

TEST(DataTreeTest, SelectAll) {
  DataTree tree = Parse();
  auto selected =
      tree.Select({"/sg-test:top/item[id='1']/value"}, DataType::kAll);
  ASSERT_TRUE(selected.ok()) << selected.status();
  json doc = ToJson(*selected);
  EXPECT_EQ(
      doc, json::parse(R"({"sg-test:top":{"item":[{"id":1,"value":"one"}]}})"));
  auto root = tree.Select({"/"}, DataType::kAll);
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(ToJson(*root), ToJson(tree));
  auto none = tree.Select({"/sg-test:other"}, DataType::kAll);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(DataTreeTest, SelectConfig) {
  DataTree tree = Parse();
  auto selected = tree.Select({"/sg-test:top"}, DataType::kConfig);
  ASSERT_TRUE(selected.ok()) << selected.status();
  json top = ToJson(*selected)["sg-test:top"];
  EXPECT_EQ(top["name"], "abc");
  EXPECT_FALSE(top.contains("status"));
  EXPECT_FALSE(top["item"][0].contains("state"));
  EXPECT_EQ(top["item"][1]["value"], "two");
}

TEST(DataTreeTest, SelectState) {
  DataTree tree = Parse();
  auto selected = tree.Select({"/sg-test:top", "/ietf-interfaces:interfaces"},
                              DataType::kState);
  ASSERT_TRUE(selected.ok()) << selected.status();
  json doc = ToJson(*selected);
  EXPECT_EQ(doc, json::parse(R"({"sg-test:top":{
      "item":[{"id":1,"state":{"counter":"5","temperature":"21.5"}}],
      "status":{"uptime":77}}})"));
  auto operational =
      tree.Select({"/sg-test:top/status"}, DataType::kOperational);
  ASSERT_TRUE(operational.ok());
  EXPECT_EQ(ToJson(*operational)["sg-test:top"]["status"]["uptime"], 77);
}

TEST(DataTreeTest, FindAndLeafValue) {
  DataTree tree = Parse();
  auto found = tree.Find("/sg-test:top/item/value");
  ASSERT_TRUE(found.ok());
  EXPECT_THAT(*found, ElementsAre("/sg-test:top/item[id='1']/value",
                                  "/sg-test:top/item[id='2']/value"));
  EXPECT_EQ(*tree.LeafValue("/sg-test:top/big"), "9000000000");
  EXPECT_EQ(tree.LeafValue("/sg-test:top/count").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_FALSE(tree.Find("/sg-test:top/[").ok());
}

TEST(DataTreeTest, SetLeafCreatesParents) {
  DataTree tree(testing::TestContext());
  ASSERT_TRUE(tree.SetLeaf("/sg-test:top/item[id='7']/value", "seven").ok());
  ASSERT_TRUE(tree.SetLeaf("/sg-test:other/x", "x").ok());
  ASSERT_TRUE(tree.SetLeaf("/sg-test:top/item[id='7']/value", "again").ok());
  EXPECT_EQ(*tree.LeafValue("/sg-test:top/item[id='7']/value"), "again");
  EXPECT_EQ(*tree.LeafValue("/sg-test:other/x"), "x");
  EXPECT_EQ(tree.SetLeaf("/sg-test:top/small", "100").code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DataTreeTest, Leaves) {
  DataTree tree = Parse();
  auto leaves = tree.Leaves("/sg-test:top/item[id='1']");
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  std::map<std::string, std::string> got;
  for (const auto& leaf : *leaves) got[leaf.xpath] = leaf.json_value;
  EXPECT_EQ(got["/sg-test:top/item[id='1']/id"], "1");
  EXPECT_EQ(got["/sg-test:top/item[id='1']/value"], "\"one\"");
  EXPECT_EQ(got["/sg-test:top/item[id='1']/state/counter"], "\"5\"");
  EXPECT_EQ(got["/sg-test:top/item[id='1']/state/temperature"], "\"21.5\"");
  EXPECT_EQ(got.size(), 5u);
  auto tags = tree.Leaves("/sg-test:top/tags");
  ASSERT_TRUE(tags.ok());
  ASSERT_EQ(tags->size(), 1u);
  EXPECT_EQ((*tags)[0].xpath, "/sg-test:top/tags");
  EXPECT_EQ((*tags)[0].json_value, R"(["x","y"])");
}

}  // namespace
}  // namespace southgate::schema
