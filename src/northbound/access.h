// Who is calling and may they do this: authentication (metadata username
// and password, or a verified client certificate), login throttling,
// authorization by role and rule, and the audit log, for every gNMI RPC.
// Called from the work queue, never on a gRPC thread (argon2 is slow).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "github.com/openconfig/gnmi/proto/gnmi/gnmi.pb.h"
#include "grpcpp/grpcpp.h"
#include "security/access_rule.h"
#include "security/audit_log.h"
#include "security/authenticator.h"
#include "security/authorizer.h"
#include "security/login_throttle.h"

namespace southgate::northbound {

// What a call brought, copied on the gRPC thread while the call is fresh.
struct CallInfo {
  std::string username;
  std::string password;
  std::string peer;          // gRPC's form, "ipv4:127.0.0.1:5555"
  std::string peer_address;  // without the port
  // Names the verified client certificate offers as identity (its CN, or
  // its SANs), per server.tls.client_identity; empty without one.
  std::vector<std::string> certificate_names;
};

class AccessControl {
 public:
  AccessControl(security::Authenticator& users,
                security::LoginThrottle& throttle,
                security::Authorizer& authorizer,
                security::CertIdentity cert_identity,
                security::AuditLog* audit);

  CallInfo Capture(const grpc::CallbackServerContext& context) const;

  // The caller's identity, or UNAUTHENTICATED (bad or no credentials) or
  // RESOURCE_EXHAUSTED (locked out after too many failures). Failures are
  // logged, counted in the metrics and audited.
  absl::StatusOr<security::Identity> Authenticate(const CallInfo& call,
                                                  std::string_view method);

  // Checks every path (prefix joined) for `target`; the first denial is
  // logged, audited and returned (PERMISSION_DENIED naming the rule).
  absl::Status Authorize(const security::Identity& identity,
                         const CallInfo& call, std::string_view method,
                         std::string_view target, const gnmi::Path& prefix,
                         const std::vector<const gnmi::Path*>& paths,
                         security::Access access);

  // One audit line (no-op without an audit log).
  void Audit(const CallInfo& call, std::string_view user,
             std::string_view method, std::string_view target,
             std::vector<std::string> paths, const absl::Status& result);

 private:
  absl::StatusOr<security::Identity> Refuse(const CallInfo& call,
                                            std::string_view method,
                                            const char* reason,
                                            absl::Status status);

  security::Authenticator& users_;
  security::LoginThrottle& throttle_;
  security::Authorizer& authorizer_;
  const security::CertIdentity cert_identity_;
  security::AuditLog* const audit_;
};

// prefix + path as a DataPath (module prefixes stripped).
security::DataPath ToDataPath(const gnmi::Path& prefix, const gnmi::Path& path);

}  // namespace southgate::northbound
