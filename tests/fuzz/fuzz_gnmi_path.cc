// gNMI path handling: gnmic-style path text -> gnmi.Path (the data-path
// parser), gnmi.Path -> XPath against a mixed IETF/OpenConfig/sg-test
// schema, and the nodes that XPath selects back out as gNMI updates.
//
// Input: line 1 the origin, line 2 the prefix, every further line a path,
// e.g. "openconfig\n/\n/interfaces/interface[name=eth0]/state/counters".
// Oracle (besides the sanitizers): every path the daemon sends out in an
// update resolves when a client sends it back.
#include <cstdio>
#include <cstdlib>

#include "fuzz_support.h"
#include "schema/gnmi_translator.h"

namespace southgate::fuzz {
namespace {

constexpr size_t kMaxPaths = 8;

const schema::GnmiTranslator& Translator() {
  static const auto* translator = new schema::GnmiTranslator(MixedContext());
  return *translator;
}

void CheckRoundTrip(const gnmi::Update& update, const std::string& xpath) {
  gnmi::Path empty;
  auto back = Translator().ToXPath(empty, update.path());
  if (back.ok()) return;
  std::fprintf(stderr, "update path of %s does not resolve: %s\npath: %s\n",
               xpath.c_str(), back.status().ToString().c_str(),
               update.path().ShortDebugString().c_str());
  std::abort();
}

void Exercise(const gnmi::Path& prefix, const gnmi::Path& path) {
  const schema::GnmiTranslator& translator = Translator();
  auto resolved = translator.ToXPath(prefix, path);
  if (!resolved.ok()) return;
  (void)translator.ToEdit(Edit::Op::kDelete, prefix, path, nullptr);
  const schema::DataTree& data = MixedData();
  for (gnmi::Encoding encoding : {gnmi::JSON, gnmi::JSON_IETF, gnmi::PROTO}) {
    auto updates = translator.ToUpdates(data, resolved->xpath, encoding);
    if (!updates.ok()) continue;
    for (const gnmi::Update& update : *updates) {
      CheckRoundTrip(update, resolved->xpath);
    }
  }
  // What the sim driver and the telemetry hub do with a subscription path.
  (void)data.Select({resolved->xpath}, DataType::kAll);
  (void)data.Leaves(resolved->xpath);
}

}  // namespace
}  // namespace southgate::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  southgate::fuzz::QuietLogs();
  southgate::fuzz::MixedData();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace southgate;
  using namespace southgate::fuzz;
  std::vector<std::string> lines = Lines(data, size);
  if (lines.size() < 3) return 0;
  const schema::GnmiTranslator& translator = Translator();
  gnmi::Path prefix;
  if (auto parsed = translator.ToGnmiPath(lines[1]); parsed.ok()) {
    prefix = *std::move(parsed);
  }
  prefix.set_origin(lines[0]);
  if (!WireValid(prefix)) return 0;
  for (size_t i = 2; i < lines.size() && i < 2 + kMaxPaths; ++i) {
    auto path = translator.ToGnmiPath(lines[i]);
    if (!path.ok() || !WireValid(*path)) continue;
    Exercise(prefix, *path);
    // The same path with the origin on the path instead of the prefix.
    gnmi::Path bare_prefix = prefix;
    bare_prefix.clear_origin();
    path->set_origin(lines[0]);
    Exercise(bare_prefix, *path);
  }
  return 0;
}
