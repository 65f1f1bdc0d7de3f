// The ceiling: the least a gNMI server can do to stream telemetry. A gRPC
// C++ callback-API server whose Subscribe answers any SubscriptionList with
// sync_response and then writes pre-built Notifications (the shape southgate
// sends: prefix target, N updates with interface-counter paths) back to back,
// one write in flight per stream, for as long as the client stays. No cache,
// no schema, no queue: what is left is gRPC, HTTP/2, TLS and protobuf
// serialization, which southgate pays too. Same TLS as southgated (a
// self-signed EC P-256 certificate made by southgate's own code).
//
// By default the Notifications are serialized once and the same bytes go to
// every stream (--wire bytes), like southgate's telemetry wire layer does;
// --wire proto re-serializes per write, like a typed gRPC service.
//
// Also answers Capabilities (the readiness probe). With --rate, each stream
// is paced to that many leaf updates per second and every Notification is
// stamped when it is built, for a latency floor.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "bench_support.h"
#include "github.com/openconfig/gnmi/proto/gnmi/gnmi.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "security/tls.h"

namespace southgate::bench {
namespace {

constexpr const char* kCounters[] = {
    "in-octets",          "in-unicast-pkts",    "in-broadcast-pkts",
    "in-multicast-pkts",  "in-discards",        "in-errors",
    "in-unknown-protos",  "out-octets",         "out-unicast-pkts",
    "out-broadcast-pkts", "out-multicast-pkts", "out-discards",
    "out-errors"};
constexpr int kCounterCount = sizeof(kCounters) / sizeof(kCounters[0]);

struct Options {
  std::string listen = "127.0.0.1:0";
  std::string state_dir;
  std::string target = "sim1";
  int updates = 10;
  std::string encoding = "json_ietf";
  int64_t rate = 0;            // leaf updates per second per stream; 0: unpaced
  std::string wire = "bytes";  // bytes: serialized once; proto: per write
  bool idle = false;           // only sync_response, then nothing
};

// Update i of a Notification: interface eth<i / 13>, counter i % 13, the
// way the sim's ietf-interfaces statistics look through southgate.
void FillUpdate(gnmi::Update* update, int i, uint64_t value,
                gnmi::Encoding encoding) {
  gnmi::Path* path = update->mutable_path();
  path->add_elem()->set_name("interfaces-state");
  gnmi::PathElem* interface = path->add_elem();
  interface->set_name("interface");
  (*interface->mutable_key())["name"] = absl::StrCat("eth", i / kCounterCount);
  path->add_elem()->set_name("statistics");
  path->add_elem()->set_name(kCounters[i % kCounterCount]);
  switch (encoding) {
    case gnmi::PROTO:
      update->mutable_val()->set_uint_val(value);
      break;
    case gnmi::JSON:
      // RFC 7951 writes uint64 as a string; so does southgate's JSON.
      update->mutable_val()->set_json_val(absl::StrCat("\"", value, "\""));
      break;
    default:
      update->mutable_val()->set_json_ietf_val(absl::StrCat("\"", value, "\""));
  }
}

gnmi::SubscribeResponse BuildResponse(const Options& options, int variant,
                                      gnmi::Encoding encoding) {
  gnmi::SubscribeResponse response;
  gnmi::Notification* notification = response.mutable_update();
  notification->set_timestamp(NowNs());
  notification->mutable_prefix()->set_target(options.target);
  for (int i = 0; i < options.updates; ++i) {
    FillUpdate(notification->add_update(), i,
               1'000'000'000ULL + variant * 7919ULL + i, encoding);
  }
  return response;
}

grpc::ByteBuffer ToByteBuffer(const google::protobuf::Message& message) {
  std::string bytes = message.SerializeAsString();
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// Subscribe is a raw (ByteBuffer) method so that the server can send bytes
// serialized once, as southgate's telemetry wire layer does; with
// --wire proto each write serializes the message again, as a typed gRPC
// service would.
class Service final
    : public gnmi::gNMI::WithCallbackMethod_Capabilities<
          gnmi::gNMI::WithRawCallbackMethod_Subscribe<gnmi::gNMI::Service>> {
 public:
  explicit Service(const Options& options) : options_(options) {
    // A few variants so that consecutive messages differ, like counters do.
    for (gnmi::Encoding encoding : {gnmi::JSON, gnmi::JSON_IETF, gnmi::PROTO}) {
      for (int v = 0; v < 16; ++v) {
        prebuilt_[encoding].push_back(BuildResponse(options, v, encoding));
        prebuilt_bytes_[encoding].push_back(
            ToByteBuffer(prebuilt_[encoding].back()));
      }
    }
    gnmi::SubscribeResponse sync;
    sync.set_sync_response(true);
    sync_ = ToByteBuffer(sync);
  }

  grpc::ServerUnaryReactor* Capabilities(
      grpc::CallbackServerContext* context, const gnmi::CapabilityRequest*,
      gnmi::CapabilityResponse* response) override {
    response->set_gnmi_version("0.10.0");
    response->add_supported_encodings(gnmi::JSON);
    response->add_supported_encodings(gnmi::JSON_IETF);
    response->add_supported_encodings(gnmi::PROTO);
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* Subscribe(
      grpc::CallbackServerContext* /*context*/) override {
    return new Stream(this);
  }

 private:
  class Stream final
      : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
   public:
    explicit Stream(Service* service) : service_(service) {
      StartRead(&request_);
    }

    void OnReadDone(bool ok) override {
      if (!ok) return;  // half-close or cancel: keep writing until cancelled
      if (started_) {
        StartRead(&request_);  // further requests (Poll) are ignored
        return;
      }
      started_ = true;
      gnmi::SubscribeRequest request;
      std::vector<grpc::Slice> slices;
      if (request_.Dump(&slices).ok()) {
        std::string bytes;
        for (const auto& slice : slices) {
          bytes.append(reinterpret_cast<const char*>(slice.begin()),
                       slice.size());
        }
        request.ParseFromString(bytes);
      }
      encoding_ = request.subscribe().encoding();
      if (service_->prebuilt_.find(encoding_) == service_->prebuilt_.end()) {
        encoding_ = gnmi::JSON_IETF;
      }
      const Options& options = service_->options_;
      interval_ = options.rate > 0
                      ? std::chrono::nanoseconds(1'000'000'000LL *
                                                 options.updates / options.rate)
                      : std::chrono::nanoseconds(0);
      next_ = std::chrono::steady_clock::now();
      StartWrite(&service_->sync_);
      StartRead(&request_);
    }

    void OnWriteDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status::OK);
        return;
      }
      const Options& options = service_->options_;
      if (options.idle) return;  // an idle subscription: the memory floor
      const size_t variant = sent_++ % 16;
      if (interval_.count() > 0) {
        // Paced: stamped when built. Sleeping holds one callback thread;
        // fine for the few streams a latency run uses.
        next_ += interval_;
        std::this_thread::sleep_until(next_);
        out_ = ToByteBuffer(BuildResponse(options, variant, encoding_));
      } else if (options.wire == "proto") {
        out_ = ToByteBuffer(service_->prebuilt_.at(encoding_)[variant]);
      } else {
        out_ = service_->prebuilt_bytes_.at(encoding_)[variant];  // shares
      }
      StartWrite(&out_);
    }

    void OnDone() override { delete this; }

   private:
    Service* service_;
    grpc::ByteBuffer request_;
    grpc::ByteBuffer out_;
    gnmi::Encoding encoding_ = gnmi::JSON_IETF;
    bool started_ = false;
    uint64_t sent_ = 0;
    std::chrono::nanoseconds interval_{0};
    std::chrono::steady_clock::time_point next_;
  };

  const Options options_;
  std::map<gnmi::Encoding, std::vector<gnmi::SubscribeResponse>> prebuilt_;
  std::map<gnmi::Encoding, std::vector<grpc::ByteBuffer>> prebuilt_bytes_;
  grpc::ByteBuffer sync_;
};

std::atomic<bool> g_stop{false};

}  // namespace
}  // namespace southgate::bench

int main(int argc, char** argv) {
  using namespace southgate::bench;
  Options options;
  CLI::App app{"gNMI Subscribe ceiling server (benchmark only)"};
  app.add_option("--listen", options.listen, "address:port");
  app.add_option("--state-dir", options.state_dir,
                 "where the self-signed certificate goes")
      ->required();
  app.add_option("--target", options.target, "prefix target to echo");
  app.add_option("--updates", options.updates, "updates per Notification")
      ->check(CLI::Range(1, 100000));
  app.add_option("--encoding", options.encoding,
                 "default encoding (the request's encoding wins)");
  app.add_option("--rate", options.rate,
                 "leaf updates per second per stream (0: as fast as possible)");
  app.add_option("--wire", options.wire,
                 "bytes: Notifications serialized once and shared; proto: "
                 "serialized on every write")
      ->check(CLI::IsMember({"bytes", "proto"}));
  app.add_flag("--idle", options.idle,
               "send only sync_response (memory floor of an idle stream)");
  CLI11_PARSE(app, argc, argv);

  std::string host = options.listen.substr(0, options.listen.rfind(':'));
  auto tls = southgate::security::LoadOrCreateServerCertificate(
      "", "", options.state_dir, {host});
  if (!tls.ok()) {
    std::cerr << "TLS: " << tls.status() << "\n";
    return 1;
  }
  Service service(options);
  grpc::SslServerCredentialsOptions credentials(
      GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  credentials.pem_key_cert_pairs.push_back({tls->key_pem, tls->cert_pem});
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen,
                           grpc::SslServerCredentials(credentials), &port);
  builder.SetMaxSendMessageSize(64 << 20);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::cerr << "cannot listen on " << options.listen << "\n";
    return 1;
  }
  std::cout << "ceiling server on " << host << ":" << port << std::endl;

  std::signal(SIGTERM, [](int) { g_stop = true; });
  std::signal(SIGINT, [](int) { g_stop = true; });
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  server->Shutdown(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(500));
  return 0;
}
