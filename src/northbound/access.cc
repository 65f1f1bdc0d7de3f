#include "northbound/access.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log_limiter.h"
#include "ops/metrics.h"
#include "spdlog/spdlog.h"

namespace southgate::northbound {
namespace {

// Password guessing and credential-less floods are logged at most once per
// second per kind (the audit log and the metrics still count every call).
LogLimiter& FloodLog() {
  static auto* log = new LogLimiter();
  return *log;
}

ops::Family<ops::Counter>& LockoutsStarted() {
  static auto& family = ops::Metrics::Default().registry.AddCounter(
      "southgate_auth_lockouts_total",
      "Lockouts started after too many failed logins, by scope (peer, user)",
      {"scope"});
  return family;
}

ops::Family<ops::Counter>& ThrottledRequests() {
  static auto& family = ops::Metrics::Default().registry.AddCounter(
      "southgate_auth_throttled_total",
      "Requests refused without a password check because their peer or "
      "user was locked out, by scope (peer, user)",
      {"scope"});
  return family;
}

std::string Seconds(absl::Duration duration) {
  return absl::StrCat(std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(
                                               duration, absl::Seconds(1)))),
                      " s");
}

}  // namespace

security::DataPath ToDataPath(const gnmi::Path& prefix,
                              const gnmi::Path& path) {
  security::DataPath out;
  for (const gnmi::Path* part : {&prefix, &path}) {
    for (const gnmi::PathElem& elem : part->elem()) {
      security::PathElem converted;
      converted.name = security::StripModule(elem.name());
      for (const auto& [key, value] : elem.key()) {
        converted.keys[key] = value;
      }
      out.push_back(std::move(converted));
    }
  }
  return out;
}

AccessControl::AccessControl(security::Authenticator& users,
                             security::LoginThrottle& throttle,
                             security::Authorizer& authorizer,
                             security::CertIdentity cert_identity,
                             security::AuditLog* audit)
    : users_(users),
      throttle_(throttle),
      authorizer_(authorizer),
      cert_identity_(cert_identity),
      audit_(audit) {}

CallInfo AccessControl::Capture(
    const grpc::CallbackServerContext& context) const {
  CallInfo call;
  const auto& metadata = context.client_metadata();
  if (auto it = metadata.find("username"); it != metadata.end()) {
    call.username.assign(it->second.data(), it->second.size());
  }
  if (auto it = metadata.find("password"); it != metadata.end()) {
    call.password.assign(it->second.data(), it->second.size());
  }
  call.peer = context.peer();
  call.peer_address = security::PeerAddress(call.peer);
  if (cert_identity_ == security::CertIdentity::kNone) return call;
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  // Only a certificate the TLS layer verified against the CA bundle counts.
  if (!auth || !auth->IsPeerAuthenticated()) return call;
  const char* property = cert_identity_ == security::CertIdentity::kCommonName
                             ? GRPC_X509_CN_PROPERTY_NAME
                             : GRPC_X509_SAN_PROPERTY_NAME;
  for (const grpc::string_ref& value : auth->FindPropertyValues(property)) {
    call.certificate_names.emplace_back(value.data(), value.size());
  }
  return call;
}

absl::StatusOr<security::Identity> AccessControl::Refuse(
    const CallInfo& call, std::string_view method, const char* reason,
    absl::Status status) {
  ops::Metrics::Default().auth_failures.With({reason}).Inc();
  Audit(call, call.username, method, "", {}, status);
  return status;
}

absl::StatusOr<security::Identity> AccessControl::Authenticate(
    const CallInfo& call, std::string_view method) {
  if (!call.username.empty()) {
    if (!call.certificate_names.empty() &&
        std::find(call.certificate_names.begin(), call.certificate_names.end(),
                  call.username) == call.certificate_names.end()) {
      spdlog::warn(
          "{} from {}: username '{}' does not match the client certificate "
          "({})",
          std::string(method), call.peer, call.username,
          absl::StrJoin(call.certificate_names, ", "));
      return Refuse(call, method, "certificate_mismatch",
                    absl::UnauthenticatedError(absl::StrCat(
                        "username '", call.username,
                        "' does not match the client certificate")));
    }
    if (auto lockout = throttle_.Check(call.peer_address, call.username)) {
      const char* scope = security::ScopeName(lockout->scope);
      ThrottledRequests().With({scope}).Inc();
      if (auto suppressed = FloodLog().Admit("throttled")) {
        spdlog::warn(
            "{} from {}: user '{}' refused: {} locked out for {} more{}",
            std::string(method), call.peer, call.username, scope,
            Seconds(lockout->retry_after), LogLimiter::Suffix(*suppressed));
      }
      return Refuse(call, method, "throttled",
                    absl::ResourceExhaustedError(absl::StrCat(
                        "too many failed logins ",
                        lockout->scope == security::LoginThrottle::Scope::kPeer
                            ? absl::StrCat("from ", call.peer_address)
                            : absl::StrCat("for user '", call.username, "'"),
                        "; retry in ", Seconds(lockout->retry_after))));
    }
    auto identity = users_.Authenticate(call.username, call.password);
    if (!identity.ok()) {
      if (auto suppressed = FloodLog().Admit("authentication_failed")) {
        spdlog::warn("{} from {}: authentication failed for user '{}'{}",
                     std::string(method), call.peer, call.username,
                     LogLimiter::Suffix(*suppressed));
      }
      for (auto scope :
           throttle_.RecordFailure(call.peer_address, call.username)) {
        LockoutsStarted().With({security::ScopeName(scope)}).Inc();
        spdlog::warn("too many failed logins: {} {} locked out",
                     security::ScopeName(scope),
                     scope == security::LoginThrottle::Scope::kPeer
                         ? call.peer_address
                         : call.username);
      }
      return Refuse(call, method, "invalid_credentials", identity.status());
    }
    throttle_.RecordSuccess(call.peer_address, call.username);
    return identity;
  }
  if (!call.certificate_names.empty()) {
    // CN: one name. SAN: the first entry that names a user.
    absl::StatusOr<security::Identity> identity =
        users_.IdentityOf(call.certificate_names.front());
    for (size_t i = 1; !identity.ok() && i < call.certificate_names.size();
         ++i) {
      identity = users_.IdentityOf(call.certificate_names[i]);
    }
    if (!identity.ok()) {
      spdlog::warn("{} from {}: client certificate ({}) names no user",
                   std::string(method), call.peer,
                   absl::StrJoin(call.certificate_names, ", "));
      return Refuse(call, method, "unknown_certificate_identity",
                    identity.status());
    }
    return identity;
  }
  if (auto suppressed = FloodLog().Admit("no_credentials")) {
    spdlog::info("{} from {}: no credentials{}", std::string(method), call.peer,
                 LogLimiter::Suffix(*suppressed));
  }
  return Refuse(call, method, "no_credentials",
                absl::UnauthenticatedError(
                    cert_identity_ == security::CertIdentity::kNone
                        ? "username and password metadata are required"
                        : "username and password metadata, or a client "
                          "certificate naming a user, are required"));
}

absl::Status AccessControl::Authorize(
    const security::Identity& identity, const CallInfo& call,
    std::string_view method, std::string_view target, const gnmi::Path& prefix,
    const std::vector<const gnmi::Path*>& paths, security::Access access) {
  static const gnmi::Path kRoot;
  std::vector<const gnmi::Path*> checked = paths;
  if (checked.empty()) checked.push_back(&kRoot);  // a request for everything
  for (const gnmi::Path* path : checked) {
    security::DataPath data_path = ToDataPath(prefix, *path);
    absl::Status status =
        authorizer_.Check(identity, target, data_path, access);
    if (status.ok()) continue;
    spdlog::warn("{} by {} from {}: {}", std::string(method), identity.user,
                 call.peer, std::string(status.message()));
    ops::Metrics::Default().auth_failures.With({"permission_denied"}).Inc();
    std::vector<std::string> texts;
    for (const gnmi::Path* p : checked) {
      texts.push_back(security::DataPathString(ToDataPath(prefix, *p)));
    }
    Audit(call, identity.user, method, target, std::move(texts), status);
    return status;
  }
  return absl::OkStatus();
}

void AccessControl::Audit(const CallInfo& call, std::string_view user,
                          std::string_view method, std::string_view target,
                          std::vector<std::string> paths,
                          const absl::Status& result) {
  if (audit_ == nullptr) return;
  security::AuditRecord record;
  record.user = std::string(user);
  record.peer = call.peer;
  record.target = std::string(target);
  record.operation = std::string(method);
  record.paths = std::move(paths);
  record.result = result.ok() ? "OK" : absl::StatusCodeToString(result.code());
  record.message = std::string(result.message());
  audit_->Write(record);
}

}  // namespace southgate::northbound
