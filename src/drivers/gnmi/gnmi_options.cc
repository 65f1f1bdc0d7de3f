#include "drivers/gnmi/gnmi_options.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "drivers/driver_options.h"
#include "nlohmann/json.hpp"

namespace southgate::drivers::gnmi_driver {
namespace {

constexpr DriverOptionReader kOptions("gnmi");

}  // namespace

const char* WireEncodingName(WireEncoding encoding) {
  switch (encoding) {
    case WireEncoding::kJsonIetf:
      return "json_ietf";
    case WireEncoding::kJson:
      return "json";
    case WireEncoding::kProto:
      return "proto";
  }
  return "unknown";
}

absl::StatusOr<GnmiOptions> ParseGnmiOptions(const DeviceSettings& settings) {
  GnmiOptions options;
  options.address = settings.address;
  if (options.address.empty()) {
    return kOptions.Error("the device needs an address (host:port)");
  }
  if (options.address.find(':') == std::string::npos) {
    return kOptions.Error("address '" + options.address +
                          "' needs a port (host:port)");
  }
  options.username = settings.username;
  options.password = settings.password;
  if (options.username.empty() && !options.password.empty()) {
    return kOptions.Error("a password without a username");
  }

  ASSIGN_OR_RETURN(nlohmann::json json, kOptions.Parse(settings.options_json));

  std::string base_dir;
  for (const auto& [key, value] : json.items()) {
    absl::Status status;
    if (key == "base_dir") {
      // Added by the daemon: the configuration file's folder.
      status = kOptions.String(key, value, base_dir);
    } else if (key == "tls_ca_file") {
      status = kOptions.String(key, value, options.ca_file);
    } else if (key == "tls_server_name") {
      status = kOptions.String(key, value, options.server_name);
    } else if (key == "tls_cert_file") {
      status = kOptions.String(key, value, options.cert_file);
    } else if (key == "tls_key_file") {
      status = kOptions.String(key, value, options.key_file);
    } else if (key == "insecure_skip_verify") {
      status = kOptions.Bool(key, value, options.insecure_skip_verify);
    } else if (key == "plaintext") {
      status = kOptions.Bool(key, value, options.plaintext);
    } else if (key == "target") {
      std::string target;
      status = kOptions.String(key, value, target);
      options.target = target;
    } else if (key == "encoding") {
      std::string name;
      status = kOptions.String(key, value, name);
      if (name == "json_ietf") {
        options.encoding = WireEncoding::kJsonIetf;
      } else if (name == "json") {
        options.encoding = WireEncoding::kJson;
      } else if (name == "proto") {
        options.encoding = WireEncoding::kProto;
      } else if (status.ok()) {
        return kOptions.Error("'encoding' must be json_ietf, json or proto");
      }
    } else if (key == "commit_extension") {
      status = kOptions.Bool(key, value, options.commit_extension);
    } else if (key == "pass_through") {
      status = kOptions.Bool(key, value, options.pass_through);
    } else if (key == "connect_timeout_ms") {
      status = kOptions.Milliseconds(key, value, options.connect_timeout, 1);
    } else if (key == "rpc_timeout_ms") {
      status = kOptions.Milliseconds(key, value, options.rpc_timeout, 1);
    } else if (key == "keepalive_time_ms") {
      // Below 10 s a southgate (or most gRPC) server answers too_many_pings.
      status = kOptions.Milliseconds(key, value, options.keepalive_time, 10000);
    } else if (key == "keepalive_timeout_ms") {
      status = kOptions.Milliseconds(key, value, options.keepalive_timeout, 1);
    } else if (key == "backoff_initial_ms") {
      status = kOptions.Milliseconds(key, value, options.backoff_initial, 1);
    } else if (key == "backoff_max_ms") {
      status = kOptions.Milliseconds(key, value, options.backoff_max, 1);
    } else if (key == "backoff_multiplier") {
      if (!value.is_number() || value.get<double>() < 1.0) {
        return kOptions.Error("'backoff_multiplier' must be a number >= 1");
      }
      options.backoff_multiplier = value.get<double>();
    } else {
      return kOptions.Error("unknown option '" + key + "'");
    }
    if (!status.ok()) return status;
  }
  if (options.backoff_max < options.backoff_initial) {
    return kOptions.Error("'backoff_max_ms' is below 'backoff_initial_ms'");
  }
  if (options.cert_file.empty() != options.key_file.empty()) {
    return kOptions.Error("'tls_cert_file' and 'tls_key_file' go together");
  }
  if (options.plaintext) {
    if (options.insecure_skip_verify || !options.ca_file.empty() ||
        !options.cert_file.empty() || !options.server_name.empty()) {
      return kOptions.Error(
          "'plaintext: true' cannot be combined with TLS options");
    }
  }
  if (options.insecure_skip_verify &&
      (!options.ca_file.empty() || !options.server_name.empty())) {
    return kOptions.Error(
        "'insecure_skip_verify' with 'tls_ca_file' or 'tls_server_name': "
        "the server would not be checked anyway");
  }
  // Relative file names are relative to the configuration file; missing
  // files are refused now rather than at every reconnect.
  for (std::string* path :
       {&options.ca_file, &options.cert_file, &options.key_file}) {
    if (path->empty()) continue;
    if (!base_dir.empty() && std::filesystem::path(*path).is_relative()) {
      *path = (std::filesystem::path(base_dir) / *path).string();
    }
    std::error_code ec;
    if (!std::filesystem::is_regular_file(*path, ec)) {
      return kOptions.Error("cannot read " + *path);
    }
  }
  return options;
}

}  // namespace southgate::drivers::gnmi_driver
