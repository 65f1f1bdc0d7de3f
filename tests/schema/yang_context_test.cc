#include "schema/yang_context.h"

#include <algorithm>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_util.h"

namespace southgate::schema {
namespace {

using ::testing::Contains;
using ::testing::Field;
using testing::kIetfDir;
using ::testing::Not;
using testing::TestYangDir;

const ModelInfo* FindModel(const std::vector<ModelInfo>& models,
                           const std::string& name) {
  for (const auto& model : models) {
    if (model.name == name) return &model;
  }
  return nullptr;
}

TEST(YangContextTest, LoadsIetfModules) {
  auto context = YangContext::Build({kIetfDir}, {{"ietf-interfaces", "", {"*"}},
                                                 {"iana-if-type", "", {}},
                                                 {"ietf-ip", "", {"*"}},
                                                 {"ietf-system", "", {"*"}},
                                                 {"ietf-hardware", "", {"*"}},
                                                 {"iana-hardware", "", {}}});
  ASSERT_TRUE(context.ok()) << context.status();
  const auto& models = (*context)->Models();
  const ModelInfo* interfaces = FindModel(models, "ietf-interfaces");
  ASSERT_NE(interfaces, nullptr);
  EXPECT_EQ(interfaces->version, "2014-05-08");
  EXPECT_EQ(interfaces->organization,
            "IETF NETMOD (NETCONF Data Modeling Language) Working Group");
  const ModelInfo* system = FindModel(models, "ietf-system");
  ASSERT_NE(system, nullptr);
  EXPECT_EQ(system->version, "2014-08-06");
  ASSERT_NE(FindModel(models, "ietf-hardware"), nullptr);
  EXPECT_EQ(FindModel(models, "ietf-hardware")->version, "2018-03-13");
  EXPECT_NE(FindModel(models, "iana-if-type"), nullptr);
  EXPECT_NE(FindModel(models, "iana-hardware"), nullptr);
  EXPECT_NE(FindModel(models, "ietf-ip"), nullptr);
  // libyang's own modules are not reported unless asked for.
  EXPECT_EQ(FindModel(models, "yang"), nullptr);
  EXPECT_EQ(FindModel(models, "ietf-yang-library"), nullptr);
  EXPECT_EQ(FindModel(models, "ietf-yang-metadata"), nullptr);
  EXPECT_TRUE(std::is_sorted(
      models.begin(), models.end(),
      [](const ModelInfo& a, const ModelInfo& b) { return a.name < b.name; }));
}

TEST(YangContextTest, OrganizationIsFirstLineTrimmed) {
  auto context =
      YangContext::Build({TestYangDir()}, {{"sg-test-base", "", {}}});
  ASSERT_TRUE(context.ok()) << context.status();
  const ModelInfo* base = FindModel((*context)->Models(), "sg-test-base");
  ASSERT_NE(base, nullptr);
  EXPECT_EQ(base->organization, "Southgate tests");
  EXPECT_EQ(base->version, "2024-01-02");
}

TEST(YangContextTest, RequestedInternalModuleIsListed) {
  auto context = YangContext::Build({kIetfDir}, {{"ietf-yang-types", "", {}}});
  ASSERT_TRUE(context.ok()) << context.status();
  EXPECT_NE(FindModel((*context)->Models(), "ietf-yang-types"), nullptr);
}

TEST(YangContextTest, UnknownModuleIsNotFound) {
  auto context = YangContext::Build({kIetfDir}, {{"no-such-module", "", {}}});
  ASSERT_FALSE(context.ok());
  EXPECT_EQ(context.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(context.status().message()),
              ::testing::HasSubstr("no-such-module"));
}

TEST(YangContextTest, WrongRevisionFails) {
  auto context =
      YangContext::Build({kIetfDir}, {{"ietf-interfaces", "1999-01-01", {}}});
  EXPECT_FALSE(context.ok());
}

TEST(YangContextTest, OpenConfigModelsCompile) {
  const std::string dir =
      std::string(SOUTHGATE_SHARED_DIR) + "/yang/openconfig";
  auto context =
      YangContext::Build({dir}, {{"openconfig-interfaces", "", {"*"}},
                                 {"openconfig-if-ip", "", {"*"}},
                                 {"openconfig-system", "", {"*"}},
                                 {"openconfig-platform", "", {"*"}}});
  ASSERT_TRUE(context.ok()) << context.status();
  const auto& models = (*context)->Models();
  for (const char* name : {"openconfig-interfaces", "openconfig-if-ip",
                           "openconfig-system", "openconfig-platform"}) {
    const ModelInfo* model = FindModel(models, name);
    ASSERT_NE(model, nullptr) << name;
    // openconfig-version is a semantic version, not a date.
    EXPECT_THAT(model->version,
                ::testing::MatchesRegex("[0-9]+\\.[0-9]+\\.[0-9]+"))
        << name;
    EXPECT_EQ(model->organization, "OpenConfig working group") << name;
  }
}

TEST(ContextCacheTest, SameModuleSetSharesContext) {
  ContextCache cache({kIetfDir});
  auto a = cache.Get({{"ietf-interfaces", "", {}}, {"iana-if-type", "", {}}});
  auto b = cache.Get({{"iana-if-type", "", {}}, {"ietf-interfaces", "", {}}});
  auto c = cache.Get({{"ietf-system", "", {}}});
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(a->get(), b->get());
  EXPECT_NE(a->get(), c->get());
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_FALSE(cache.Get({{"no-such-module", "", {}}}).ok());
  EXPECT_EQ(cache.size(), 2u);
}

TEST(ContextCacheTest, ConcurrentGetsShareOneContext) {
  ContextCache cache({kIetfDir});
  std::vector<const YangContext*> seen(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto context = cache.Get({{"ietf-interfaces", "", {}}});
      seen[i] = context.ok() ? context->get() : nullptr;
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_NE(seen[0], nullptr);
  for (auto* s : seen) EXPECT_EQ(s, seen[0]);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(ModuleSpecTest, Ordering) {
  ModuleSpec a{"a", "", {}}, b{"b", "", {}};
  EXPECT_TRUE(a < b);
  EXPECT_FALSE(b < a);
  EXPECT_EQ(a, (ModuleSpec{"a", "", {}}));
}

}  // namespace
}  // namespace southgate::schema
