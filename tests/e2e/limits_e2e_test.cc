// Flood resistance of the real southgated over TLS: rate limits reached and
// recovered, message size, paths per request, subscriptions per stream,
// concurrent streams per client and per user (docs/security.md, "Flood
// resistance"). Each test starts a daemon with its own `limits:`. No test
// asserts a time: waits are bounded loops on observable outcomes.
#include <signal.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "daemon_fixture.h"
#include "github.com/openconfig/gnmi/proto/gnmi/gnmi.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"

namespace southgate::testing {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;
using Stream =
    grpc::ClientReaderWriter<gnmi::SubscribeRequest, gnmi::SubscribeResponse>;

gnmi::Path Description(const std::string& name = "eth0") {
  return MakePath({{"interfaces", {}},
                   {"interface", {{"name", name}}},
                   {"description", {}}});
}

// A daemon with one simulated device, metrics on {OPS_PORT}, and `limits`
// (YAML lines under "limits:", each indented two spaces).
class Limited {
 public:
  explicit Limited(const std::string& limits)
      : daemon_(TestConfig(SimDeviceYaml("sim1", {"update_interval_ms: 0"}), "",
                           "ops:\n  listen: 127.0.0.1:{OPS_PORT}\n"
                           "limits:\n" +
                               limits)) {
    ready_ = daemon_.WaitReady(std::chrono::seconds(60));
    stub_ = gnmi::gNMI::NewStub(daemon_.TlsChannel());
  }
  ~Limited() {
    // Whatever the test did, the daemon is still up and stops cleanly.
    EXPECT_TRUE(daemon_.running()) << daemon_.Log();
    EXPECT_EQ(daemon_.Stop(SIGTERM), 0) << daemon_.Log();
  }
  bool ready() const { return ready_; }
  DaemonProcess& daemon() { return daemon_; }
  gnmi::gNMI::Stub* stub() { return stub_.get(); }

  grpc::Status Get(const std::string& user = "admin",
                   const std::string& password = "admin", int paths = 1) {
    gnmi::GetRequest request;
    request.mutable_prefix()->set_target("sim1");
    for (int i = 0; i < paths; ++i) *request.add_path() = Description();
    request.set_encoding(gnmi::JSON_IETF);
    gnmi::GetResponse response;
    auto context = ContextFor(user, password);
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(30));
    return stub_->Get(context.get(), request, &response);
  }

  std::string Metrics() {
    httplib::Client client("127.0.0.1", daemon_.ops_port());
    auto response = client.Get("/metrics");
    return response ? response->body : std::string();
  }

 private:
  DaemonProcess daemon_;
  bool ready_ = false;
  std::unique_ptr<gnmi::gNMI::Stub> stub_;
};

struct Call {
  std::unique_ptr<grpc::ClientContext> context;
  std::unique_ptr<Stream> stream;
};

// A STREAM subscription to sim1 with `subscriptions` ON_CHANGE entries.
Call Open(gnmi::gNMI::Stub* stub, int subscriptions,
          const std::string& user = "admin",
          const std::string& password = "admin") {
  gnmi::SubscribeRequest request;
  gnmi::SubscriptionList* list = request.mutable_subscribe();
  list->mutable_prefix()->set_target("sim1");
  list->set_mode(gnmi::SubscriptionList::STREAM);
  list->set_encoding(gnmi::JSON_IETF);
  for (int i = 0; i < subscriptions; ++i) {
    gnmi::Subscription* subscription = list->add_subscription();
    *subscription->mutable_path() = Description("eth" + std::to_string(i));
    subscription->set_mode(gnmi::ON_CHANGE);
  }
  Call call;
  call.context = ContextFor(user, password);
  call.context->set_deadline(std::chrono::system_clock::now() +
                             std::chrono::seconds(60));
  call.stream = stub->Subscribe(call.context.get());
  call.stream->Write(request);
  return call;
}

// True once the stream delivered its sync_response; false if it ended, with
// its status in `*ended`.
bool Synced(Call& call, grpc::Status* ended) {
  gnmi::SubscribeResponse response;
  while (call.stream->Read(&response)) {
    if (response.sync_response()) return true;
  }
  *ended = call.stream->Finish();
  return false;
}

// Sends Gets until one is refused; returns that status (OK if none was
// within `attempts`).
grpc::Status GetUntilRefused(Limited& server, const std::string& user,
                             const std::string& password, int attempts) {
  for (int i = 0; i < attempts; ++i) {
    grpc::Status status = server.Get(user, password);
    if (!status.ok()) return status;
  }
  return grpc::Status::OK;
}

// Retries a Get (bounded) until it succeeds: the bucket refills.
bool GetRecovers(Limited& server, const std::string& user,
                 const std::string& password) {
  for (int i = 0; i < 300; ++i) {
    if (server.Get(user, password).ok()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

TEST(LimitsEndToEnd, PeerRateLimitReachedThenRecoveredAfterRefill) {
  Limited server("  peer: {rate: 2, burst: 4}\n");
  ASSERT_TRUE(server.ready()) << server.daemon().Log();
  grpc::Status refused = GetUntilRefused(server, "admin", "admin", 200);
  ASSERT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << refused.error_message();
  EXPECT_THAT(refused.error_message(), HasSubstr("limits.peer.rate=2"));
  EXPECT_THAT(refused.error_message(), HasSubstr("127.0.0.1"));
  // The refill brings the client back.
  EXPECT_TRUE(GetRecovers(server, "admin", "admin")) << server.daemon().Log();
  EXPECT_THAT(server.Metrics(),
              HasSubstr("southgate_gnmi_rejected_total{method=\"Get\","
                        "reason=\"peer_rate\"}"));
  EXPECT_THAT(server.daemon().Log(), HasSubstr("refused Get from 127.0.0.1"));
}

TEST(LimitsEndToEnd, UserRateLimitDoesNotTouchOtherUsers) {
  // No peer limit: only the users' buckets count.
  Limited server("  peer: {rate: 0}\n  user: {rate: 1, burst: 3}\n");
  ASSERT_TRUE(server.ready()) << server.daemon().Log();
  grpc::Status refused = GetUntilRefused(server, "viewer", "viewer", 200);
  ASSERT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << refused.error_message();
  EXPECT_THAT(refused.error_message(), HasSubstr("user 'viewer'"));
  EXPECT_THAT(refused.error_message(), HasSubstr("limits.user.rate=1"));
  // Another user on the same connection still has its own budget.
  grpc::Status admin = server.Get("admin", "admin");
  EXPECT_TRUE(admin.ok()) << admin.error_message();
  EXPECT_TRUE(GetRecovers(server, "viewer", "viewer"));
}

TEST(LimitsEndToEnd, WrongPasswordsSpendThePeersBudget) {
  // One failed authentication costs the whole burst.
  Limited server(
      "  peer: {rate: 1, burst: 10}\n  auth_failure_cost: 10\n"
      "  auth_failure_penalty_ms: 1000\n");
  ASSERT_TRUE(server.ready()) << server.daemon().Log();
  grpc::Status wrong = server.Get("admin", "not-the-password");
  ASSERT_EQ(wrong.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // Right away, even the right password is refused without being checked.
  grpc::Status refused = server.Get("admin", "admin");
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << refused.error_message();
  EXPECT_THAT(refused.error_message(), HasSubstr("limits.peer.rate"));
  EXPECT_TRUE(GetRecovers(server, "admin", "admin"));
}

TEST(LimitsEndToEnd, OversizedMessageIsRejectedAndChangesNothing) {
  Limited server("  max_message_bytes: 4096\n");
  ASSERT_TRUE(server.ready()) << server.daemon().Log();
  gnmi::SetRequest request;
  request.mutable_prefix()->set_target("sim1");
  gnmi::Update* update = request.add_update();
  *update->mutable_path() = Description();
  const std::string big(10000, 'x');
  update->mutable_val()->set_json_ietf_val(json(big).dump());
  gnmi::SetResponse response;
  auto context = ContextFor("admin", "admin");
  grpc::Status status = server.stub()->Set(context.get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << status.error_message();
  // The device did not get the value, and the server still answers.
  gnmi::GetRequest get;
  get.mutable_prefix()->set_target("sim1");
  *get.add_path() = Description();
  get.set_encoding(gnmi::JSON_IETF);
  gnmi::GetResponse got;
  auto get_context = ContextFor("admin", "admin");
  grpc::Status read = server.stub()->Get(get_context.get(), get, &got);
  ASSERT_TRUE(read.ok()) << read.error_message();
  EXPECT_THAT(got.DebugString(), ::testing::Not(HasSubstr("xxxxxxxxxx")));
}

TEST(LimitsEndToEnd, TooManyPathsInOneRequest) {
  Limited server("  max_paths_per_request: 3\n");
  ASSERT_TRUE(server.ready()) << server.daemon().Log();
  grpc::Status within = server.Get("admin", "admin", 3);
  EXPECT_TRUE(within.ok()) << within.error_message();
  grpc::Status over = server.Get("admin", "admin", 4);
  EXPECT_EQ(over.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(over.error_message(),
              HasSubstr("Get has 4 paths; limits.max_paths_per_request is 3"));
  EXPECT_THAT(server.Metrics(), HasSubstr("reason=\"too_many_paths\"} 1"));
}

TEST(LimitsEndToEnd, TooManySubscriptionsInOneStream) {
  Limited server("  max_subscriptions_per_stream: 2\n");
  ASSERT_TRUE(server.ready()) << server.daemon().Log();
  Call over = Open(server.stub(), 3);
  grpc::Status ended;
  ASSERT_FALSE(Synced(over, &ended));
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(ended.error_message(),
              HasSubstr("SubscriptionList has 3 subscriptions; "
                        "limits.max_subscriptions_per_stream is 2"));
  Call within = Open(server.stub(), 2);
  EXPECT_TRUE(Synced(within, &ended)) << ended.error_message();
  within.context->TryCancel();
}

TEST(LimitsEndToEnd, ConcurrentStreamsPerPeer) {
  Limited server("  peer: {max_streams: 2}\n");
  ASSERT_TRUE(server.ready()) << server.daemon().Log();
  grpc::Status ended;
  Call first = Open(server.stub(), 1);
  ASSERT_TRUE(Synced(first, &ended)) << ended.error_message();
  Call second = Open(server.stub(), 1, "viewer", "viewer");
  ASSERT_TRUE(Synced(second, &ended)) << ended.error_message();
  Call third = Open(server.stub(), 1);
  ASSERT_FALSE(Synced(third, &ended));
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(ended.error_message(), HasSubstr("limits.peer.max_streams=2"));
  // Unary calls are not streams: still served.
  EXPECT_TRUE(server.Get().ok());
  // Closing a stream frees its slot (released once the server has seen the
  // cancel: retried, bounded).
  first.context->TryCancel();
  first.stream->Finish();
  bool reopened = false;
  for (int i = 0; i < 100 && !reopened; ++i) {
    Call again = Open(server.stub(), 1);
    reopened = Synced(again, &ended);
    if (reopened) {
      again.context->TryCancel();
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  EXPECT_TRUE(reopened) << ended.error_message();
  second.context->TryCancel();
}

TEST(LimitsEndToEnd, ConcurrentStreamsPerUser) {
  Limited server("  user: {max_streams: 1}\n");
  ASSERT_TRUE(server.ready()) << server.daemon().Log();
  grpc::Status ended;
  Call first = Open(server.stub(), 1);
  ASSERT_TRUE(Synced(first, &ended)) << ended.error_message();
  Call second = Open(server.stub(), 1);
  ASSERT_FALSE(Synced(second, &ended));
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(ended.error_message(),
              HasSubstr("user 'admin' (limits.user.max_streams=1)"));
  // Another user has its own slots.
  Call viewer = Open(server.stub(), 1, "viewer", "viewer");
  EXPECT_TRUE(Synced(viewer, &ended)) << ended.error_message();
  first.context->TryCancel();
  viewer.context->TryCancel();
}

TEST(LimitsEndToEnd, TooFrequentKeepalivePingsCloseTheConnection) {
  // The server accepts a ping without data every 10 s at most; two strikes
  // and the connection gets a GOAWAY (too_many_pings).
  Limited server(
      "  keepalive: {min_ping_interval_ms: 10000, max_ping_strikes: 2}\n");
  ASSERT_TRUE(server.ready()) << server.daemon().Log();
  grpc::SslCredentialsOptions tls;
  std::ifstream cert(server.daemon().dir() + "/state/server.crt");
  tls.pem_root_certs.assign(std::istreambuf_iterator<char>(cert),
                            std::istreambuf_iterator<char>());
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 50);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  auto stub = gnmi::gNMI::NewStub(grpc::CreateCustomChannel(
      server.daemon().address(), grpc::SslCredentials(tls), args));
  Call call = Open(stub.get(), 1);
  grpc::Status ended;
  ASSERT_TRUE(Synced(call, &ended)) << ended.error_message();
  // No data flows (nothing changes), only the client's pings: the stream
  // ends long before its 60 s deadline.
  gnmi::SubscribeResponse response;
  while (call.stream->Read(&response)) {
  }
  ended = call.stream->Finish();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAVAILABLE)
      << ended.error_message();
  // A well-behaved client is still served.
  EXPECT_TRUE(server.Get().ok());
}

TEST(LimitsEndToEnd, ConnectionsAreRecycledAfterMaxAge) {
  // A connection older than 1 s gets a GOAWAY; RPCs still running on it
  // get 1 s more, then are cancelled; the client reconnects.
  Limited server(
      "  max_connection_age_ms: 1000\n  max_connection_age_grace_ms: 1000\n");
  ASSERT_TRUE(server.ready()) << server.daemon().Log();
  Call call = Open(server.stub(), 1);
  grpc::Status ended;
  ASSERT_TRUE(Synced(call, &ended)) << ended.error_message();
  // Nothing changes on the device: the stream ends only because of its
  // connection's age (bounded by the call's 60 s deadline).
  gnmi::SubscribeResponse response;
  while (call.stream->Read(&response)) {
  }
  ended = call.stream->Finish();
  EXPECT_FALSE(ended.ok());
  EXPECT_NE(ended.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
      << ended.error_message();
  // The same channel connects again and is served.
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    served = server.Get().ok();
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(served);
}

TEST(LimitsEndToEnd, ReloadKeepsTheLimitsAndSaysARestartIsNeeded) {
  const std::string devices = SimDeviceYaml("sim1", {"update_interval_ms: 0"});
  Limited server("  max_paths_per_request: 3\n");
  ASSERT_TRUE(server.ready()) << server.daemon().Log();
  server.daemon().RewriteConfig(
      TestConfig(devices, "",
                 "ops:\n  listen: 127.0.0.1:{OPS_PORT}\nlimits:\n  "
                 "max_paths_per_request: 100\n"));
  server.daemon().Signal(SIGHUP);
  bool warned = false;
  for (int i = 0; i < 100 && !warned; ++i) {
    warned = server.daemon().Log().find(
                 "reload: limits changed; that takes effect only after a "
                 "restart") != std::string::npos;
    if (!warned) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(warned) << server.daemon().Log();
  // Still the limit the daemon started with.
  EXPECT_EQ(server.Get("admin", "admin", 4).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
}

}  // namespace
}  // namespace southgate::testing
