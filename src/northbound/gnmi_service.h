// The gRPC edge of gNMI: authenticates each call from its metadata, moves
// the work off the gRPC thread onto the work queue, and converts
// absl::Status to grpc::Status. The semantics live in GnmiHandler.
#pragma once

#include <memory>
#include <string>

#include "common/work_queue.h"
#include "github.com/openconfig/gnmi/proto/gnmi/gnmi.grpc.pb.h"
#include "northbound/access.h"
#include "northbound/admission.h"
#include "northbound/gnmi_handler.h"
#include "northbound/subscribe_reactor.h"

namespace southgate::northbound {

class GnmiService final : public gnmi::gNMI::CallbackService {
 public:
  GnmiService(GnmiHandler& handler, AccessControl& access, WorkQueue& work);

  grpc::ServerUnaryReactor* Capabilities(
      grpc::CallbackServerContext* context,
      const gnmi::CapabilityRequest* request,
      gnmi::CapabilityResponse* response) override;
  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* context,
                                const gnmi::GetRequest* request,
                                gnmi::GetResponse* response) override;
  grpc::ServerUnaryReactor* Set(grpc::CallbackServerContext* context,
                                const gnmi::SetRequest* request,
                                gnmi::SetResponse* response) override;
  grpc::ServerBidiReactor<gnmi::SubscribeRequest, gnmi::SubscribeResponse>*
  Subscribe(grpc::CallbackServerContext* context) override;

  // Subscribe answers UNIMPLEMENTED until this is called (before serving).
  void EnableSubscribe(const SubscribeContext& subscribe) {
    subscribe_ = subscribe;
  }
  // Rate limits, concurrency caps and load shedding (before serving); off
  // until called. `admission` outlives the server.
  void EnableAdmission(Admission* admission) { admission_ = admission; }

 private:
  // `handle` runs on a worker after authentication; it authorizes what
  // it touches (AuthorizeTarget) before touching it.
  template <typename Response>
  using Handle = std::function<absl::StatusOr<Response>(
      const security::Identity&, const CallInfo&)>;
  template <typename Response>
  grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* context,
                                  const char* method, Response* response,
                                  size_t paths, Handle<Response> handle);
  // Authorizes `paths` under `prefix` on the target the request addresses
  // (the only device when the prefix names none).
  absl::Status AuthorizeTarget(const security::Identity& identity,
                               const CallInfo& call, const char* method,
                               const gnmi::Path& prefix,
                               const std::vector<const gnmi::Path*>& paths,
                               security::Access access,
                               std::string* target_name);

  GnmiHandler& handler_;
  AccessControl& access_;
  WorkQueue& work_;
  SubscribeContext subscribe_;
  Admission* admission_ = nullptr;
};

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace southgate::northbound
