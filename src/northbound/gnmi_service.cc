#include "northbound/gnmi_service.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "ops/metrics.h"
#include "spdlog/spdlog.h"

namespace southgate::northbound {
namespace {

// Per-method recorders, created once: the label lookups stay off the hot
// path.
ops::RpcRecorder& RecorderFor(std::string_view method) {
  static auto* capabilities =
      new ops::RpcRecorder(ops::Metrics::Default(), "Capabilities");
  static auto* get = new ops::RpcRecorder(ops::Metrics::Default(), "Get");
  static auto* set = new ops::RpcRecorder(ops::Metrics::Default(), "Set");
  // Subscribe streams refused before they start (the reactor counts the
  // others under the same labels).
  static auto* subscribe =
      new ops::RpcRecorder(ops::Metrics::Default(), "Subscribe");
  if (method == "Get") return *get;
  if (method == "Subscribe") return *subscribe;
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

GnmiService::GnmiService(GnmiHandler& handler, AccessControl& access,
                         WorkQueue& work)
    : handler_(handler), access_(access), work_(work) {}

template <typename Response>
grpc::ServerUnaryReactor* GnmiService::Serve(
    grpc::CallbackServerContext* context, const char* method,
    Response* response, size_t paths, Handle<Response> handle) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const auto start = std::chrono::steady_clock::now();
  ops::RpcRecorder* rpc = &RecorderFor(method);
  CallInfo call = access_.Capture(*context);
  // Admission before anything costs: request shape, then the peer's budget
  // and the lane. The ticket holds the in-flight slot until the work ends.
  Ticket ticket;
  WorkQueue* queue = &work_;
  if (admission_ != nullptr) {
    absl::Status shape = admission_->CheckPaths(paths, method);
    if (!shape.ok()) {
      Finish(reactor, rpc, start, ToGrpcStatus(shape));
      return reactor;
    }
    auto admitted = admission_->AdmitCall(
        call.peer, method, ClaimedCredentials{call.username, call.password});
    if (!admitted.ok()) {
      Finish(reactor, rpc, start, ToGrpcStatus(admitted.status()));
      return reactor;
    }
    ticket = *std::move(admitted);
    queue = &admission_->QueueFor(*ticket, work_);
  }
  bool posted =
      queue->Post([this, reactor, response, method, start, rpc, ticket,
                   call = std::move(call), handle = std::move(handle)] {
        auto identity = access_.Authenticate(call, method);
        if (!identity.ok()) {
          if (admission_ != nullptr)
            admission_->AuthenticationFailed(call.peer);
          Finish(reactor, rpc, start, ToGrpcStatus(identity.status()));
          return;
        }
        if (admission_ != nullptr) {
          absl::Status admitted =
              admission_->AdmitUser(*ticket, identity->user, method);
          if (!admitted.ok()) {
            Finish(reactor, rpc, start, ToGrpcStatus(admitted));
            return;
          }
        }
        absl::StatusOr<Response> result = handle(*identity, call);
        if (!result.ok()) {
          spdlog::info("{} by {} from {}: {}", method, identity->user,
                       call.peer, result.status().ToString());
          Finish(reactor, rpc, start, ToGrpcStatus(result.status()));
          return;
        }
        *response = std::move(result).value();
        Finish(reactor, rpc, start, grpc::Status::OK);
      });
  if (!posted) {
    ops::Metrics::Default().rate_limited.With({method}).Inc();
    Finish(reactor, rpc, start,
           ticket != nullptr
               ? ToGrpcStatus(admission_->LaneFull(*ticket, method))
               : grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                              "server busy: too many requests in flight"));
  }
  return reactor;
}

absl::Status GnmiService::AuthorizeTarget(
    const security::Identity& identity, const CallInfo& call,
    const char* method, const gnmi::Path& prefix,
    const std::vector<const gnmi::Path*>& paths, security::Access access,
    std::string* target_name) {
  *target_name = prefix.target();
  if (target_name->empty()) {
    // The handler picks the only device; a failure here is its error too.
    ASSIGN_OR_RETURN(auto device, handler_.ResolveTarget(""));
    *target_name = device->name();
  }
  return access_.Authorize(identity, call, method, *target_name, prefix, paths,
                           access);
}

grpc::ServerUnaryReactor* GnmiService::Capabilities(
    grpc::CallbackServerContext* context,
    const gnmi::CapabilityRequest* request,
    gnmi::CapabilityResponse* response) {
  return Serve<gnmi::CapabilityResponse>(
      context, "Capabilities", response, 0,
      [this, request](const security::Identity&, const CallInfo&) {
        return handler_.Capabilities(*request);
      });
}

grpc::ServerUnaryReactor* GnmiService::Get(grpc::CallbackServerContext* context,
                                           const gnmi::GetRequest* request,
                                           gnmi::GetResponse* response) {
  return Serve<gnmi::GetResponse>(
      context, "Get", response, static_cast<size_t>(request->path_size()),
      [this, request](const security::Identity& identity, const CallInfo& call)
          -> absl::StatusOr<gnmi::GetResponse> {
        std::vector<const gnmi::Path*> paths;
        for (const gnmi::Path& path : request->path()) paths.push_back(&path);
        std::string target;
        RETURN_IF_ERROR(AuthorizeTarget(identity, call, "Get",
                                        request->prefix(), paths,
                                        security::Access::kRead, &target));
        return handler_.Get(*request);
      });
}

grpc::ServerUnaryReactor* GnmiService::Set(grpc::CallbackServerContext* context,
                                           const gnmi::SetRequest* request,
                                           gnmi::SetResponse* response) {
  return Serve<gnmi::SetResponse>(
      context, "Set", response,
      static_cast<size_t>(request->delete__size() + request->replace_size() +
                          request->update_size() +
                          request->union_replace_size()),
      [this, request](const security::Identity& identity, const CallInfo& call)
          -> absl::StatusOr<gnmi::SetResponse> {
        std::vector<const gnmi::Path*> paths;
        for (const gnmi::Path& path : request->delete_()) {
          paths.push_back(&path);
        }
        for (const auto* updates : {&request->replace(), &request->update(),
                                    &request->union_replace()}) {
          for (const gnmi::Update& update : *updates) {
            paths.push_back(&update.path());
          }
        }
        std::vector<std::string> texts;
        for (const gnmi::Path* path : paths) {
          texts.push_back(
              security::DataPathString(ToDataPath(request->prefix(), *path)));
        }
        std::string target;
        absl::Status allowed =
            AuthorizeTarget(identity, call, "Set", request->prefix(), paths,
                            security::Access::kWrite, &target);
        if (!allowed.ok()) {
          // Denials are audited by Authorize; an unknown target here.
          if (allowed.code() != absl::StatusCode::kPermissionDenied) {
            access_.Audit(call, identity.user, "Set",
                          request->prefix().target(), std::move(texts),
                          allowed);
          }
          return allowed;
        }
        absl::StatusOr<gnmi::SetResponse> result = handler_.Set(*request);
        access_.Audit(call, identity.user, "Set", target, std::move(texts),
                      result.status());
        return result;
      });
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

// A stream admission control refused: its status at once.
class RefusedSubscribe final
    : public grpc::ServerBidiReactor<gnmi::SubscribeRequest,
                                     gnmi::SubscribeResponse> {
 public:
  explicit RefusedSubscribe(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerBidiReactor<gnmi::SubscribeRequest, gnmi::SubscribeResponse>*
GnmiService::Subscribe(grpc::CallbackServerContext* context) {
  if (subscribe_.hub == nullptr) return new UnimplementedSubscribe();
  if (admission_ == nullptr) return NewSubscribeReactor(context, subscribe_);
  ClaimedCredentials claimed;
  const auto& metadata = context->client_metadata();
  if (auto it = metadata.find("username"); it != metadata.end()) {
    claimed.user = std::string_view(it->second.data(), it->second.size());
  }
  if (auto it = metadata.find("password"); it != metadata.end()) {
    claimed.password = std::string_view(it->second.data(), it->second.size());
  }
  auto admitted = admission_->AdmitStream(context->peer(), claimed);
  if (!admitted.ok()) {
    RecorderFor("Subscribe")
        .Record(static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED),
                std::chrono::steady_clock::now());
    return new RefusedSubscribe(ToGrpcStatus(admitted.status()));
  }
  // The stream's copy of the context holds the ticket (in the hook) until
  // the stream is gone; its set-up runs on the ticket's lane.
  SubscribeContext stream = subscribe_;
  Ticket ticket = *std::move(admitted);
  stream.work = &admission_->QueueFor(*ticket, *subscribe_.work);
  Admission* admission = admission_;
  const std::string peer = context->peer();
  stream.admit_subscription = [admission, ticket](
                                  const std::string& user,
                                  const gnmi::SubscriptionList& list) {
    RETURN_IF_ERROR(admission->CheckSubscriptions(
        static_cast<size_t>(list.subscription_size())));
    return admission->AdmitStreamUser(*ticket, user);
  };
  stream.authentication_failed = [admission, peer] {
    admission->AuthenticationFailed(peer);
  };
  return NewSubscribeReactor(context, stream);
}

}  // namespace southgate::northbound
