// Options of the gnmi driver, parsed from DeviceSettings (address,
// credentials) and options_json. See docs/gnmi-driver.md and
// docs/configuration.md.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "southgate/driver.h"

namespace southgate::drivers::gnmi_driver {

// The upstream encodings the driver can speak, best first.
enum class WireEncoding { kJsonIetf, kJson, kProto };
const char* WireEncodingName(WireEncoding encoding);

struct GnmiOptions {
  std::string address;  // host:port as gRPC takes it
  // TLS (the default). ca_file empty: the system's trust store.
  std::string ca_file;
  std::string server_name;  // overrides the name checked in the certificate
  std::string cert_file;    // client certificate (mTLS), with key_file
  std::string key_file;
  bool insecure_skip_verify = false;  // TLS without checking the server
  bool plaintext = false;             // no TLS at all
  // gNMI username/password metadata; empty username: none sent.
  std::string username;
  std::string password;
  // prefix.target on requests to the device: unset sends none.
  std::optional<std::string> target;
  // Forced upstream encoding; unset: the best the device advertises.
  std::optional<WireEncoding> encoding;
  bool commit_extension = true;  // forward the gnmi_ext Commit extension
  // Forward requests for models southgate has not loaded unchanged
  // (Driver::PassesThroughUnknownPaths); false answers NOT_FOUND.
  bool pass_through = true;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds rpc_timeout{30000};
  // HTTP/2 keepalive pings (southgate servers accept one per 10 s).
  std::chrono::milliseconds keepalive_time{30000};
  std::chrono::milliseconds keepalive_timeout{10000};
  // Reconnect after a lost connection: exponential backoff, +-20% jitter.
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{30000};
  double backoff_multiplier = 2.0;
};

absl::StatusOr<GnmiOptions> ParseGnmiOptions(const DeviceSettings& settings);

}  // namespace southgate::drivers::gnmi_driver
