#include "northbound/gnmi_service.h"

#include "absl/strings/str_cat.h"
#include "ops/metrics.h"
#include "spdlog/spdlog.h"

namespace southgate::northbound {
namespace {

struct Credentials {
  std::string username;
  std::string password;
  std::string peer;
};

// Copied while the call is fresh: the metadata map is only ours until Finish.
Credentials CredentialsOf(grpc::CallbackServerContext* context) {
  Credentials credentials;
  const auto& metadata = context->client_metadata();
  if (auto it = metadata.find("username"); it != metadata.end()) {
    credentials.username.assign(it->second.data(), it->second.size());
  }
  if (auto it = metadata.find("password"); it != metadata.end()) {
    credentials.password.assign(it->second.data(), it->second.size());
  }
  credentials.peer = context->peer();
  return credentials;
}

// Per-method recorders, created once: the label lookups stay off the hot
// path.
ops::RpcRecorder& RecorderFor(std::string_view method) {
  static auto* capabilities =
      new ops::RpcRecorder(ops::Metrics::Default(), "Capabilities");
  static auto* get = new ops::RpcRecorder(ops::Metrics::Default(), "Get");
  static auto* set = new ops::RpcRecorder(ops::Metrics::Default(), "Set");
  if (method == "Get") return *get;
  if (method == "Set") return *set;
  return *capabilities;
}

// Every unary answer goes through here so that none escapes the metrics.
void Finish(grpc::ServerUnaryReactor* reactor, ops::RpcRecorder* rpc,
            std::chrono::steady_clock::time_point start,
            const grpc::Status& status) {
  rpc->Record(status.error_code(), start);
  reactor->Finish(status);
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

GnmiService::GnmiService(GnmiHandler& handler, security::Authenticator& users,
                         WorkQueue& work)
    : handler_(handler), users_(users), work_(work) {}

template <typename Response>
grpc::ServerUnaryReactor* GnmiService::Serve(
    grpc::CallbackServerContext* context, Access access, const char* method,
    Response* response, std::function<absl::StatusOr<Response>()> handle) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const auto start = std::chrono::steady_clock::now();
  ops::RpcRecorder* rpc = &RecorderFor(method);
  Credentials credentials = CredentialsOf(context);
  bool posted = work_.Post([this, reactor, response, access, method, start, rpc,
                            credentials = std::move(credentials),
                            handle = std::move(handle)] {
    if (credentials.username.empty()) {
      spdlog::info("{} from {}: no credentials", method, credentials.peer);
      ops::Metrics::Default().auth_failures.With({"no_credentials"}).Inc();
      Finish(reactor, rpc, start,
             grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "username and password metadata are required"));
      return;
    }
    auto identity =
        users_.Authenticate(credentials.username, credentials.password);
    if (!identity.ok()) {
      spdlog::warn("{} from {}: authentication failed for user '{}'", method,
                   credentials.peer, credentials.username);
      ops::Metrics::Default().auth_failures.With({"invalid_credentials"}).Inc();
      Finish(reactor, rpc, start, ToGrpcStatus(identity.status()));
      return;
    }
    if (access == Access::kWrite && !security::MayWrite(*identity)) {
      spdlog::warn("{} from {}: user '{}' may not write", method,
                   credentials.peer, credentials.username);
      ops::Metrics::Default().auth_failures.With({"permission_denied"}).Inc();
      Finish(reactor, rpc, start,
             grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          absl::StrCat("user '", credentials.username, "' is ",
                                       security::RoleName(identity->role),
                                       " and may not change devices")));
      return;
    }
    absl::StatusOr<Response> result = handle();
    if (!result.ok()) {
      spdlog::info("{} by {} from {}: {}", method, credentials.username,
                   credentials.peer, result.status().ToString());
      Finish(reactor, rpc, start, ToGrpcStatus(result.status()));
      return;
    }
    *response = std::move(result).value();
    Finish(reactor, rpc, start, grpc::Status::OK);
  });
  if (!posted) {
    ops::Metrics::Default().rate_limited.With({method}).Inc();
    Finish(reactor, rpc, start,
           grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        "server busy: too many requests in flight"));
  }
  return reactor;
}

grpc::ServerUnaryReactor* GnmiService::Capabilities(
    grpc::CallbackServerContext* context,
    const gnmi::CapabilityRequest* request,
    gnmi::CapabilityResponse* response) {
  return Serve<gnmi::CapabilityResponse>(
      context, Access::kRead, "Capabilities", response,
      [this, request] { return handler_.Capabilities(*request); });
}

grpc::ServerUnaryReactor* GnmiService::Get(grpc::CallbackServerContext* context,
                                           const gnmi::GetRequest* request,
                                           gnmi::GetResponse* response) {
  return Serve<gnmi::GetResponse>(
      context, Access::kRead, "Get", response,
      [this, request] { return handler_.Get(*request); });
}

grpc::ServerUnaryReactor* GnmiService::Set(grpc::CallbackServerContext* context,
                                           const gnmi::SetRequest* request,
                                           gnmi::SetResponse* response) {
  return Serve<gnmi::SetResponse>(
      context, Access::kWrite, "Set", response,
      [this, request] { return handler_.Set(*request); });
}

namespace {

// Without a telemetry hub (EnableSubscribe not called): a clear
// UNIMPLEMENTED, per the spec's allowance, rather than a stream that never
// answers.
class UnimplementedSubscribe final
    : public grpc::ServerBidiReactor<gnmi::SubscribeRequest,
                                     gnmi::SubscribeResponse> {
 public:
  UnimplementedSubscribe() {
    Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                        "Subscribe is not enabled on this server"));
  }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerBidiReactor<gnmi::SubscribeRequest, gnmi::SubscribeResponse>*
GnmiService::Subscribe(grpc::CallbackServerContext* context) {
  if (subscribe_.hub == nullptr) return new UnimplementedSubscribe();
  return NewSubscribeReactor(context, subscribe_);
}

}  // namespace southgate::northbound
