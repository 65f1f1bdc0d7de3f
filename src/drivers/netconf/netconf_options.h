// Options of the netconf driver, parsed from DeviceSettings (address,
// credentials) and options_json. See docs/configuration.md.
#pragma once

#include <chrono>
#include <string>

#include "absl/status/statusor.h"
#include "netconf/session.h"
#include "southgate/driver.h"

namespace southgate::drivers::netconf {

struct NetconfOptions {
  southgate::netconf::SshOptions ssh;
  std::chrono::milliseconds rpc_timeout{10000};
  // A cheap RPC at this interval when the session is idle; 0: none.
  std::chrono::milliseconds keepalive_interval{10000};
  // Reconnect after a lost session: exponential backoff with +-20% jitter.
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{30000};
  double backoff_multiplier = 2.0;
  bool reconnect = true;
  // ON_CHANGE without device notifications: poll and diff at this period.
  std::chrono::milliseconds change_poll_interval{1000};
  // ON_CHANGE source: kAuto uses the device's RFC 5277 notifications
  // (netconf-config-change, RFC 6470) where it advertises them, polling
  // otherwise; kPoll always polls.
  enum class OnChangeSource { kAuto, kPoll };
  OnChangeSource on_change_source = OnChangeSource::kAuto;
  // With notifications: a full re-read of every ON_CHANGE path at this
  // period (state data and lost notifications); 0: never.
  std::chrono::milliseconds notification_resync_interval{60000};
  // Get and poll filters: kAuto sends XPath filters to devices with :xpath
  // (subtree when the device refuses one), kSubtree always subtree.
  enum class FilterKind { kAuto, kSubtree };
  FilterKind filter = FilterKind::kAuto;
  // Downloaded YANG modules (get-schema); default <state_dir>/netconf-schemas.
  std::string schema_cache_dir;
};

absl::StatusOr<NetconfOptions> ParseNetconfOptions(
    const DeviceSettings& settings, const std::string& state_dir);

}  // namespace southgate::drivers::netconf
