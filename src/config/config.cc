#include "config/config.h"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "common/status_macros.h"

namespace southgate::config {
namespace {

namespace fs = std::filesystem;

absl::Status Invalid(std::string message) {
  return absl::InvalidArgumentError(message);
}

// One key of a YAML mapping, with the nodes for error locations.
struct Entry {
  YAML::Node key;
  YAML::Node value;
};

// Where a user entry was defined, for duplicate-name errors.
struct UserOrigin {
  std::string source;
  int line = 0;
  std::string field;
};

// Parses one YAML document (the configuration or a users file), producing
// errors that name the source, the line and the field.
class Parser {
 public:
  Parser(std::string source, std::string base_dir)
      : source_(std::move(source)), base_dir_(std::move(base_dir)) {}

  absl::Status Error(const YAML::Node& node, const std::string& field,
                     const std::string& problem) const {
    std::string where = source_;
    if (node.IsDefined()) {
      const YAML::Mark mark = node.Mark();
      if (mark.line >= 0) where += ":" + std::to_string(mark.line + 1);
    }
    return Invalid(where + ": " + (field.empty() ? "" : field + ": ") +
                   problem);
  }

  // Checks that `node` is a mapping (or null = empty) whose keys are all in
  // `allowed` and unique; returns its entries.
  absl::StatusOr<std::map<std::string, Entry>> Mapping(
      const YAML::Node& node, const std::string& path,
      const std::set<std::string>& allowed) const {
    std::map<std::string, Entry> entries;
    if (!node.IsDefined() || node.IsNull()) return entries;
    if (!node.IsMap()) {
      return Error(node, path, "expected a mapping (key: value pairs)");
    }
    for (auto it = node.begin(); it != node.end(); ++it) {
      const YAML::Node key = it->first;
      std::string name = key.IsScalar() ? key.Scalar() : "";
      std::string field = path.empty() ? name : path + "." + name;
      if (!key.IsScalar()) return Error(key, path, "keys must be scalars");
      if (!allowed.count(name)) {
        std::string expected;
        for (const auto& a : allowed) {
          expected += (expected.empty() ? "" : ", ") + a;
        }
        return Error(key, field,
                     "unknown key (expected one of: " + expected + ")");
      }
      if (entries.count(name)) return Error(key, field, "duplicate key");
      entries.emplace(name, Entry{key, it->second});
    }
    return entries;
  }

  static const Entry* Find(const std::map<std::string, Entry>& entries,
                           const std::string& name) {
    auto it = entries.find(name);
    return it == entries.end() ? nullptr : &it->second;
  }

  // Scalar as text; null is the empty string.
  absl::StatusOr<std::string> String(const YAML::Node& node,
                                     const std::string& field) const {
    if (node.IsNull()) return std::string();
    if (!node.IsScalar()) return Error(node, field, "expected a string");
    return node.Scalar();
  }

  absl::StatusOr<bool> Bool(const YAML::Node& node,
                            const std::string& field) const {
    if (node.IsScalar()) {
      const std::string& s = node.Scalar();
      if (s == "true" || s == "True" || s == "TRUE") return true;
      if (s == "false" || s == "False" || s == "FALSE") return false;
    }
    return Error(node, field, "expected true or false");
  }

  absl::StatusOr<int64_t> Integer(const YAML::Node& node,
                                  const std::string& field, int64_t min,
                                  int64_t max) const {
    int64_t value = 0;
    if (node.IsScalar()) {
      const std::string& s = node.Scalar();
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
      if (ec == std::errc() && end == s.data() + s.size()) {
        if (value < min || value > max) {
          return Error(node, field,
                       "must be between " + std::to_string(min) + " and " +
                           std::to_string(max));
        }
        return value;
      }
    }
    return Error(node, field, "expected an integer");
  }

  absl::StatusOr<std::vector<std::string>> StringList(
      const YAML::Node& node, const std::string& field) const {
    std::vector<std::string> out;
    if (node.IsNull()) return out;
    if (!node.IsSequence()) {
      return Error(node, field, "expected a list of strings");
    }
    for (size_t i = 0; i < node.size(); ++i) {
      std::string item = field + "[" + std::to_string(i) + "]";
      ASSIGN_OR_RETURN(std::string value, String(node[i], item));
      if (value.empty()) return Error(node[i], item, "must not be empty");
      out.push_back(std::move(value));
    }
    return out;
  }

  // Absolute form of a path from the file; empty stays empty.
  std::string Resolve(const std::string& path) const {
    if (path.empty()) return path;
    fs::path p(path);
    if (p.is_relative() && !base_dir_.empty()) p = fs::path(base_dir_) / p;
    return p.lexically_normal().string();
  }

  absl::StatusOr<std::string> ReadSecretFile(const YAML::Node& node,
                                             const std::string& field,
                                             const std::string& path) const {
    std::string resolved = Resolve(path);
    std::error_code ec;
    if (fs::is_directory(resolved, ec)) {
      return Error(node, field,
                   "cannot read file " + resolved + ": is a directory");
    }
    std::ifstream in(resolved, std::ios::binary);
    if (!in) {
      return Error(
          node, field,
          "cannot read file " + resolved + ": " + std::strerror(errno));
    }
    std::ostringstream content;
    content << in.rdbuf();
    std::string text = content.str();
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
      text.pop_back();
    }
    return text;
  }

  absl::StatusOr<std::string> ReadEnv(const YAML::Node& node,
                                      const std::string& field,
                                      const std::string& variable) const {
    if (variable.empty()) {
      return Error(node, field, "environment variable name is empty");
    }
    const char* value = std::getenv(variable.c_str());
    if (value == nullptr) {
      return Error(node, field,
                   "environment variable " + variable + " is not set");
    }
    return std::string(value);
  }

  absl::StatusOr<nlohmann::json> ToJson(const YAML::Node& node,
                                        const std::string& field) const;

  absl::Status ParseServer(const YAML::Node& node, Config& config) const;
  absl::Status ParseLog(const YAML::Node& node, Config& config) const;
  absl::Status ParseLimits(const YAML::Node& node, Limits& limits) const;
  absl::Status ParseTelemetry(const YAML::Node& node, Config& config) const;
  absl::Status ParseUsers(
      const YAML::Node& node, const std::string& path, bool allow_file,
      std::vector<std::pair<UserEntry, UserOrigin>>& out) const;
  absl::Status ParseUserList(
      const YAML::Node& node, const std::string& path,
      std::vector<std::pair<UserEntry, UserOrigin>>& out) const;
  absl::Status ParseDevices(const YAML::Node& node, Config& config) const;
  absl::Status ParseCredentials(const YAML::Node& node, const std::string& path,
                                DeviceSettings& device) const;
  absl::Status ParseThrottle(const YAML::Node& node, Config& config) const;
  absl::Status ParseAuthorization(const YAML::Node& node, Config& config) const;
  absl::Status ParseTop(const YAML::Node& root, Config& config) const;

  const std::string& base_dir() const { return base_dir_; }

 private:
  std::string source_;
  std::string base_dir_;
};

// YAML 1.2 core schema resolution of a plain scalar.
std::optional<nlohmann::json> PlainScalarToJson(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") {
    return nlohmann::json(nullptr);
  }
  if (s == "true" || s == "True" || s == "TRUE") return nlohmann::json(true);
  if (s == "false" || s == "False" || s == "FALSE") {
    return nlohmann::json(false);
  }
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
    uint64_t value = 0;
    auto [p, ec] = std::from_chars(begin + 2, end, value, s[1] == 'x' ? 16 : 8);
    if (ec == std::errc() && p == end) return nlohmann::json(value);
  }
  {
    const char* first = s[0] == '+' ? begin + 1 : begin;
    int64_t value = 0;
    auto [p, ec] = std::from_chars(first, end, value);
    if (ec == std::errc() && p == end) return nlohmann::json(value);
    uint64_t uvalue = 0;
    auto [q, uec] = std::from_chars(first, end, uvalue);
    if (uec == std::errc() && q == end) return nlohmann::json(uvalue);
  }
  if (s == ".inf" || s == "+.inf" || s == "-.inf" || s == ".nan" ||
      s == ".Inf" || s == ".NaN" || s == ".NAN" || s == ".INF") {
    return std::nullopt;  // not representable in JSON
  }
  // Floats: digits with a '.' or exponent, nothing else.
  bool has_digit = false;
  bool number_like = true;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      has_digit = true;
    } else if (c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-') {
      number_like = false;
      break;
    }
  }
  if (number_like && has_digit) {
    char* parsed_end = nullptr;
    double value = std::strtod(s.c_str(), &parsed_end);
    if (parsed_end == s.c_str() + s.size() && std::isfinite(value)) {
      return nlohmann::json(value);
    }
  }
  return nlohmann::json(s);
}

// JSON text is UTF-8 and nlohmann::json throws when asked to print
// anything else, so such strings must be refused while parsing.
bool IsUtf8(const std::string& text) {
  try {
    (void)nlohmann::json(text).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

absl::StatusOr<nlohmann::json> Parser::ToJson(const YAML::Node& node,
                                              const std::string& field) const {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return nlohmann::json(nullptr);
    case YAML::NodeType::Scalar: {
      if (!IsUtf8(node.Scalar())) {
        return Error(node, field, "not valid UTF-8");
      }
      const std::string& tag = node.Tag();
      // "!" = quoted scalar, always a string.
      if (tag == "!" || tag == "tag:yaml.org,2002:str") {
        return nlohmann::json(node.Scalar());
      }
      auto value = PlainScalarToJson(node.Scalar());
      if (!value) {
        return Error(node, field,
                     "'" + node.Scalar() + "' has no JSON representation");
      }
      return *value;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json array = nlohmann::json::array();
      for (size_t i = 0; i < node.size(); ++i) {
        ASSIGN_OR_RETURN(
            nlohmann::json item,
            ToJson(node[i], field + "[" + std::to_string(i) + "]"));
        array.push_back(std::move(item));
      }
      return array;
    }
    case YAML::NodeType::Map: {
      nlohmann::json object = nlohmann::json::object();
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (!it->first.IsScalar()) {
          return Error(it->first, field, "keys must be scalars");
        }
        const std::string& key = it->first.Scalar();
        if (!IsUtf8(key)) return Error(it->first, field, "key not valid UTF-8");
        std::string child = field + "." + key;
        if (object.contains(key))
          return Error(it->first, child, "duplicate key");
        ASSIGN_OR_RETURN(object[key], ToJson(it->second, child));
      }
      return object;
    }
  }
  return Error(node, field, "unsupported YAML node");
}

bool IsDnsName(const std::string& host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return host.front() != '.' && host.front() != '-';
}

// Device and user names: printable, no whitespace, no '/'.
bool IsValidName(const std::string& name) {
  if (name.empty() || name == "." || name == "..") return false;
  for (unsigned char c : name) {
    if (c <= 0x20 || c == 0x7F || c == '/') return false;
  }
  return true;
}

absl::Status Parser::ParseServer(const YAML::Node& node, Config& config) const {
  ASSIGN_OR_RETURN(auto server,
                   Mapping(node, "server",
                           {"listen", "insecure", "tls", "shutdown_grace_ms"}));
  if (const Entry* e = Find(server, "listen")) {
    ASSIGN_OR_RETURN(config.listen, String(e->value, "server.listen"));
    auto parsed = ParseListenAddress(config.listen);
    if (!parsed.ok()) {
      return Error(e->value, "server.listen",
                   std::string(parsed.status().message()));
    }
  }
  if (const Entry* e = Find(server, "insecure")) {
    ASSIGN_OR_RETURN(config.insecure, Bool(e->value, "server.insecure"));
  }
  if (const Entry* e = Find(server, "shutdown_grace_ms")) {
    ASSIGN_OR_RETURN(int64_t ms, Integer(e->value, "server.shutdown_grace_ms",
                                         0, 3600 * 1000));
    config.shutdown_grace = std::chrono::milliseconds(ms);
  }
  if (const Entry* e = Find(server, "tls")) {
    ASSIGN_OR_RETURN(auto tls,
                     Mapping(e->value, "server.tls",
                             {"cert", "key", "ca", "client_cert",
                              "client_identity", "reload_interval_ms"}));
    if (const Entry* f = Find(tls, "cert")) {
      ASSIGN_OR_RETURN(std::string v, String(f->value, "server.tls.cert"));
      config.tls.cert_file = Resolve(v);
    }
    if (const Entry* f = Find(tls, "key")) {
      ASSIGN_OR_RETURN(std::string v, String(f->value, "server.tls.key"));
      config.tls.key_file = Resolve(v);
    }
    if (const Entry* f = Find(tls, "ca")) {
      ASSIGN_OR_RETURN(std::string v, String(f->value, "server.tls.ca"));
      config.tls.ca_file = Resolve(v);
    }
    // A CA bundle alone keeps its earlier meaning: clients must present a
    // certificate it verifies.
    if (!config.tls.ca_file.empty()) {
      config.tls.client_cert = ClientCertPolicy::kRequire;
    }
    if (const Entry* f = Find(tls, "client_cert")) {
      ASSIGN_OR_RETURN(std::string v,
                       String(f->value, "server.tls.client_cert"));
      if (v == "none") {
        config.tls.client_cert = ClientCertPolicy::kNone;
      } else if (v == "request") {
        config.tls.client_cert = ClientCertPolicy::kRequest;
      } else if (v == "require") {
        config.tls.client_cert = ClientCertPolicy::kRequire;
      } else {
        return Error(f->value, "server.tls.client_cert",
                     "'" + v + "' is not one of none, request, require");
      }
      if (config.tls.client_cert != ClientCertPolicy::kNone &&
          config.tls.ca_file.empty()) {
        return Error(f->value, "server.tls.client_cert",
                     "'" + v +
                         "' needs server.tls.ca (the CA bundle that client "
                         "certificates are verified against)");
      }
    }
    if (const Entry* f = Find(tls, "client_identity")) {
      ASSIGN_OR_RETURN(std::string v,
                       String(f->value, "server.tls.client_identity"));
      if (v == "none") {
        config.tls.client_identity = CertIdentity::kNone;
      } else if (v == "cn") {
        config.tls.client_identity = CertIdentity::kCommonName;
      } else if (v == "san") {
        config.tls.client_identity = CertIdentity::kSubjectAltName;
      } else {
        return Error(f->value, "server.tls.client_identity",
                     "'" + v + "' is not one of none, cn, san");
      }
      if (config.tls.client_identity != CertIdentity::kNone &&
          config.tls.client_cert == ClientCertPolicy::kNone) {
        return Error(f->value, "server.tls.client_identity",
                     "needs server.tls.client_cert request or require");
      }
    }
    if (const Entry* f = Find(tls, "reload_interval_ms")) {
      ASSIGN_OR_RETURN(int64_t ms,
                       Integer(f->value, "server.tls.reload_interval_ms", 100,
                               24 * 3600 * 1000));
      config.tls.reload_interval = std::chrono::milliseconds(ms);
    }
    if (config.tls.cert_file.empty() != config.tls.key_file.empty()) {
      return Error(e->value, "server.tls",
                   "cert and key must be given together (or both left empty "
                   "for a generated self-signed certificate)");
    }
  }
  return absl::OkStatus();
}

absl::Status Parser::ParseLog(const YAML::Node& node, Config& config) const {
  ASSIGN_OR_RETURN(auto log, Mapping(node, "log", {"level", "format"}));
  if (const Entry* e = Find(log, "level")) {
    ASSIGN_OR_RETURN(std::string level, String(e->value, "log.level"));
    if (level == "warning") level = "warn";
    if (!IsValidLogLevel(level)) {
      return Error(e->value, "log.level",
                   "invalid log level '" + level +
                       "' (expected trace, debug, info, warn, error, "
                       "critical or off)");
    }
    config.log.level = level;
  }
  if (const Entry* e = Find(log, "format")) {
    ASSIGN_OR_RETURN(std::string format, String(e->value, "log.format"));
    if (format == "text") {
      config.log.format = LogFormat::kText;
    } else if (format == "json") {
      config.log.format = LogFormat::kJson;
    } else {
      return Error(
          e->value, "log.format",
          "invalid log format '" + format + "' (expected text or json)");
    }
  }
  return absl::OkStatus();
}

absl::Status Parser::ParseLimits(const YAML::Node& node, Limits& limits) const {
  ASSIGN_OR_RETURN(auto entries, Mapping(node, "limits",
                                         {"peer",
                                          "user",
                                          "max_in_flight",
                                          "reserved_in_flight",
                                          "max_streams",
                                          "trusted_lane_threads",
                                          "slow_lane_threads",
                                          "slow_lane_queue",
                                          "auth_failure_cost",
                                          "auth_failure_penalty_ms",
                                          "max_tracked_clients",
                                          "max_message_bytes",
                                          "max_paths_per_request",
                                          "max_subscriptions_per_stream",
                                          "max_metadata_bytes",
                                          "max_streams_per_connection",
                                          "keepalive",
                                          "max_connection_age_ms",
                                          "max_connection_age_grace_ms",
                                          "max_connection_idle_ms",
                                          "grpc_memory_bytes"}));
  // A non-negative number (rates and costs may have fractions).
  auto number = [this](const YAML::Node& value,
                       const std::string& field) -> absl::StatusOr<double> {
    if (value.IsScalar()) {
      const std::string& s = value.Scalar();
      char* end = nullptr;
      double parsed = std::strtod(s.c_str(), &end);
      if (!s.empty() && end == s.c_str() + s.size() && std::isfinite(parsed)) {
        if (parsed < 0 || parsed > 1e9) {
          return Error(value, field, "must be between 0 and 1000000000");
        }
        return parsed;
      }
    }
    return Error(value, field, "expected a number");
  };
  auto integer = [&](const char* key, int64_t& out, int64_t min,
                     int64_t max) -> absl::Status {
    if (const Entry* e = Find(entries, key)) {
      ASSIGN_OR_RETURN(
          out, Integer(e->value, std::string("limits.") + key, min, max));
    }
    return absl::OkStatus();
  };
  auto millis = [&](const char* key,
                    std::chrono::milliseconds& out) -> absl::Status {
    int64_t ms = out.count();
    RETURN_IF_ERROR(integer(key, ms, 0, int64_t{30} * 24 * 3600 * 1000));
    out = std::chrono::milliseconds(ms);
    return absl::OkStatus();
  };
  constexpr int64_t kMany = 1'000'000'000;
  // rate, burst, max_in_flight / max_streams of `limits.peer`/`limits.user`.
  auto client = [&](const char* name, RateLimit& rate, int64_t* max_in_flight,
                    int64_t& max_streams) -> absl::Status {
    const Entry* e = Find(entries, name);
    if (e == nullptr) return absl::OkStatus();
    const std::string path = std::string("limits.") + name;
    std::set<std::string> keys = {"rate", "burst", "max_streams"};
    if (max_in_flight != nullptr) keys.insert("max_in_flight");
    ASSIGN_OR_RETURN(auto fields, Mapping(e->value, path, keys));
    if (const Entry* f = Find(fields, "rate")) {
      ASSIGN_OR_RETURN(rate.rate, number(f->value, path + ".rate"));
    }
    if (const Entry* f = Find(fields, "burst")) {
      ASSIGN_OR_RETURN(rate.burst, number(f->value, path + ".burst"));
      if (rate.burst < 1) {
        return Error(f->value, path + ".burst", "must be at least 1");
      }
    }
    if (const Entry* f = Find(fields, "max_streams")) {
      ASSIGN_OR_RETURN(max_streams,
                       Integer(f->value, path + ".max_streams", 0, kMany));
    }
    if (const Entry* f = Find(fields, "max_in_flight")) {
      ASSIGN_OR_RETURN(*max_in_flight,
                       Integer(f->value, path + ".max_in_flight", 1, kMany));
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(client("peer", limits.peer, &limits.peer_max_in_flight,
                         limits.peer_max_streams));
  RETURN_IF_ERROR(
      client("user", limits.user, nullptr, limits.user_max_streams));
  RETURN_IF_ERROR(integer("max_in_flight", limits.max_in_flight, 1, kMany));
  RETURN_IF_ERROR(
      integer("reserved_in_flight", limits.reserved_in_flight, 0, kMany));
  if (limits.reserved_in_flight >= limits.max_in_flight) {
    return Error(Find(entries, "reserved_in_flight")
                     ? Find(entries, "reserved_in_flight")->value
                     : node,
                 "limits.reserved_in_flight",
                 "must be below limits.max_in_flight (" +
                     std::to_string(limits.max_in_flight) + ")");
  }
  RETURN_IF_ERROR(integer("max_streams", limits.max_streams, 0, kMany));
  RETURN_IF_ERROR(
      integer("trusted_lane_threads", limits.trusted_lane_threads, 1, 64));
  RETURN_IF_ERROR(
      integer("slow_lane_threads", limits.slow_lane_threads, 1, 64));
  RETURN_IF_ERROR(integer("slow_lane_queue", limits.slow_lane_queue, 1, kMany));
  if (const Entry* e = Find(entries, "auth_failure_cost")) {
    ASSIGN_OR_RETURN(limits.auth_failure_cost,
                     number(e->value, "limits.auth_failure_cost"));
  }
  RETURN_IF_ERROR(
      millis("auth_failure_penalty_ms", limits.auth_failure_penalty));
  RETURN_IF_ERROR(
      integer("max_tracked_clients", limits.max_tracked_clients, 16, kMany));
  RETURN_IF_ERROR(integer("max_message_bytes", limits.max_message_bytes, 1024,
                          int64_t{1} << 30));
  RETURN_IF_ERROR(
      integer("max_paths_per_request", limits.max_paths_per_request, 1, kMany));
  RETURN_IF_ERROR(integer("max_subscriptions_per_stream",
                          limits.max_subscriptions_per_stream, 1, kMany));
  RETURN_IF_ERROR(
      integer("max_metadata_bytes", limits.max_metadata_bytes, 1024, 16 << 20));
  RETURN_IF_ERROR(integer("max_streams_per_connection",
                          limits.max_streams_per_connection, 1, kMany));
  if (const Entry* e = Find(entries, "keepalive")) {
    ASSIGN_OR_RETURN(auto keepalive,
                     Mapping(e->value, "limits.keepalive",
                             {"min_ping_interval_ms", "max_ping_strikes"}));
    if (const Entry* f = Find(keepalive, "min_ping_interval_ms")) {
      ASSIGN_OR_RETURN(
          int64_t ms, Integer(f->value, "limits.keepalive.min_ping_interval_ms",
                              0, int64_t{24} * 3600 * 1000));
      limits.keepalive_min_ping_interval = std::chrono::milliseconds(ms);
    }
    if (const Entry* f = Find(keepalive, "max_ping_strikes")) {
      ASSIGN_OR_RETURN(
          limits.keepalive_max_ping_strikes,
          Integer(f->value, "limits.keepalive.max_ping_strikes", 0, 1000));
    }
  }
  RETURN_IF_ERROR(millis("max_connection_age_ms", limits.max_connection_age));
  RETURN_IF_ERROR(
      millis("max_connection_age_grace_ms", limits.max_connection_age_grace));
  RETURN_IF_ERROR(millis("max_connection_idle_ms", limits.max_connection_idle));
  RETURN_IF_ERROR(integer("grpc_memory_bytes", limits.grpc_memory_bytes, 0,
                          int64_t{1} << 40));
  return absl::OkStatus();
}

absl::Status Parser::ParseTelemetry(const YAML::Node& node,
                                    Config& config) const {
  ASSIGN_OR_RETURN(
      auto telemetry,
      Mapping(node, "telemetry",
              {"max_pending_updates", "slow_client_timeout_ms",
               "slow_client_cancel_grace_ms", "min_sample_interval_ms",
               "max_updates_per_notification", "pipeline_notifications",
               "poll_interval_ms"}));
  TelemetrySettings& out = config.telemetry;
  auto integer = [&](const char* key, int64_t min, int64_t max,
                     int64_t& value) -> absl::Status {
    if (const Entry* e = Find(telemetry, key)) {
      ASSIGN_OR_RETURN(
          value, Integer(e->value, std::string("telemetry.") + key, min, max));
    }
    return absl::OkStatus();
  };
  auto millis = [&](const char* key, int64_t min, int64_t max,
                    std::chrono::milliseconds& value) -> absl::Status {
    int64_t ms = value.count();
    RETURN_IF_ERROR(integer(key, min, max, ms));
    value = std::chrono::milliseconds(ms);
    return absl::OkStatus();
  };
  constexpr int64_t kHour = 3600 * 1000;
  RETURN_IF_ERROR(
      integer("max_pending_updates", 1, 100000000, out.max_pending_updates));
  RETURN_IF_ERROR(
      millis("slow_client_timeout_ms", 1, kHour, out.slow_client_timeout));
  RETURN_IF_ERROR(millis("slow_client_cancel_grace_ms", 0, kHour,
                         out.slow_client_cancel_grace));
  RETURN_IF_ERROR(
      millis("min_sample_interval_ms", 1, kHour, out.min_sample_interval));
  RETURN_IF_ERROR(integer("max_updates_per_notification", 1, 100000,
                          out.max_updates_per_notification));
  RETURN_IF_ERROR(
      integer("pipeline_notifications", 1, 1024, out.pipeline_notifications));
  RETURN_IF_ERROR(millis("poll_interval_ms", 10, kHour, out.poll_interval));
  return absl::OkStatus();
}

absl::Status Parser::ParseUserList(
    const YAML::Node& node, const std::string& path,
    std::vector<std::pair<UserEntry, UserOrigin>>& out) const {
  if (node.IsNull()) return absl::OkStatus();
  if (!node.IsSequence()) return Error(node, path, "expected a list of users");
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    std::string field = path + "[" + std::to_string(i) + "]";
    ASSIGN_OR_RETURN(auto user,
                     Mapping(item, field, {"name", "role", "password_hash"}));
    if (!item.IsMap()) return Error(item, field, "expected a mapping");
    UserEntry entry;
    const Entry* name = Find(user, "name");
    if (name == nullptr) {
      return Error(item, field + ".name", "required field is missing");
    }
    ASSIGN_OR_RETURN(entry.name, String(name->value, field + ".name"));
    if (!IsValidName(entry.name)) {
      return Error(name->value, field + ".name",
                   "must be non-empty without spaces, control characters or "
                   "'/'");
    }
    const Entry* role = Find(user, "role");
    if (role == nullptr) {
      return Error(item, field + ".role", "required field is missing");
    }
    ASSIGN_OR_RETURN(std::string role_text,
                     String(role->value, field + ".role"));
    auto parsed_role = security::ParseRole(role_text);
    if (!parsed_role) {
      return Error(role->value, field + ".role",
                   "unknown role '" + role_text +
                       "' (expected read-only, read-write or admin)");
    }
    entry.role = *parsed_role;
    // Without a hash the user can only sign in with a client certificate.
    const Entry* hash = Find(user, "password_hash");
    if (hash != nullptr) {
      ASSIGN_OR_RETURN(entry.password_hash,
                       String(hash->value, field + ".password_hash"));
    }
    if (hash != nullptr && !security::IsArgon2Hash(entry.password_hash)) {
      return Error(hash->value, field + ".password_hash",
                   "not an argon2id/argon2i hash (expected "
                   "\"$argon2id$v=19$m=...,t=...,p=...$<salt>$<hash>\")");
    }
    out.emplace_back(
        std::move(entry),
        UserOrigin{source_, name->value.Mark().line + 1, field + ".name"});
  }
  return absl::OkStatus();
}

absl::Status Parser::ParseUsers(
    const YAML::Node& node, const std::string& path, bool allow_file,
    std::vector<std::pair<UserEntry, UserOrigin>>& out) const {
  if (node.IsSequence()) return ParseUserList(node, path, out);
  std::set<std::string> allowed = {"list"};
  if (allow_file) allowed.insert("file");
  ASSIGN_OR_RETURN(auto users, Mapping(node, path, allowed));
  if (const Entry* e = Find(users, "list")) {
    RETURN_IF_ERROR(ParseUserList(e->value, path + ".list", out));
  }
  if (const Entry* e = Find(users, "file")) {
    ASSIGN_OR_RETURN(std::string file, String(e->value, path + ".file"));
    if (file.empty()) return absl::OkStatus();
    std::string resolved = Resolve(file);
    YAML::Node root;
    try {
      std::ifstream in(resolved);
      if (!in) {
        return Error(
            e->value, path + ".file",
            "cannot read users file " + resolved + ": " + std::strerror(errno));
      }
      root = YAML::Load(in);
    } catch (const YAML::Exception& ex) {
      return Invalid(resolved + ":" + std::to_string(ex.mark.line + 1) + ":" +
                     std::to_string(ex.mark.column + 1) +
                     ": invalid YAML: " + ex.msg);
    }
    Parser file_parser(resolved, base_dir_);
    ASSIGN_OR_RETURN(auto top, file_parser.Mapping(root, "", {"users"}));
    if (const Entry* list = Find(top, "users")) {
      RETURN_IF_ERROR(file_parser.ParseUsers(list->value, "users",
                                             /*allow_file=*/false, out));
    }
  }
  return absl::OkStatus();
}

absl::Status Parser::ParseCredentials(const YAML::Node& node,
                                      const std::string& path,
                                      DeviceSettings& device) const {
  ASSIGN_OR_RETURN(auto creds,
                   Mapping(node, path,
                           {"username", "username_env", "username_file",
                            "password", "password_env", "password_file"}));
  if (const Entry* e = Find(creds, "password")) {
    return Error(e->key, path + ".password",
                 "inline passwords are not allowed; use password_env or "
                 "password_file");
  }
  int username_sources = 0;
  for (const char* key : {"username", "username_env", "username_file"}) {
    if (Find(creds, key)) ++username_sources;
  }
  if (username_sources > 1) {
    return Error(node, path,
                 "give at most one of username, username_env, username_file");
  }
  if (Find(creds, "password_env") && Find(creds, "password_file")) {
    return Error(node, path, "give at most one of password_env, password_file");
  }
  if (const Entry* e = Find(creds, "username")) {
    ASSIGN_OR_RETURN(device.username, String(e->value, path + ".username"));
  }
  if (const Entry* e = Find(creds, "username_env")) {
    std::string field = path + ".username_env";
    ASSIGN_OR_RETURN(std::string var, String(e->value, field));
    ASSIGN_OR_RETURN(device.username, ReadEnv(e->value, field, var));
  }
  if (const Entry* e = Find(creds, "username_file")) {
    std::string field = path + ".username_file";
    ASSIGN_OR_RETURN(std::string file, String(e->value, field));
    if (file.empty()) return Error(e->value, field, "file name is empty");
    ASSIGN_OR_RETURN(device.username, ReadSecretFile(e->value, field, file));
  }
  if (const Entry* e = Find(creds, "password_env")) {
    std::string field = path + ".password_env";
    ASSIGN_OR_RETURN(std::string var, String(e->value, field));
    ASSIGN_OR_RETURN(device.password, ReadEnv(e->value, field, var));
  }
  if (const Entry* e = Find(creds, "password_file")) {
    std::string field = path + ".password_file";
    ASSIGN_OR_RETURN(std::string file, String(e->value, field));
    if (file.empty()) return Error(e->value, field, "file name is empty");
    ASSIGN_OR_RETURN(device.password, ReadSecretFile(e->value, field, file));
  }
  return absl::OkStatus();
}

absl::Status Parser::ParseDevices(const YAML::Node& node,
                                  Config& config) const {
  if (node.IsNull()) return absl::OkStatus();
  if (!node.IsSequence()) {
    return Error(node, "devices", "expected a list of devices");
  }
  std::map<std::string, int> lines;
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    std::string path = "devices[" + std::to_string(i) + "]";
    if (!item.IsMap()) return Error(item, path, "expected a mapping");
    ASSIGN_OR_RETURN(auto fields, Mapping(item, path,
                                          {"name", "driver", "address",
                                           "credentials", "options"}));
    DeviceSettings device;
    const Entry* name = Find(fields, "name");
    if (name == nullptr) {
      return Error(item, path + ".name", "required field is missing");
    }
    ASSIGN_OR_RETURN(device.name, String(name->value, path + ".name"));
    if (!IsValidName(device.name)) {
      return Error(name->value, path + ".name",
                   "must be non-empty without spaces, control characters or "
                   "'/'");
    }
    auto [it, inserted] =
        lines.emplace(device.name, name->value.Mark().line + 1);
    if (!inserted) {
      return Error(name->value, path + ".name",
                   "duplicate device name '" + device.name +
                       "' (first defined on line " +
                       std::to_string(it->second) + ")");
    }
    const Entry* driver = Find(fields, "driver");
    if (driver == nullptr) {
      return Error(item, path + ".driver", "required field is missing");
    }
    ASSIGN_OR_RETURN(device.driver, String(driver->value, path + ".driver"));
    if (device.driver.empty()) {
      return Error(driver->value, path + ".driver", "must not be empty");
    }
    if (const Entry* e = Find(fields, "address")) {
      ASSIGN_OR_RETURN(device.address, String(e->value, path + ".address"));
    }
    if (const Entry* e = Find(fields, "credentials")) {
      RETURN_IF_ERROR(
          ParseCredentials(e->value, path + ".credentials", device));
    }
    nlohmann::json options = nlohmann::json::object();
    if (const Entry* e = Find(fields, "options")) {
      if (!e->value.IsNull()) {
        if (!e->value.IsMap()) {
          return Error(e->value, path + ".options", "expected a mapping");
        }
        ASSIGN_OR_RETURN(options, ToJson(e->value, path + ".options"));
      }
    }
    if (!options.contains("base_dir")) {
      if (!IsUtf8(base_dir_)) {
        return Error(item, path + ".options",
                     "the configuration directory's name is not valid UTF-8");
      }
      options["base_dir"] = base_dir_.empty() ? "." : base_dir_;
    }
    device.options_json = options.dump();
    config.devices.push_back(std::move(device));
  }
  return absl::OkStatus();
}

absl::Status Parser::ParseThrottle(const YAML::Node& node,
                                   Config& config) const {
  ASSIGN_OR_RETURN(auto auth, Mapping(node, "auth", {"throttle"}));
  const Entry* e = Find(auth, "throttle");
  if (e == nullptr) return absl::OkStatus();
  ASSIGN_OR_RETURN(auto throttle, Mapping(e->value, "auth.throttle",
                                          {"max_failures", "window_ms",
                                           "lockout_ms", "trusted_for_ms"}));
  if (const Entry* f = Find(throttle, "max_failures")) {
    ASSIGN_OR_RETURN(
        int64_t n, Integer(f->value, "auth.throttle.max_failures", 1, 1000000));
    config.throttle.max_failures = static_cast<int>(n);
  }
  if (const Entry* f = Find(throttle, "window_ms")) {
    ASSIGN_OR_RETURN(int64_t ms, Integer(f->value, "auth.throttle.window_ms", 1,
                                         24LL * 3600 * 1000));
    config.throttle.window = std::chrono::milliseconds(ms);
  }
  if (const Entry* f = Find(throttle, "lockout_ms")) {
    ASSIGN_OR_RETURN(int64_t ms, Integer(f->value, "auth.throttle.lockout_ms",
                                         1, 24LL * 3600 * 1000));
    config.throttle.lockout = std::chrono::milliseconds(ms);
  }
  if (const Entry* f = Find(throttle, "trusted_for_ms")) {
    ASSIGN_OR_RETURN(int64_t ms,
                     Integer(f->value, "auth.throttle.trusted_for_ms", 0,
                             30LL * 24 * 3600 * 1000));
    config.throttle.trusted_for = std::chrono::milliseconds(ms);
  }
  return absl::OkStatus();
}

absl::Status Parser::ParseAuthorization(const YAML::Node& node,
                                        Config& config) const {
  ASSIGN_OR_RETURN(auto authz,
                   Mapping(node, "authorization", {"default", "rules"}));
  if (const Entry* e = Find(authz, "default")) {
    ASSIGN_OR_RETURN(std::string v, String(e->value, "authorization.default"));
    if (v == "allow") {
      config.authorization.default_allow = true;
    } else if (v == "deny") {
      config.authorization.default_allow = false;
    } else {
      return Error(e->value, "authorization.default",
                   "'" + v + "' is not allow or deny");
    }
  }
  const Entry* rules = Find(authz, "rules");
  if (rules == nullptr || rules->value.IsNull()) return absl::OkStatus();
  if (!rules->value.IsSequence()) {
    return Error(rules->value, "authorization.rules", "expected a list");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < rules->value.size(); ++i) {
    const YAML::Node item = rules->value[i];
    std::string field = "authorization.rules[" + std::to_string(i) + "]";
    if (!item.IsMap()) return Error(item, field, "expected a mapping");
    ASSIGN_OR_RETURN(auto fields, Mapping(item, field,
                                          {"name", "effect", "users", "roles",
                                           "targets", "paths", "access"}));
    security::AccessRule rule;
    const Entry* name = Find(fields, "name");
    if (name == nullptr) {
      return Error(item, field + ".name", "required field is missing");
    }
    ASSIGN_OR_RETURN(rule.name, String(name->value, field + ".name"));
    if (rule.name.empty()) {
      return Error(name->value, field + ".name", "must not be empty");
    }
    if (!names.insert(rule.name).second) {
      return Error(name->value, field + ".name",
                   "duplicate rule name '" + rule.name + "'");
    }
    const Entry* effect = Find(fields, "effect");
    if (effect == nullptr) {
      return Error(item, field + ".effect", "required field is missing");
    }
    ASSIGN_OR_RETURN(std::string effect_text,
                     String(effect->value, field + ".effect"));
    if (effect_text != "allow" && effect_text != "deny") {
      return Error(effect->value, field + ".effect",
                   "'" + effect_text + "' is not allow or deny");
    }
    rule.allow = effect_text == "allow";
    if (const Entry* e = Find(fields, "users")) {
      ASSIGN_OR_RETURN(rule.users, StringList(e->value, field + ".users"));
    }
    if (const Entry* e = Find(fields, "roles")) {
      ASSIGN_OR_RETURN(auto roles, StringList(e->value, field + ".roles"));
      for (const std::string& text : roles) {
        auto role = security::ParseRole(text);
        if (!role) {
          return Error(e->value, field + ".roles",
                       "unknown role '" + text +
                           "' (expected read-only, read-write or admin)");
        }
        rule.roles.push_back(*role);
      }
    }
    if (const Entry* e = Find(fields, "targets")) {
      ASSIGN_OR_RETURN(rule.targets, StringList(e->value, field + ".targets"));
    }
    if (const Entry* e = Find(fields, "paths")) {
      ASSIGN_OR_RETURN(rule.path_texts, StringList(e->value, field + ".paths"));
      for (const std::string& text : rule.path_texts) {
        std::string problem;
        auto path = security::ParseDataPath(text, &problem);
        if (!path) {
          return Error(e->value, field + ".paths",
                       "'" + text + "': " + problem);
        }
        rule.paths.push_back(std::move(*path));
      }
    }
    if (const Entry* e = Find(fields, "access")) {
      ASSIGN_OR_RETURN(std::string v, String(e->value, field + ".access"));
      if (v == "read") {
        rule.write = false;
      } else if (v == "write") {
        rule.read = false;
      } else if (v != "read-write") {
        return Error(e->value, field + ".access",
                     "'" + v + "' is not read, write or read-write");
      }
    }
    config.authorization.rules.push_back(std::move(rule));
  }
  return absl::OkStatus();
}

absl::Status Parser::ParseTop(const YAML::Node& root, Config& config) const {
  ASSIGN_OR_RETURN(auto top,
                   Mapping(root, "",
                           {"server", "state_dir", "log", "yang", "plugins",
                            "users", "devices", "ops", "auth", "authorization",
                            "audit", "limits", "telemetry"}));
  if (const Entry* e = Find(top, "auth")) {
    RETURN_IF_ERROR(ParseThrottle(e->value, config));
  }
  if (const Entry* e = Find(top, "authorization")) {
    RETURN_IF_ERROR(ParseAuthorization(e->value, config));
  }
  if (const Entry* e = Find(top, "audit")) {
    ASSIGN_OR_RETURN(auto audit, Mapping(e->value, "audit", {"file"}));
    if (const Entry* f = Find(audit, "file")) {
      ASSIGN_OR_RETURN(std::string file, String(f->value, "audit.file"));
      config.audit.file = Resolve(file);
    }
  }
  if (const Entry* e = Find(top, "server")) {
    RETURN_IF_ERROR(ParseServer(e->value, config));
  }
  if (const Entry* e = Find(top, "state_dir")) {
    ASSIGN_OR_RETURN(std::string dir, String(e->value, "state_dir"));
    if (dir.empty()) return Error(e->value, "state_dir", "must not be empty");
    config.state_dir = Resolve(dir);
  }
  if (const Entry* e = Find(top, "log")) {
    RETURN_IF_ERROR(ParseLog(e->value, config));
  }
  if (const Entry* e = Find(top, "limits")) {
    RETURN_IF_ERROR(ParseLimits(e->value, config.limits));
  }
  if (const Entry* e = Find(top, "ops")) {
    ASSIGN_OR_RETURN(auto ops, Mapping(e->value, "ops", {"listen"}));
    if (const Entry* f = Find(ops, "listen")) {
      ASSIGN_OR_RETURN(config.ops.listen, String(f->value, "ops.listen"));
      if (!config.ops.listen.empty()) {
        auto parsed = ParseListenAddress(config.ops.listen);
        if (!parsed.ok()) {
          return Error(f->value, "ops.listen",
                       std::string(parsed.status().message()));
        }
      }
    }
  }
  if (const Entry* e = Find(top, "telemetry")) {
    RETURN_IF_ERROR(ParseTelemetry(e->value, config));
  }
  if (const Entry* e = Find(top, "yang")) {
    ASSIGN_OR_RETURN(auto yang, Mapping(e->value, "yang", {"dirs"}));
    if (const Entry* dirs = Find(yang, "dirs")) {
      ASSIGN_OR_RETURN(auto list, StringList(dirs->value, "yang.dirs"));
      for (auto& dir : list) config.yang_dirs.push_back(Resolve(dir));
    }
  }
  if (const Entry* e = Find(top, "plugins")) {
    ASSIGN_OR_RETURN(auto plugins, Mapping(e->value, "plugins", {"dir"}));
    if (const Entry* dir = Find(plugins, "dir")) {
      ASSIGN_OR_RETURN(std::string value, String(dir->value, "plugins.dir"));
      config.plugin_dir = Resolve(value);
    }
  }
  if (const Entry* e = Find(top, "users")) {
    std::vector<std::pair<UserEntry, UserOrigin>> users;
    RETURN_IF_ERROR(ParseUsers(e->value, "users", /*allow_file=*/true, users));
    std::map<std::string, UserOrigin> seen;
    for (auto& [user, origin] : users) {
      auto [it, inserted] = seen.emplace(user.name, origin);
      if (!inserted) {
        return Invalid(origin.source + ":" + std::to_string(origin.line) +
                       ": " + origin.field + ": duplicate user name '" +
                       user.name + "' (first defined at " + it->second.source +
                       ":" + std::to_string(it->second.line) + ")");
      }
      config.users.push_back(std::move(user));
    }
  }
  if (const Entry* e = Find(top, "devices")) {
    RETURN_IF_ERROR(ParseDevices(e->value, config));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsValidLogLevel(std::string_view level) {
  for (const char* name :
       {"trace", "debug", "info", "warn", "error", "critical", "off"}) {
    if (level == name) return true;
  }
  return false;
}

const char* LogFormatName(LogFormat format) {
  return format == LogFormat::kJson ? "json" : "text";
}

const char* ClientCertPolicyName(ClientCertPolicy policy) {
  switch (policy) {
    case ClientCertPolicy::kNone:
      return "none";
    case ClientCertPolicy::kRequest:
      return "request";
    case ClientCertPolicy::kRequire:
      return "require";
  }
  return "none";
}

const char* CertIdentityName(CertIdentity identity) {
  switch (identity) {
    case CertIdentity::kNone:
      return "none";
    case CertIdentity::kCommonName:
      return "cn";
    case CertIdentity::kSubjectAltName:
      return "san";
  }
  return "none";
}

absl::StatusOr<HostPort> ParseListenAddress(std::string_view listen) {
  std::string text(listen);
  HostPort result;
  std::string port;
  if (text.empty()) return Invalid("empty address (expected host:port)");
  if (text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() ||
        text[close + 1] != ':') {
      return Invalid("'" + text + "' is not [IPv6]:port");
    }
    result.host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    unsigned char buffer[16];
    if (inet_pton(AF_INET6, result.host.c_str(), buffer) != 1) {
      return Invalid("'" + result.host + "' is not an IPv6 address");
    }
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos) {
      return Invalid("'" + text + "' has no port (expected host:port)");
    }
    result.host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (result.host.find(':') != std::string::npos) {
      return Invalid("IPv6 addresses need brackets: '[" + result.host +
                     "]:" + port + "'");
    }
    unsigned char buffer[4];
    bool ipv4 = inet_pton(AF_INET, result.host.c_str(), buffer) == 1;
    if (!ipv4 && !IsDnsName(result.host)) {
      return Invalid("'" + result.host +
                     "' is not an IPv4 address or host name");
    }
  }
  int value = -1;
  auto [end, ec] =
      std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() ||
      value < 0 || value > 65535) {
    return Invalid("'" + port + "' is not a port number (0-65535)");
  }
  result.port = value;
  return result;
}

absl::StatusOr<Config> ParseConfig(std::string_view yaml_text,
                                   const std::string& source_name,
                                   const std::string& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& ex) {
    return Invalid(source_name + ":" + std::to_string(ex.mark.line + 1) + ":" +
                   std::to_string(ex.mark.column + 1) +
                   ": invalid YAML: " + ex.msg);
  }
  Config config;
  config.source_file = source_name;
  config.base_dir = base_dir;
  Parser parser(source_name, base_dir);
  try {
    RETURN_IF_ERROR(parser.ParseTop(root, config));
  } catch (const YAML::Exception& ex) {
    return Invalid(source_name + ":" + std::to_string(ex.mark.line + 1) + ": " +
                   ex.msg);
  }
  if (!config.state_dir.empty()) {
    config.state_dir = fs::path(config.state_dir).lexically_normal().string();
  }
  return config;
}

absl::StatusOr<Config> LoadConfig(const std::string& path) {
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  if (ec) absolute = path;
  absolute = absolute.lexically_normal();
  std::ifstream in(absolute, std::ios::binary);
  if (!in) {
    return Invalid("cannot read configuration file " + absolute.string() +
                   ": " + std::strerror(errno));
  }
  std::ostringstream content;
  content << in.rdbuf();
  return ParseConfig(content.str(), absolute.string(),
                     absolute.parent_path().string());
}

std::string Config::DebugString() const {
  std::ostringstream out;
  out << "source_file: " << source_file << "\n";
  out << "server:\n";
  out << "  listen: " << listen << "\n";
  out << "  insecure: " << (insecure ? "true" : "false") << "\n";
  out << "  tls:\n";
  out << "    cert: \"" << tls.cert_file << "\"\n";
  out << "    key: \"" << tls.key_file << "\"\n";
  out << "    ca: \"" << tls.ca_file << "\"\n";
  out << "    client_cert: " << ClientCertPolicyName(tls.client_cert) << "\n";
  out << "    client_identity: " << CertIdentityName(tls.client_identity)
      << "\n";
  out << "    reload_interval_ms: " << tls.reload_interval.count() << "\n";
  out << "  shutdown_grace_ms: " << shutdown_grace.count() << "\n";
  out << "state_dir: " << state_dir << "\n";
  out << "log:\n  level: " << log.level
      << "\n  format: " << LogFormatName(log.format) << "\n";
  out << "ops:\n  listen: \"" << ops.listen << "\"\n";
  out << "limits:\n  peer: {rate: " << limits.peer.rate
      << ", burst: " << limits.peer.burst
      << ", max_in_flight: " << limits.peer_max_in_flight
      << ", max_streams: " << limits.peer_max_streams << "}\n"
      << "  user: {rate: " << limits.user.rate
      << ", burst: " << limits.user.burst
      << ", max_streams: " << limits.user_max_streams << "}\n"
      << "  max_in_flight: " << limits.max_in_flight
      << "\n  reserved_in_flight: " << limits.reserved_in_flight
      << "\n  max_streams: " << limits.max_streams
      << "\n  max_message_bytes: " << limits.max_message_bytes
      << "\n  max_paths_per_request: " << limits.max_paths_per_request
      << "\n  max_subscriptions_per_stream: "
      << limits.max_subscriptions_per_stream
      << "\n  max_connection_age_ms: " << limits.max_connection_age.count()
      << "\n";
  out << "telemetry:\n  max_pending_updates: " << telemetry.max_pending_updates
      << "\n  slow_client_timeout_ms: " << telemetry.slow_client_timeout.count()
      << "\n  slow_client_cancel_grace_ms: "
      << telemetry.slow_client_cancel_grace.count()
      << "\n  min_sample_interval_ms: " << telemetry.min_sample_interval.count()
      << "\n  max_updates_per_notification: "
      << telemetry.max_updates_per_notification
      << "\n  pipeline_notifications: " << telemetry.pipeline_notifications
      << "\n  poll_interval_ms: " << telemetry.poll_interval.count() << "\n";
  out << "yang:\n  dirs: [";
  for (size_t i = 0; i < yang_dirs.size(); ++i) {
    out << (i ? ", " : "") << yang_dirs[i];
  }
  out << "]\n";
  out << "plugins:\n  dir: \"" << plugin_dir << "\"\n";
  out << "users:\n";
  for (const auto& user : users) {
    out << "  - name: " << user.name
        << "\n    role: " << security::RoleName(user.role)
        << "\n    password_hash: "
        << (user.password_hash.empty() ? "<none: certificate only>"
                                       : "<redacted>")
        << "\n";
  }
  out << "auth:\n  throttle:\n    max_failures: " << throttle.max_failures
      << "\n    window_ms: " << throttle.window.count()
      << "\n    lockout_ms: " << throttle.lockout.count() << "\n";
  out << "authorization:\n  default: "
      << (authorization.default_allow ? "allow" : "deny") << "\n  rules:";
  out << (authorization.rules.empty() ? " []\n" : "\n");
  for (const auto& rule : authorization.rules) {
    out << "    - name: " << rule.name
        << "\n      effect: " << (rule.allow ? "allow" : "deny") << "\n";
  }
  out << "audit:\n  file: \"" << audit.file << "\"\n";
  out << "devices:\n";
  for (const auto& device : devices) {
    out << "  - name: " << device.name << "\n    driver: " << device.driver
        << "\n    address: \"" << device.address << "\"\n    username: \""
        << device.username << "\"\n    password: "
        << (device.password.empty() ? "<empty>" : "<redacted>")
        << "\n    options: " << device.options_json << "\n";
  }
  return out.str();
}

}  // namespace southgate::config
