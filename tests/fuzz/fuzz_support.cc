#include "fuzz_support.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "google/protobuf/stubs/logging.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace southgate::fuzz {
namespace {

using json = nlohmann::json;

// A harness that cannot set itself up is broken, not a finding.
[[noreturn]] void SetupFailed(const std::string& what) {
  std::fprintf(stderr, "fuzz harness set-up failed: %s\n", what.c_str());
  std::abort();
}

json ReadJson(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  json parsed = json::parse(text.str(), nullptr, false);
  if (!in || parsed.is_discarded()) SetupFailed("cannot read " + path);
  return parsed;
}

// One value of every sg-test leaf type, two list entries, a two-key list.
constexpr char kSgTestData[] = R"({
  "sg-test:top": {
    "name": "abc", "small": -3, "count": 7, "big": "-9000000000",
    "ubig": "18000000000000000000", "ratio": "3.14", "flag": false,
    "marker": [null], "blob": "aGVsbG8=", "color": "sg-test-base:red",
    "mode": "slow", "either": 5, "tags": ["a", "b c", "it's"],
    "numbers": [1, 2, 65535],
    "item": [
      {"id": 1, "value": "one", "required": "x",
       "state": {"counter": "12", "temperature": "36.6"}},
      {"id": 2, "value": "two", "required": "y"}
    ],
    "pair": [{"a": "k'1", "b": -2, "note": "quote"},
             {"a": "k\"2", "b": 3}],
    "status": {"uptime": 100},
    "sg-test-aug:extra": {"level": 3}
  },
  "sg-test:other": {"x": "ex"},
  "sg-test-aug:other": {"y": "why"}
})";

}  // namespace

std::vector<std::string> Lines(const uint8_t* data, size_t size) {
  std::vector<std::string> lines;
  std::string current;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == '\n') {
      lines.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(static_cast<char>(data[i]));
    }
  }
  lines.push_back(std::move(current));
  return lines;
}

std::string SourceDir() { return SOUTHGATE_SOURCE_DIR; }
std::string SharedDir() { return SOUTHGATE_SHARED_DIR; }
std::string PluginDir() { return SOUTHGATE_PLUGIN_DIR; }

std::shared_ptr<const schema::YangContext> MixedContext() {
  static const std::shared_ptr<const schema::YangContext> context = [] {
    auto built = schema::YangContext::Build(
        {SourceDir() + "/tests/schema/yang", "/usr/share/yuma/modules/ietf",
         SharedDir() + "/yang/openconfig/release/models",
         SharedDir() + "/yang/openconfig/third_party"},
        {{"sg-test", "", {}},
         {"sg-test-aug", "", {}},
         {"ietf-interfaces", "", {"*"}},
         {"ietf-ip", "", {"*"}},
         {"iana-if-type", "", {}},
         {"ietf-system", "", {}},
         {"ietf-hardware", "", {}},
         {"iana-hardware", "", {}},
         {"openconfig-interfaces", "", {}},
         {"openconfig-system", "", {}}});
    if (!built.ok()) SetupFailed(built.status().ToString());
    return *built;
  }();
  return context;
}

const schema::DataTree& MixedData() {
  static const schema::DataTree* tree = [] {
    json doc = json::parse(kSgTestData);
    for (const char* seed : {"/examples/sim/ietf-default.json",
                             "/examples/sim/openconfig-default.json"}) {
      doc.update(ReadJson(SourceDir() + seed));
    }
    auto parsed = schema::DataTree::ParseJsonIetf(
        MixedContext(), doc.dump(), schema::DataTree::Parse::kPartial);
    if (!parsed.ok()) SetupFailed(parsed.status().ToString());
    // Reachable for the process's life: never a leak report.
    return new schema::DataTree(*std::move(parsed));
  }();
  return *tree;
}

bool WireValid(const google::protobuf::Message& message) {
  std::unique_ptr<google::protobuf::Message> copy(message.New());
  return copy->ParseFromString(message.SerializeAsString());
}

void QuietLogs() {
  spdlog::set_level(spdlog::level::off);
  // The Gateway is never destroyed, so its threads (e.g. the telemetry
  // hub's reaper) may still call spdlog while exit() destroys spdlog's
  // registry, which frees the default logger under them (a heap
  // use-after-free seen once in CI). One reference that is never released
  // keeps the logger itself alive for the whole process.
  static auto* const kept_alive =
      new std::shared_ptr<spdlog::logger>(spdlog::default_logger());
  (void)kept_alive;
  // protobuf logs every non-UTF-8 string it refuses (see WireValid).
  google::protobuf::SetLogHandler(nullptr);
}

}  // namespace southgate::fuzz
