// Configuration loading: YAML text through the strict parser and
// validator (src/config), then the debug dump the daemon logs.
#include <string_view>

#include "config/config.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  southgate::fuzz::QuietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // Relative paths in the text resolve under the source tree's examples,
  // so seeds naming example files find them; nothing is written.
  static const std::string base = southgate::fuzz::SourceDir() + "/examples";
  auto config = southgate::config::ParseConfig(text, "fuzz.yaml", base);
  if (config.ok()) (void)config->DebugString();
  return 0;
}
