#include "drivers/netconf/netconf_options.h"

#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "drivers/driver_options.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace southgate::drivers::netconf {
namespace {

constexpr DriverOptionReader kOptions("netconf");

}  // namespace

absl::StatusOr<NetconfOptions> ParseNetconfOptions(
    const DeviceSettings& settings, const std::string& state_dir) {
  NetconfOptions options;
  auto& ssh = options.ssh;
  // address: host:port, [v6]:port or host (port 830).
  std::string address = settings.address;
  if (address.empty()) return kOptions.Error("the device needs an address");
  std::string port_text;
  if (address.front() == '[') {
    size_t close = address.find(']');
    if (close == std::string::npos)
      return kOptions.Error("bad address " + address);
    ssh.host = address.substr(1, close - 1);
    if (close + 1 < address.size() && address[close + 1] == ':')
      port_text = address.substr(close + 2);
  } else {
    size_t colon = address.rfind(':');
    if (colon != std::string::npos && address.find(':') == colon) {
      ssh.host = address.substr(0, colon);
      port_text = address.substr(colon + 1);
    } else {
      ssh.host = address;
    }
  }
  if (!port_text.empty()) {
    uint32_t port = 0;
    if (!absl::SimpleAtoi(port_text, &port) || port == 0 || port > 65535)
      return kOptions.Error("bad port in address " + address);
    ssh.port = static_cast<uint16_t>(port);
  }
  ssh.username = settings.username;
  ssh.password = settings.password;
  if (ssh.username.empty())
    return kOptions.Error("the device needs a username");

  ASSIGN_OR_RETURN(nlohmann::json json, kOptions.Parse(settings.options_json));

  std::string base_dir;
  for (const auto& [key, value] : json.items()) {
    absl::Status status;
    if (key == "base_dir") {
      // Added by the daemon: the configuration file's folder.
      status = kOptions.String(key, value, base_dir);
    } else if (key == "private_key_file") {
      status = kOptions.String(key, value, ssh.private_key_file);
    } else if (key == "public_key_file") {
      status = kOptions.String(key, value, ssh.public_key_file);
    } else if (key == "known_hosts_file") {
      status = kOptions.String(key, value, ssh.known_hosts_file);
    } else if (key == "host_key_sha256") {
      status = kOptions.String(key, value, ssh.host_key_sha256);
    } else if (key == "insecure_skip_host_key_check") {
      if (!value.is_boolean())
        return kOptions.Error("'" + key + "' must be a boolean");
      ssh.insecure_skip_host_key_check = value.get<bool>();
    } else if (key == "connect_timeout_ms") {
      status = kOptions.Milliseconds(key, value, ssh.connect_timeout, 1);
    } else if (key == "rpc_timeout_ms") {
      status = kOptions.Milliseconds(key, value, options.rpc_timeout, 1);
    } else if (key == "keepalive_interval_ms") {
      status = kOptions.Milliseconds(key, value, options.keepalive_interval, 0);
    } else if (key == "backoff_initial_ms") {
      status = kOptions.Milliseconds(key, value, options.backoff_initial, 1);
    } else if (key == "backoff_max_ms") {
      status = kOptions.Milliseconds(key, value, options.backoff_max, 1);
    } else if (key == "backoff_multiplier") {
      if (!value.is_number() || value.get<double>() < 1.0)
        return kOptions.Error("'backoff_multiplier' must be a number >= 1");
      options.backoff_multiplier = value.get<double>();
    } else if (key == "change_poll_interval_ms") {
      status =
          kOptions.Milliseconds(key, value, options.change_poll_interval, 10);
    } else if (key == "on_change_source") {
      std::string source;
      status = kOptions.String(key, value, source);
      if (status.ok()) {
        if (source == "auto") {
          options.on_change_source = NetconfOptions::OnChangeSource::kAuto;
        } else if (source == "poll") {
          options.on_change_source = NetconfOptions::OnChangeSource::kPoll;
        } else {
          return kOptions.Error(
              "'on_change_source' must be \"auto\" or \"poll\"");
        }
      }
    } else if (key == "filter") {
      std::string kind;
      status = kOptions.String(key, value, kind);
      if (status.ok()) {
        if (kind == "auto") {
          options.filter = NetconfOptions::FilterKind::kAuto;
        } else if (kind == "subtree") {
          options.filter = NetconfOptions::FilterKind::kSubtree;
        } else {
          return kOptions.Error("'filter' must be \"auto\" or \"subtree\"");
        }
      }
    } else if (key == "notification_resync_interval_ms") {
      status = kOptions.Milliseconds(key, value,
                                     options.notification_resync_interval, 0);
    } else if (key == "reconnect") {
      if (!value.is_boolean())
        return kOptions.Error("'reconnect' must be a boolean");
      options.reconnect = value.get<bool>();
    } else if (key == "schema_cache_dir") {
      status = kOptions.String(key, value, options.schema_cache_dir);
    } else {
      return kOptions.Error("unknown option '" + key + "'");
    }
    if (!status.ok()) return status;
  }
  if (options.backoff_max < options.backoff_initial)
    return kOptions.Error("'backoff_max_ms' is below 'backoff_initial_ms'");
  if (ssh.password.empty() && ssh.private_key_file.empty())
    return kOptions.Error("needs a password or 'private_key_file'");
  int checks = !ssh.known_hosts_file.empty() + !ssh.host_key_sha256.empty();
  if (checks > 1)
    return kOptions.Error(
        "give either 'known_hosts_file' or 'host_key_sha256'");
  if (checks == 0 && !ssh.insecure_skip_host_key_check) {
    return kOptions.Error(
        "needs 'known_hosts_file' or 'host_key_sha256' (or, explicitly, "
        "'insecure_skip_host_key_check: true')");
  }
  if (checks == 1 && ssh.insecure_skip_host_key_check)
    return kOptions.Error(
        "'insecure_skip_host_key_check' with a host key check");
  // Relative file names are relative to the configuration file.
  for (std::string* path : {&ssh.private_key_file, &ssh.public_key_file,
                            &ssh.known_hosts_file, &options.schema_cache_dir}) {
    if (!path->empty() && !base_dir.empty() &&
        std::filesystem::path(*path).is_relative()) {
      *path = (std::filesystem::path(base_dir) / *path).string();
    }
  }
  if (options.schema_cache_dir.empty()) {
    options.schema_cache_dir =
        (std::filesystem::path(state_dir.empty() ? "." : state_dir) /
         "netconf-schemas")
            .string();
  }
  ssh.schema_searchpath = options.schema_cache_dir;
  return options;
}

}  // namespace southgate::drivers::netconf
