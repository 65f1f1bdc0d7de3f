// The daemon's configuration file (YAML): loading, validation and the
// resolved result. The format is documented in docs/configuration.md.
//
// Everything is checked at load time: unknown keys, wrong types, duplicate
// names, bad addresses, unset credential variables and unreadable files are
// INVALID_ARGUMENT errors of the form "<file>:<line>: <field>: <problem>",
// e.g. "/etc/southgate/southgate.yaml:14: devices[1].driver: required field
// is missing". The daemon refuses to start on any of them.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "config/limits.h"
#include "security/access_rule.h"
#include "security/user.h"
#include "southgate/driver.h"

namespace southgate::config {

using security::Role;
using security::UserEntry;

enum class LogFormat { kText, kJson };

// Paths below are absolute (or empty) once loaded: relative ones in the
// file are resolved against the directory of the configuration file.
// Whether TLS asks clients for a certificate.
enum class ClientCertPolicy {
  kNone,     // never asked
  kRequest,  // asked; verified against the CA bundle when presented
  kRequire,  // required and verified against the CA bundle
};
using security::CertIdentity;

struct TlsFiles {
  std::string cert_file;  // PEM certificate (chain); empty = generated
  std::string key_file;   // PEM private key; empty = generated
  std::string ca_file;    // PEM client CA bundle; empty = none
  ClientCertPolicy client_cert = ClientCertPolicy::kNone;
  CertIdentity client_identity = CertIdentity::kNone;
  // How often the files are checked for changes (rotation).
  std::chrono::milliseconds reload_interval{1000};
};

// Failed logins: after `max_failures` within `window` from one peer
// address (or for one user name) that peer (or user) is locked out for
// `lockout`.
struct ThrottleSettings {
  int max_failures = 5;
  std::chrono::milliseconds window{60 * 1000};
  std::chrono::milliseconds lockout{5 * 60 * 1000};
  // A login keeps (peer address, user) exempt from that user's lockout.
  std::chrono::milliseconds trusted_for{24 * 3600 * 1000};
};

struct AuthorizationSettings {
  // Without a matching rule: true = the role decides, false = denied.
  bool default_allow = true;
  std::vector<security::AccessRule> rules;
};

struct AuditSettings {
  std::string file;  // JSON lines; empty = no audit log
};

struct LogSettings {
  // One of trace, debug, info, warn, error, critical, off (spdlog names).
  std::string level = "info";
  LogFormat format = LogFormat::kText;
};

// The operations HTTP endpoint (/metrics, /healthz, /readyz).
struct OpsSettings {
  std::string listen;  // host:port or [v6]:port; empty = disabled
};

// Subscribe's limits (the `telemetry:` section). Read at start; a reload
// that changes them is logged as needing a restart.
struct TelemetrySettings {
  // Distinct leaves waiting for one stream before it is ended as too slow.
  int64_t max_pending_updates = 50000;
  // A stream whose write stays unacknowledged this long while more data
  // waits is ended with RESOURCE_EXHAUSTED.
  std::chrono::milliseconds slow_client_timeout{5000};
  // Then cancelled if the client has not gone away by itself.
  std::chrono::milliseconds slow_client_cancel_grace{20000};
  // The fastest SAMPLE and heartbeat interval (what sample_interval 0 means).
  std::chrono::milliseconds min_sample_interval{10};
  int64_t max_updates_per_notification = 256;
  // Deliveries a stream keeps as separate Notifications before coalescing.
  int64_t pipeline_notifications = 8;
  // How often a device whose driver cannot push is read and diffed.
  std::chrono::milliseconds poll_interval{1000};

  bool operator==(const TelemetrySettings&) const = default;
};

struct Config {
  std::string listen = "127.0.0.1:9339";  // host:port or [v6]:port
  bool insecure = false;                  // plaintext gRPC
  TlsFiles tls;
  std::chrono::milliseconds shutdown_grace{5000};
  std::string state_dir = "/var/lib/southgate";
  LogSettings log;
  OpsSettings ops;
  Limits limits;                       // flood resistance (config/limits.h)
  TelemetrySettings telemetry;         // Subscribe limits
  std::vector<std::string> yang_dirs;  // searched recursively, in order
  std::string plugin_dir;              // empty = default next to the binary
  std::vector<UserEntry> users;
  ThrottleSettings throttle;
  AuthorizationSettings authorization;
  AuditSettings audit;
  // Credentials resolved (from env/files); options_json always holds a JSON
  // object with at least "base_dir" (the configuration directory).
  std::vector<DeviceSettings> devices;
  std::string source_file;  // the configuration file (absolute path)
  std::string base_dir;     // the directory relative paths resolve against

  // A human-readable dump for --check-config / debug logs. Never contains
  // device passwords or user password hashes.
  std::string DebugString() const;
};

// Reads and validates the configuration file at `path`.
absl::StatusOr<Config> LoadConfig(const std::string& path);

// Parses configuration text. `source_name` names the text in error messages
// (and becomes Config::source_file); relative paths resolve against
// `base_dir` (the current directory when empty).
absl::StatusOr<Config> ParseConfig(std::string_view yaml_text,
                                   const std::string& source_name,
                                   const std::string& base_dir);

struct HostPort {
  std::string host;  // without brackets: "127.0.0.1", "::1", "gw.example"
  int port = 0;
};

// Splits "host:port" / "[v6]:port". The host must be an IPv4 address, a
// bracketed IPv6 address or a DNS name; the port 0..65535 (0 = any free).
absl::StatusOr<HostPort> ParseListenAddress(std::string_view listen);

// Accepts spdlog's level names: trace debug info warn error critical off.
bool IsValidLogLevel(std::string_view level);

const char* LogFormatName(LogFormat format);
const char* ClientCertPolicyName(ClientCertPolicy policy);
const char* CertIdentityName(CertIdentity identity);

}  // namespace southgate::config
