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
  // Load generator: leaf changes per second pushed straight to subscribers
  // (0: off). The changes are counters of `change_leaves` leaves of
  // synthetic interfaces "gen0", "gen1", ... (four counters each) that live
  // only in the generator, not in the datastore (Get does not show them);
  // an ON_CHANGE or TARGET_DEFINED subscription whose path covers them
  // receives them, `change_batch` leaves per Notification.
  int64_t change_rate = 0;
  int64_t change_leaves = 100;
  int64_t change_batch = 0;  // 0: min(change_leaves, 100)
  // Paces the generator by its consumers (NotificationSink's demand
  // callback): the next batch is made when enough of them took the last
  // one, at most `change_rate` per second, and at least one batch per
  // millisecond. For throughput benchmarks: no change is made only to be
  // replaced before anyone sends it. Off: exactly `change_rate`.
  bool change_paced = false;
};

// Parses the JSON object options:
//   seed: path (relative paths resolve against base_dir when given)
//   base_dir: directory for a relative seed path
//   modules: ["name" | "name@revision", ...] (default: IETF set)
//   features: {"module": ["feature", ...]} or ["module:feature", ...]
//   update_interval_ms, flap_probability, fail_connect,
//   change_rate, change_leaves, change_batch, change_paced
absl::StatusOr<SimOptions> ParseSimOptions(const std::string& options_json);

}  // namespace southgate::drivers::sim
