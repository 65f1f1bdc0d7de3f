// Options of the sim driver, parsed from DeviceSettings::options_json.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "schema/yang_context.h"

namespace southgate::drivers::sim {

struct SimOptions {
  // Seed data file (RFC 7951 JSON); empty: start with an empty tree.
  std::string seed;
  std::vector<schema::ModuleSpec> modules;
  // State evolution period; 0 freezes the state.
  int64_t update_interval_ms = 1000;
  // Chance per interface and evolution step that oper-status flips.
  double flap_probability = 0.01;
  // Makes Connect() fail (for tests of error handling).
  bool fail_connect = false;
};

// Parses the JSON object options:
//   seed: path (relative paths resolve against base_dir when given)
//   base_dir: directory for a relative seed path
//   modules: ["name" | "name@revision", ...] (default: IETF set)
//   features: {"module": ["feature", ...]} or ["module:feature", ...]
//   update_interval_ms, flap_probability, fail_connect
absl::StatusOr<SimOptions> ParseSimOptions(const std::string& options_json);

}  // namespace southgate::drivers::sim
