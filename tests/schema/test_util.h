// Shared contexts for the schema tests.
#pragma once

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "schema/yang_context.h"

namespace southgate::schema::testing {

inline std::string TestYangDir() {
  return std::string(SOUTHGATE_SOURCE_DIR) + "/tests/schema/yang";
}
inline constexpr char kIetfDir[] = "/usr/share/yuma/modules/ietf";

// sg-test (all YANG types), sg-test-aug (augment + clashing top-level name)
// and the IETF interface models.
inline std::shared_ptr<const YangContext> TestContext() {
  static std::shared_ptr<const YangContext> context = [] {
    auto built = YangContext::Build({TestYangDir(), kIetfDir},
                                    {{"sg-test", "", {}},
                                     {"sg-test-aug", "", {}},
                                     {"ietf-interfaces", "", {"*"}},
                                     {"ietf-ip", "", {"*"}},
                                     {"iana-if-type", "", {}}});
    EXPECT_TRUE(built.ok()) << built.status();
    return built.ok() ? *built : nullptr;
  }();
  return context;
}

}  // namespace southgate::schema::testing
