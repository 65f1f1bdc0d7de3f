// The gRPC edge of gNMI: authenticates each call from its metadata, moves
// the work off the gRPC thread onto the work queue, and converts
// absl::Status to grpc::Status. The semantics live in GnmiHandler.
#pragma once

#include <memory>
#include <string>

#include "common/work_queue.h"
#include "github.com/openconfig/gnmi/proto/gnmi/gnmi.grpc.pb.h"
#include "northbound/gnmi_handler.h"
#include "northbound/subscribe_reactor.h"
#include "security/authenticator.h"

namespace southgate::northbound {

class GnmiService final : public gnmi::gNMI::CallbackService {
 public:
  GnmiService(GnmiHandler& handler, security::Authenticator& users,
              WorkQueue& work);

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

 private:
  enum class Access { kRead, kWrite };
  template <typename Response>
  grpc::ServerUnaryReactor* Serve(
      grpc::CallbackServerContext* context, Access access, const char* method,
      Response* response, std::function<absl::StatusOr<Response>()> handle);

  GnmiHandler& handler_;
  security::Authenticator& users_;
  WorkQueue& work_;
  SubscribeContext subscribe_;
};

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace southgate::northbound
