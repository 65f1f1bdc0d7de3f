// gNMI Subscribe against the real southgated binary over TLS, the way gnmic
// subscribes: every mode and option, sync_response placement, POLL round
// trips, sharing of driver subscriptions (read from the daemon's debug log
// line "telemetry: upstream_subscriptions=N ..."), slow clients, deletes.
// No wall-clock assertions: every wait is bounded by a generous deadline.
#include <signal.h>

#include <atomic>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "daemon_fixture.h"
#include "github.com/openconfig/gnmi/proto/gnmi/gnmi.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace southgate::testing {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;
using Stream =
    grpc::ClientReaderWriter<gnmi::SubscribeRequest, gnmi::SubscribeResponse>;

const std::string kConfig = TestConfig(
    SimDeviceYaml("sim1", {"update_interval_ms: 0"}) +
    SimDeviceYaml("sim2", {"update_interval_ms: 50"}) +
    SimDeviceYaml("load", {"update_interval_ms: 0", "change_rate: 200000",
                           "change_leaves: 4000", "change_batch: 100"}));

gnmi::Path Description(const std::string& name = "eth0") {
  return MakePath({{"interfaces", {}},
                   {"interface", {{"name", name}}},
                   {"description", {}}});
}

gnmi::Path InOctets(const std::string& name = "eth0") {
  return MakePath({{"interfaces-state", {}},
                   {"interface", {{"name", name}}},
                   {"statistics", {}},
                   {"in-octets", {}}});
}

struct Sub {
  gnmi::Path path;
  gnmi::SubscriptionMode mode = gnmi::TARGET_DEFINED;
  uint64_t sample_interval = 0;
  bool suppress_redundant = false;
  uint64_t heartbeat_interval = 0;
};

gnmi::SubscribeRequest Request(
    const std::string& target, std::vector<Sub> subs,
    gnmi::SubscriptionList::Mode mode = gnmi::SubscriptionList::STREAM,
    gnmi::Encoding encoding = gnmi::JSON_IETF, bool updates_only = false) {
  gnmi::SubscribeRequest request;
  gnmi::SubscriptionList* list = request.mutable_subscribe();
  list->mutable_prefix()->set_target(target);
  list->set_mode(mode);
  list->set_encoding(encoding);
  list->set_updates_only(updates_only);
  for (const Sub& sub : subs) {
    gnmi::Subscription* subscription = list->add_subscription();
    *subscription->mutable_path() = sub.path;
    subscription->set_mode(sub.mode);
    subscription->set_sample_interval(sub.sample_interval);
    subscription->set_suppress_redundant(sub.suppress_redundant);
    subscription->set_heartbeat_interval(sub.heartbeat_interval);
  }
  return request;
}

constexpr uint64_t kMs = 1000000;  // nanoseconds

// The last element name of an update's path plus its interface key.
std::string Describe(const gnmi::Path& path) {
  std::string out;
  for (const auto& elem : path.elem()) {
    out += "/" + elem.name();
    for (const auto& [k, v] : elem.key()) out += "[" + k + "=" + v + "]";
  }
  return out;
}

class SubscribeEndToEnd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    daemon_ = new DaemonProcess(kConfig);
    ASSERT_TRUE(daemon_->WaitReady(std::chrono::seconds(60))) << daemon_->Log();
    stub_ = gnmi::gNMI::NewStub(daemon_->TlsChannel()).release();
  }
  static void TearDownTestSuite() {
    delete stub_;
    stub_ = nullptr;
    EXPECT_EQ(daemon_->Stop(SIGTERM), 0) << daemon_->Log();
    delete daemon_;
    daemon_ = nullptr;
  }

  struct Call {
    std::unique_ptr<grpc::ClientContext> context;
    std::unique_ptr<Stream> stream;
    // Reads the next response; false when the stream ended.
    bool Read(gnmi::SubscribeResponse* response) {
      return stream->Read(response);
    }
    grpc::Status Finish() { return stream->Finish(); }
    void Cancel() { context->TryCancel(); }
  };

  // A Subscribe call with a 60 s deadline so that no test can hang.
  Call Open(const gnmi::SubscribeRequest& request,
            gnmi::gNMI::Stub* stub = nullptr, const std::string& user = "admin",
            const std::string& password = "admin") {
    Call call;
    call.context = user.empty() ? std::make_unique<grpc::ClientContext>()
                                : ContextFor(user, password);
    call.context->set_deadline(std::chrono::system_clock::now() +
                               std::chrono::seconds(60));
    call.stream = (stub ? stub : stub_)->Subscribe(call.context.get());
    EXPECT_TRUE(call.stream->Write(request));
    return call;
  }

  // Reads until sync_response; returns the notifications before it.
  std::vector<gnmi::Notification> ReadUntilSync(Call& call) {
    std::vector<gnmi::Notification> out;
    gnmi::SubscribeResponse response;
    while (call.Read(&response)) {
      if (response.sync_response()) return out;
      EXPECT_TRUE(response.has_update()) << response.DebugString();
      out.push_back(response.update());
    }
    ADD_FAILURE() << "stream ended before sync_response: "
                  << call.Finish().error_message();
    return out;
  }

  // Reads notifications until `predicate` holds for one (or the stream ends).
  bool ReadUntil(Call& call,
                 const std::function<bool(const gnmi::Notification&)>& match,
                 int max_messages = 10000) {
    gnmi::SubscribeResponse response;
    for (int i = 0; i < max_messages && call.Read(&response); ++i) {
      if (response.has_update() && match(response.update())) return true;
    }
    return false;
  }

  grpc::Status SetDescription(const std::string& value,
                              const std::string& name = "eth0") {
    gnmi::SetRequest request;
    request.mutable_prefix()->set_target("sim1");
    gnmi::Update* update = request.add_update();
    *update->mutable_path() = Description(name);
    update->mutable_val()->set_json_ietf_val(json(value).dump());
    gnmi::SetResponse response;
    auto context = ContextFor("admin", "admin");
    return stub_->Set(context.get(), request, &response);
  }

  // The latest "telemetry: upstream_subscriptions=N" in the daemon log.
  // `max_seen` covers the log from offset `from` on.
  static int LoggedUpstreams(int* max_seen = nullptr, size_t from = 0) {
    static const std::regex kLine("upstream_subscriptions=([0-9]+)");
    std::string log = daemon_->Log();
    log = log.substr(std::min(from, log.size()));
    int last = -1;
    for (auto it = std::sregex_iterator(log.begin(), log.end(), kLine);
         it != std::sregex_iterator(); ++it) {
      last = std::stoi((*it)[1]);
      if (max_seen) *max_seen = std::max(*max_seen, last);
    }
    return last;
  }
  // The live driver subscriptions, as the daemon exposes them through gNMI
  // on its own target (southgate-devices:daemon/telemetry).
  static int Upstreams() {
    gnmi::GetRequest request;
    request.mutable_prefix()->set_target("southgate");
    *request.add_path() = MakePath(
        {{"daemon", {}}, {"telemetry", {}}, {"upstream-subscriptions", {}}});
    request.set_encoding(gnmi::PROTO);
    gnmi::GetResponse response;
    auto context = ContextFor("viewer", "viewer");
    if (!stub_->Get(context.get(), request, &response).ok() ||
        response.notification_size() != 1 ||
        response.notification(0).update_size() != 1) {
      return -1;
    }
    return static_cast<int>(
        response.notification(0).update(0).val().uint_val());
  }
  // Waits (bounded) until the daemon reports `want` driver subscriptions.
  static bool WaitUpstreams(int want) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Upstreams() == want) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  static DaemonProcess* daemon_;
  static gnmi::gNMI::Stub* stub_;
};

DaemonProcess* SubscribeEndToEnd::daemon_ = nullptr;
gnmi::gNMI::Stub* SubscribeEndToEnd::stub_ = nullptr;

bool HasValue(const gnmi::Notification& n, const std::string& json_value) {
  for (const auto& update : n.update()) {
    if (update.val().json_ietf_val() == json_value) return true;
  }
  return false;
}

TEST_F(SubscribeEndToEnd, StreamOnChangeDeliversASet) {
  Call call = Open(Request("sim1", {{Description(), gnmi::ON_CHANGE}}));
  auto initial = ReadUntilSync(call);
  ASSERT_EQ(initial.size(), 1u);
  EXPECT_EQ(initial[0].prefix().target(), "sim1");
  EXPECT_GT(initial[0].timestamp(), 0);
  ASSERT_EQ(initial[0].update_size(), 1);
  EXPECT_EQ(Describe(initial[0].update(0).path()),
            "/interfaces/interface[name=eth0]/description");
  EXPECT_EQ(initial[0].update(0).val().json_ietf_val(), "\"uplink to core-1\"");

  ASSERT_TRUE(SetDescription("changed by e2e").ok());
  EXPECT_TRUE(ReadUntil(call, [](const gnmi::Notification& n) {
    return n.prefix().target() == "sim1" && HasValue(n, "\"changed by e2e\"");
  }));
  call.Cancel();
  EXPECT_EQ(call.Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(SubscribeEndToEnd, TargetDefinedBehavesAsOnChangeForSim) {
  Call call =
      Open(Request("sim1", {{Description("eth1"), gnmi::TARGET_DEFINED}}));
  auto initial = ReadUntilSync(call);
  ASSERT_EQ(initial.size(), 1u);
  ASSERT_TRUE(SetDescription("td", "eth1").ok());
  EXPECT_TRUE(ReadUntil(
      call, [](const gnmi::Notification& n) { return HasValue(n, "\"td\""); }));
  call.Cancel();
  call.Finish();
}

TEST_F(SubscribeEndToEnd, SampleSendsEveryInterval) {
  // sim1's state is frozen: every sample repeats the same value.
  Call call = Open(Request("sim1", {{InOctets(), gnmi::SAMPLE, 20 * kMs}}));
  auto initial = ReadUntilSync(call);
  ASSERT_EQ(initial.size(), 1u);
  int samples = 0;
  EXPECT_TRUE(ReadUntil(call, [&](const gnmi::Notification& n) {
    if (n.update_size() == 1 &&
        Describe(n.update(0).path()) ==
            "/interfaces-state/interface[name=eth0]/statistics/in-octets") {
      ++samples;
    }
    return samples >= 2;
  }));
  call.Cancel();
  call.Finish();
}

TEST_F(SubscribeEndToEnd, SampleZeroIntervalMeansFastestAndBelowMinimumFails) {
  Call fastest = Open(Request("sim1", {{InOctets(), gnmi::SAMPLE, 0}}));
  ReadUntilSync(fastest);
  EXPECT_TRUE(ReadUntil(fastest, [](const gnmi::Notification& n) {
    return n.update_size() == 1;
  }));
  fastest.Cancel();
  fastest.Finish();

  Call call = Open(Request("sim1", {{InOctets(), gnmi::SAMPLE, 1 * kMs}}));
  gnmi::SubscribeResponse response;
  EXPECT_FALSE(call.Read(&response));
  grpc::Status status = call.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("below the minimum"));
}

TEST_F(SubscribeEndToEnd, MinimumSampleIntervalComesFromTheConfiguration) {
  // A daemon of its own, with the minimum lowered from 10 ms to 2 ms.
  DaemonProcess daemon(
      TestConfig(SimDeviceYaml("sim1", {"update_interval_ms: 0"}), "",
                 "telemetry:\n  min_sample_interval_ms: 2\n"));
  ASSERT_TRUE(daemon.WaitReady(std::chrono::seconds(60))) << daemon.Log();
  auto stub = gnmi::gNMI::NewStub(daemon.TlsChannel());

  // 2 ms: below the default minimum, accepted here, and sampled.
  Call fast =
      Open(Request("sim1", {{InOctets(), gnmi::SAMPLE, 2 * kMs}}), stub.get());
  ReadUntilSync(fast);
  int samples = 0;
  EXPECT_TRUE(ReadUntil(fast, [&samples](const gnmi::Notification& n) {
    return n.update_size() == 1 && ++samples == 5;
  }));
  fast.Cancel();
  fast.Finish();

  // 1 ms: below the configured minimum.
  Call call =
      Open(Request("sim1", {{InOctets(), gnmi::SAMPLE, 1 * kMs}}), stub.get());
  gnmi::SubscribeResponse response;
  EXPECT_FALSE(call.Read(&response));
  grpc::Status status = call.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("below the minimum of 2000000 ns"));
  call = Call();
  stub.reset();
  EXPECT_EQ(daemon.Stop(SIGTERM), 0) << daemon.Log();
}

TEST_F(SubscribeEndToEnd, SuppressRedundantSkipsUnchangedSamples) {
  Call call = Open(
      Request("sim1", {{Description("eth2"), gnmi::SAMPLE, 10 * kMs, true}}));
  auto initial = ReadUntilSync(call);
  ASSERT_EQ(initial.size(), 1u);
  // Without suppression, unchanged samples would arrive every 10 ms; with
  // it, the first notification after the sync is the changed value.
  ASSERT_TRUE(SetDescription("suppressed", "eth2").ok());
  gnmi::SubscribeResponse response;
  ASSERT_TRUE(call.Read(&response));
  ASSERT_TRUE(response.has_update()) << response.DebugString();
  EXPECT_TRUE(HasValue(response.update(), "\"suppressed\""))
      << response.DebugString();
  call.Cancel();
  call.Finish();
}

TEST_F(SubscribeEndToEnd, HeartbeatResendsUnchangedValues) {
  Call call = Open(Request(
      "sim1", {{Description("eth3"), gnmi::ON_CHANGE, 0, false, 20 * kMs}}));
  auto initial = ReadUntilSync(call);
  ASSERT_EQ(initial.size(), 1u);
  const std::string value = initial[0].update(0).val().json_ietf_val();
  int beats = 0;
  EXPECT_TRUE(ReadUntil(call, [&](const gnmi::Notification& n) {
    if (HasValue(n, value)) ++beats;
    return beats >= 2;
  }));

  // SAMPLE with suppress_redundant: the heartbeat still sends the value.
  Call sampled = Open(Request(
      "sim1", {{Description("eth3"), gnmi::SAMPLE, 10 * kMs, true, 30 * kMs}}));
  ReadUntilSync(sampled);
  EXPECT_TRUE(ReadUntil(sampled, [&](const gnmi::Notification& n) {
    return HasValue(n, value);
  }));
  call.Cancel();
  call.Finish();
  sampled.Cancel();
  sampled.Finish();
}

TEST_F(SubscribeEndToEnd, UpdatesOnlySendsSyncFirst) {
  Call call = Open(Request("sim1", {{Description("eth1"), gnmi::ON_CHANGE}},
                           gnmi::SubscriptionList::STREAM, gnmi::JSON_IETF,
                           /*updates_only=*/true));
  gnmi::SubscribeResponse response;
  ASSERT_TRUE(call.Read(&response));
  EXPECT_TRUE(response.sync_response()) << response.DebugString();
  ASSERT_TRUE(SetDescription("only updates", "eth1").ok());
  ASSERT_TRUE(call.Read(&response));
  EXPECT_TRUE(HasValue(response.update(), "\"only updates\""))
      << response.DebugString();
  call.Cancel();
  call.Finish();
}

TEST_F(SubscribeEndToEnd, OnceSendsDataSyncAndCloses) {
  Call call = Open(Request("sim1", {{MakePath({{"interfaces", {}}})}},
                           gnmi::SubscriptionList::ONCE));
  auto data = ReadUntilSync(call);
  size_t updates = 0;
  for (const auto& n : data) {
    EXPECT_EQ(n.prefix().target(), "sim1");
    updates += n.update_size();
  }
  EXPECT_GT(updates, 8u);  // four interfaces, several leaves each
  gnmi::SubscribeResponse response;
  EXPECT_FALSE(call.Read(&response));
  EXPECT_TRUE(call.Finish().ok());
}

TEST_F(SubscribeEndToEnd, PollAnswersEachPollWithDataAndSync) {
  Call call = Open(Request("sim1", {{InOctets()}, {Description()}},
                           gnmi::SubscriptionList::POLL));
  auto initial = ReadUntilSync(call);
  EXPECT_EQ(initial.size() > 0, true);
  for (int poll = 0; poll < 2; ++poll) {
    gnmi::SubscribeRequest request;
    request.mutable_poll();
    ASSERT_TRUE(call.stream->Write(request));
    auto data = ReadUntilSync(call);
    size_t updates = 0;
    for (const auto& n : data) updates += n.update_size();
    EXPECT_EQ(updates, 2u) << "poll " << poll;
  }
  call.stream->WritesDone();
  gnmi::SubscribeResponse response;
  EXPECT_FALSE(call.Read(&response));
  EXPECT_TRUE(call.Finish().ok());
}

TEST_F(SubscribeEndToEnd, PollOnAStreamSubscriptionIsInvalid) {
  Call call = Open(Request("sim1", {{Description()}}));
  ReadUntilSync(call);
  gnmi::SubscribeRequest poll;
  poll.mutable_poll();
  call.stream->Write(poll);
  gnmi::SubscribeResponse response;
  while (call.Read(&response)) {
  }
  EXPECT_EQ(call.Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(SubscribeEndToEnd, SecondSubscriptionListIsInvalid) {
  Call call = Open(Request("sim1", {{Description()}}));
  ReadUntilSync(call);
  call.stream->Write(Request("sim1", {{InOctets()}}));
  gnmi::SubscribeResponse response;
  while (call.Read(&response)) {
  }
  grpc::Status status = call.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("one SubscriptionList"));
}

TEST_F(SubscribeEndToEnd, EncodingsJsonJsonIetfProto) {
  for (gnmi::Encoding encoding : {gnmi::JSON, gnmi::JSON_IETF, gnmi::PROTO}) {
    Call call = Open(Request("sim1", {{InOctets()}},
                             gnmi::SubscriptionList::ONCE, encoding));
    auto data = ReadUntilSync(call);
    ASSERT_EQ(data.size(), 1u) << gnmi::Encoding_Name(encoding);
    ASSERT_EQ(data[0].update_size(), 1);
    const gnmi::TypedValue& value = data[0].update(0).val();
    switch (encoding) {
      case gnmi::JSON:
        EXPECT_EQ(json::parse(value.json_val()), 1000000);
        break;
      case gnmi::JSON_IETF:
        EXPECT_EQ(json::parse(value.json_ietf_val()), "1000000");
        break;
      default:
        EXPECT_EQ(value.uint_val(), 1000000u);
    }
    EXPECT_TRUE(call.Finish().ok());
  }
  Call ascii = Open(Request("sim1", {{InOctets()}},
                            gnmi::SubscriptionList::ONCE, gnmi::ASCII));
  gnmi::SubscribeResponse response;
  EXPECT_FALSE(ascii.Read(&response));
  EXPECT_EQ(ascii.Finish().error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(SubscribeEndToEnd, WildcardPaths) {
  Call call = Open(Request("sim1",
                           {{MakePath({{"interfaces", {}},
                                       {"interface", {{"name", "*"}}},
                                       {"description", {}}})}},
                           gnmi::SubscriptionList::ONCE));
  auto data = ReadUntilSync(call);
  std::set<std::string> names;
  for (const auto& n : data) {
    for (const auto& update : n.update()) {
      names.insert(update.path().elem(1).key().at("name"));
    }
  }
  EXPECT_EQ(names, (std::set<std::string>{"eth0", "eth1", "eth2", "eth3"}));
  EXPECT_TRUE(call.Finish().ok());
}

TEST_F(SubscribeEndToEnd, TargetStarAndTargetListSubscribeToSeveralDevices) {
  for (const std::string target : {"*", "sim1,sim2"}) {
    Call call = Open(Request(target, {{InOctets(), gnmi::ON_CHANGE}}));
    std::set<std::string> targets;
    for (const auto& n : ReadUntilSync(call)) {
      targets.insert(n.prefix().target());
    }
    EXPECT_TRUE(targets.count("sim1")) << target;
    EXPECT_TRUE(targets.count("sim2")) << target;
    // sim2 evolves: its counters keep coming, tagged with its name.
    EXPECT_TRUE(ReadUntil(call, [](const gnmi::Notification& n) {
      return n.prefix().target() == "sim2" && n.update_size() > 0;
    }));
    call.Cancel();
    call.Finish();
  }
}

TEST_F(SubscribeEndToEnd, Unauthenticated) {
  Call anonymous = Open(Request("sim1", {{Description()}}), nullptr, "");
  gnmi::SubscribeResponse response;
  EXPECT_FALSE(anonymous.Read(&response));
  EXPECT_EQ(anonymous.Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  Call wrong = Open(Request("sim1", {{Description()}}), nullptr, "admin", "x");
  EXPECT_FALSE(wrong.Read(&response));
  EXPECT_EQ(wrong.Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(SubscribeEndToEnd, UnknownTargetAndPath) {
  Call target = Open(Request("nope", {{Description()}}));
  gnmi::SubscribeResponse response;
  EXPECT_FALSE(target.Read(&response));
  EXPECT_EQ(target.Finish().error_code(), grpc::StatusCode::NOT_FOUND);
  Call path = Open(Request("sim1", {{MakePath({{"no-such-thing", {}}})}}));
  EXPECT_FALSE(path.Read(&response));
  EXPECT_EQ(path.Finish().error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(SubscribeEndToEnd, TwoClientsShareOneDriverSubscriptionUntilCancel) {
  ASSERT_TRUE(WaitUpstreams(0));
  const size_t log_start = daemon_->Log().size();
  Call first = Open(Request("sim1", {{Description(), gnmi::ON_CHANGE}}));
  ReadUntilSync(first);
  Call second = Open(Request("sim1", {{Description(), gnmi::ON_CHANGE}}));
  ReadUntilSync(second);
  ASSERT_TRUE(WaitUpstreams(1)) << daemon_->Log();
  EXPECT_EQ(Upstreams(), 1);
  // The log records every change of the count: it never reached two.
  int max_seen = 0;
  LoggedUpstreams(&max_seen, log_start);
  EXPECT_EQ(max_seen, 1) << "two clients on one path made two driver "
                            "subscriptions";
  // Both see a change through the one upstream.
  ASSERT_TRUE(SetDescription("shared").ok());
  auto changed = [](const gnmi::Notification& n) {
    return HasValue(n, "\"shared\"");
  };
  EXPECT_TRUE(ReadUntil(first, changed));
  EXPECT_TRUE(ReadUntil(second, changed));

  first.Cancel();
  first.Finish();
  // One client left: the driver subscription stays.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(Upstreams(), 1);
  second.Cancel();
  second.Finish();
  EXPECT_TRUE(WaitUpstreams(0)) << "cancel did not free the driver "
                                   "subscription";
}

TEST_F(SubscribeEndToEnd, DeletingASubtreeSendsDeletes) {
  Call call = Open(Request(
      "sim1",
      {{MakePath({{"interfaces", {}}, {"interface", {{"name", "eth3"}}}}),
        gnmi::ON_CHANGE}}));
  auto initial = ReadUntilSync(call);
  ASSERT_FALSE(initial.empty());
  gnmi::SetRequest request;
  request.mutable_prefix()->set_target("sim1");
  *request.add_delete_() =
      MakePath({{"interfaces", {}}, {"interface", {{"name", "eth3"}}}});
  gnmi::SetResponse set_response;
  auto context = ContextFor("admin", "admin");
  ASSERT_TRUE(stub_->Set(context.get(), request, &set_response).ok());
  std::set<std::string> deleted;
  EXPECT_TRUE(ReadUntil(call, [&](const gnmi::Notification& n) {
    for (const auto& path : n.delete_()) deleted.insert(Describe(path));
    return !deleted.empty();
  }));
  EXPECT_TRUE(deleted.count("/interfaces/interface[name=eth3]/description") ||
              deleted.count("/interfaces/interface[name=eth3]/name"))
      << ::testing::PrintToString(deleted);
  call.Cancel();
  call.Finish();
}

TEST_F(SubscribeEndToEnd, PathThatDoesNotExistYetKeepsTheStreamOpen) {
  Call call = Open(Request("sim1", {{Description("eth9"), gnmi::ON_CHANGE}}));
  auto initial = ReadUntilSync(call);
  EXPECT_TRUE(initial.empty());
  gnmi::SetRequest request;
  request.mutable_prefix()->set_target("sim1");
  gnmi::Update* update = request.add_update();
  *update->mutable_path() =
      MakePath({{"interfaces", {}}, {"interface", {{"name", "eth9"}}}});
  update->mutable_val()->set_json_ietf_val(
      R"({"name":"eth9","type":"iana-if-type:ethernetCsmacd","description":"born"})");
  gnmi::SetResponse set_response;
  auto context = ContextFor("admin", "admin");
  grpc::Status set = stub_->Set(context.get(), request, &set_response);
  ASSERT_TRUE(set.ok()) << set.error_message();
  EXPECT_TRUE(ReadUntil(call, [](const gnmi::Notification& n) {
    return HasValue(n, "\"born\"");
  }));
  call.Cancel();
  call.Finish();
}

TEST_F(SubscribeEndToEnd, GeneratedChangesReachSubscribers) {
  Call call = Open(Request(
      "load",
      {{MakePath({{"interfaces-state", {}}, {"interface", {{"name", "gen7"}}}}),
        gnmi::ON_CHANGE}}));
  ReadUntilSync(call);
  int updates = 0;
  EXPECT_TRUE(ReadUntil(call, [&](const gnmi::Notification& n) {
    for (const auto& update : n.update()) {
      EXPECT_EQ(update.path().elem(1).key().at("name"), "gen7");
      ++updates;
    }
    return updates >= 20;
  }));
  call.Cancel();
  call.Finish();
}

TEST_F(SubscribeEndToEnd, SlowReaderIsCutWhileAFastOneKeepsItsStream) {
  // Separate connections, so that flow control of one cannot hold the other.
  grpc::ChannelArguments slow_args;
  slow_args.SetInt("southgate.test.connection", 1);
  grpc::SslCredentialsOptions tls;
  {
    std::ifstream in(daemon_->dir() + "/state/server.crt");
    std::stringstream pem;
    pem << in.rdbuf();
    tls.pem_root_certs = pem.str();
  }
  auto slow_channel = grpc::CreateCustomChannel(
      daemon_->address(), grpc::SslCredentials(tls), slow_args);
  auto slow_stub = gnmi::gNMI::NewStub(slow_channel);
  const gnmi::Path everything = MakePath({{"interfaces-state", {}}});

  Call slow =
      Open(Request("load", {{everything, gnmi::ON_CHANGE}}), slow_stub.get());
  Call fast = Open(Request("load", {{everything, gnmi::ON_CHANGE}}));
  std::atomic<bool> stop{false};
  std::atomic<int64_t> fast_messages{0};
  std::thread reader([&] {
    gnmi::SubscribeResponse response;
    while (!stop && fast.Read(&response)) ++fast_messages;
  });

  // The slow client reads nothing until the daemon gives up on it.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool cut = false;
  while (!cut && std::chrono::steady_clock::now() < deadline) {
    cut = daemon_->Log().find("client too slow") != std::string::npos;
    if (!cut) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(cut) << "the slow client was never cut off";
  // The fast one still streams after the cut.
  const int64_t before = fast_messages.load();
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (fast_messages.load() < before + 10 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(fast_messages.load(), before + 10);

  // The slow client drains what was buffered, then gets the verdict.
  gnmi::SubscribeResponse response;
  while (slow.Read(&response)) {
  }
  grpc::Status status = slow.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("too slow"));

  stop = true;
  fast.Cancel();
  reader.join();
  fast.Finish();
}

TEST_F(SubscribeEndToEnd, ADeviceRemovedByAReloadEndsItsStreamsNotFound) {
  // A daemon of its own: this test removes a device.
  DaemonProcess daemon(kConfig);
  ASSERT_TRUE(daemon.WaitReady(std::chrono::seconds(60))) << daemon.Log();
  auto stub = gnmi::gNMI::NewStub(daemon.TlsChannel());
  Call call =
      Open(Request("sim2", {{InOctets(), gnmi::ON_CHANGE}}), stub.get());
  ReadUntilSync(call);

  // Reload a configuration without sim2.
  const std::string path = daemon.dir() + "/southgate.yaml";
  std::string config;
  {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    config = text.str();
  }
  const size_t begin = config.find("  - name: sim2");
  const size_t end = config.find("  - name: load");
  ASSERT_NE(begin, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  config.erase(begin, end - begin);
  {
    std::ofstream out(path);
    out << config;
  }
  ASSERT_EQ(kill(daemon.pid(), SIGHUP), 0);

  gnmi::SubscribeResponse response;
  while (call.Read(&response)) {
  }
  grpc::Status status = call.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
      << status.error_message() << "\n"
      << daemon.Log();
  EXPECT_THAT(status.error_message(),
              HasSubstr("target 'sim2' was removed from the configuration"));
  // The driver subscription went with it; a new Subscribe is refused the
  // same way.
  Call again =
      Open(Request("sim2", {{InOctets(), gnmi::ON_CHANGE}}), stub.get());
  EXPECT_FALSE(again.Read(&response));
  EXPECT_EQ(again.Finish().error_code(), grpc::StatusCode::NOT_FOUND);
  again = Call();
  call = Call();
  stub.reset();  // an open connection would hold the graceful shutdown
  EXPECT_EQ(daemon.Stop(SIGTERM), 0);
}

}  // namespace
}  // namespace southgate::testing
