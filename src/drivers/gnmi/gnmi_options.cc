#include "drivers/gnmi/gnmi_options.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace southgate::drivers::gnmi_driver {
namespace {

absl::Status OptionError(const std::string& message) {
  return absl::InvalidArgumentError(
      absl::StrCat("gnmi driver options: ", message));
}

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
    return OptionError("the device needs an address (host:port)");
  }
  if (options.address.find(':') == std::string::npos) {
    return OptionError("address '" + options.address +
                       "' needs a port (host:port)");
  }
  options.username = settings.username;
  options.password = settings.password;
  if (options.username.empty() && !options.password.empty()) {
    return OptionError("a password without a username");
  }

  nlohmann::json json = nlohmann::json::parse(
      settings.options_json.empty() ? "{}" : settings.options_json, nullptr,
      /*allow_exceptions=*/false);
  if (json.is_discarded()) return OptionError("not valid JSON");
  if (json.is_null()) json = nlohmann::json::object();
  if (!json.is_object()) return OptionError("must be a JSON object");

  auto string_option = [](const std::string& key, const nlohmann::json& value,
                          std::string& out) -> absl::Status {
    if (!value.is_string()) {
      return OptionError("'" + key + "' must be a string");
    }
    out = value.get<std::string>();
    return absl::OkStatus();
  };
  auto bool_option = [](const std::string& key, const nlohmann::json& value,
                        bool& out) -> absl::Status {
    if (!value.is_boolean()) {
      return OptionError("'" + key + "' must be a boolean");
    }
    out = value.get<bool>();
    return absl::OkStatus();
  };
  auto ms_option = [](const std::string& key, const nlohmann::json& value,
                      std::chrono::milliseconds& out,
                      int64_t min) -> absl::Status {
    if (!value.is_number_integer() || value.get<int64_t>() < min) {
      return OptionError(
          absl::StrCat("'", key, "' must be an integer >= ", min));
    }
    out = std::chrono::milliseconds(value.get<int64_t>());
    return absl::OkStatus();
  };
  std::string base_dir;
  for (const auto& [key, value] : json.items()) {
    absl::Status status;
    if (key == "base_dir") {
      // Added by the daemon: the configuration file's folder.
      status = string_option(key, value, base_dir);
    } else if (key == "tls_ca_file") {
      status = string_option(key, value, options.ca_file);
    } else if (key == "tls_server_name") {
      status = string_option(key, value, options.server_name);
    } else if (key == "tls_cert_file") {
      status = string_option(key, value, options.cert_file);
    } else if (key == "tls_key_file") {
      status = string_option(key, value, options.key_file);
    } else if (key == "insecure_skip_verify") {
      status = bool_option(key, value, options.insecure_skip_verify);
    } else if (key == "plaintext") {
      status = bool_option(key, value, options.plaintext);
    } else if (key == "target") {
      std::string target;
      status = string_option(key, value, target);
      options.target = target;
    } else if (key == "encoding") {
      std::string name;
      status = string_option(key, value, name);
      if (name == "json_ietf") {
        options.encoding = WireEncoding::kJsonIetf;
      } else if (name == "json") {
        options.encoding = WireEncoding::kJson;
      } else if (name == "proto") {
        options.encoding = WireEncoding::kProto;
      } else if (status.ok()) {
        return OptionError("'encoding' must be json_ietf, json or proto");
      }
    } else if (key == "commit_extension") {
      status = bool_option(key, value, options.commit_extension);
    } else if (key == "connect_timeout_ms") {
      status = ms_option(key, value, options.connect_timeout, 1);
    } else if (key == "rpc_timeout_ms") {
      status = ms_option(key, value, options.rpc_timeout, 1);
    } else if (key == "keepalive_time_ms") {
      // Below 10 s a southgate (or most gRPC) server answers too_many_pings.
      status = ms_option(key, value, options.keepalive_time, 10000);
    } else if (key == "keepalive_timeout_ms") {
      status = ms_option(key, value, options.keepalive_timeout, 1);
    } else if (key == "backoff_initial_ms") {
      status = ms_option(key, value, options.backoff_initial, 1);
    } else if (key == "backoff_max_ms") {
      status = ms_option(key, value, options.backoff_max, 1);
    } else if (key == "backoff_multiplier") {
      if (!value.is_number() || value.get<double>() < 1.0) {
        return OptionError("'backoff_multiplier' must be a number >= 1");
      }
      options.backoff_multiplier = value.get<double>();
    } else {
      return OptionError("unknown option '" + key + "'");
    }
    if (!status.ok()) return status;
  }
  if (options.backoff_max < options.backoff_initial) {
    return OptionError("'backoff_max_ms' is below 'backoff_initial_ms'");
  }
  if (options.cert_file.empty() != options.key_file.empty()) {
    return OptionError("'tls_cert_file' and 'tls_key_file' go together");
  }
  if (options.plaintext) {
    if (options.insecure_skip_verify || !options.ca_file.empty() ||
        !options.cert_file.empty() || !options.server_name.empty()) {
      return OptionError(
          "'plaintext: true' cannot be combined with TLS options");
    }
  }
  if (options.insecure_skip_verify &&
      (!options.ca_file.empty() || !options.server_name.empty())) {
    return OptionError(
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
      return OptionError("cannot read " + *path);
    }
  }
  return options;
}

}  // namespace southgate::drivers::gnmi_driver
