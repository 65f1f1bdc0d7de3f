// Whole Subscribe handling: a client's stream of SubscribeRequests
// (SubscriptionList, Polls, anything else) through the real GnmiService
// and subscribe reactor, the telemetry hub and sim devices, over an
// in-process gRPC channel. The client reads what comes back; a STREAM that
// reached its sync_response is cancelled, the others end by themselves.
//
// Input: a serialized southgate.fuzz.SubscribeSession.
#include <chrono>
#include <cstdio>
#include <thread>

#include "fuzz_inputs.pb.h"
#include "gateway.h"
#include "grpcpp/grpcpp.h"

namespace {

constexpr int kMaxRequests = 8;
constexpr int kMaxResponses = 2000;
// A stream that neither ends nor syncs within this is cut by the client;
// reported on stderr (a subscription that never syncs is a bug) but not
// fatal, as a loaded machine can be slow.
constexpr auto kDeadline = std::chrono::seconds(10);

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  southgate::fuzz::Gateway::Instance();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace southgate::fuzz;
  southgate::fuzz::SubscribeSession session;
  if (!session.ParseFromArray(data, static_cast<int>(size))) return 0;
  Gateway& gateway = Gateway::Instance();
  grpc::ClientContext context;
  context.AddMetadata("username", kUser);
  context.AddMetadata("password", kPassword);
  context.set_deadline(std::chrono::system_clock::now() + kDeadline);
  auto stream = gateway.stub().Subscribe(&context);
  bool stream_mode = false;
  if (session.request_size() > 0 && session.request(0).has_subscribe()) {
    stream_mode =
        session.request(0).subscribe().mode() == gnmi::SubscriptionList::STREAM;
  }
  // The client writes while it reads, as a real one does: a server that
  // ends the stream early stops reading, and a write waits for the reader.
  std::thread writer([&] {
    int sent = 0;
    for (const gnmi::SubscribeRequest& request : session.request()) {
      if (sent++ == kMaxRequests || !stream->Write(request)) return;
    }
    stream->WritesDone();
  });
  gnmi::SubscribeResponse response;
  int received = 0;
  while (stream->Read(&response)) {
    if ((stream_mode && response.sync_response()) ||
        ++received == kMaxResponses) {
      context.TryCancel();
    }
  }
  // The stream has ended: a write still waiting gives up.
  context.TryCancel();
  writer.join();
  grpc::Status status = stream->Finish();
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    std::fprintf(stderr, "Subscribe did not end or sync within %lld s: %s\n",
                 static_cast<long long>(kDeadline.count()),
                 session.ShortDebugString().c_str());
  }
  return 0;
}
