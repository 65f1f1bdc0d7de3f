// End-to-end tests of operating the daemon: Prometheus scraping the ops
// endpoint for real, health and readiness across start and shutdown, live
// reload on SIGHUP (good and bad), and the install tree.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "daemon_fixture.h"
#include "github.com/openconfig/gnmi/proto/gnmi/gnmi.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"

namespace southgate::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

const std::string kSim1 = SimDeviceYaml("sim1", {"update_interval_ms: 100"});

// Simulated devices (sim1 and sim2 unless `devices` says otherwise), gNMI
// over TLS, the ops endpoint on {OPS_PORT}.
std::string OpsConfig(const std::string& devices = kSim1 +
                                                   SimDeviceYaml("sim2")) {
  return TestConfig(devices, "  shutdown_grace_ms: 2000\n",
                    "ops:\n  listen: 127.0.0.1:{OPS_PORT}\n");
}

gnmi::Path Leaf(const std::vector<std::string>& names,
                const std::string& target = "") {
  gnmi::Path path;
  path.set_target(target);
  for (const std::string& name : names) {
    gnmi::PathElem* elem = path.add_elem();
    elem->set_name(name);
    if (name == "interface") (*elem->mutable_key())["name"] = "eth0";
  }
  return path;
}

grpc::Status GetFrom(gnmi::gNMI::Stub& stub, const std::string& target,
                     const std::string& user = "admin",
                     const std::string& password = "admin") {
  gnmi::GetRequest request;
  request.mutable_prefix()->set_target(target);
  *request.add_path() = Leaf({"interfaces", "interface", "description"});
  request.set_encoding(gnmi::JSON_IETF);
  gnmi::GetResponse response;
  auto context = ContextFor(user, password);
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(10));
  return stub.Get(context.get(), request, &response);
}

std::unique_ptr<httplib::Client> OpsClient(int port) {
  auto client = std::make_unique<httplib::Client>("127.0.0.1", port);
  client->set_connection_timeout(2);
  client->set_read_timeout(5);
  return client;
}

// Polls `predicate` every 50 ms until true or `timeout`.
template <typename Predicate>
bool Eventually(Predicate predicate, std::chrono::seconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return predicate();
}

bool LogContains(DaemonProcess& daemon, const std::string& text,
                 std::chrono::seconds timeout) {
  return Eventually(
      [&] { return daemon.Log().find(text) != std::string::npos; }, timeout);
}

// A real Prometheus (Debian's package) on loopback with a scratch TSDB,
// scraping one target every second.
class PrometheusProcess {
 public:
  explicit PrometheusProcess(int target_port) {
    char pattern[] = "/tmp/southgate-prom-XXXXXX";
    dir_ = mkdtemp(pattern);
    port_ = FreeLoopbackPort();
    std::ofstream(dir_ + "/prometheus.yml")
        << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        << "scrape_configs:\n  - job_name: southgate\n"
        << "    scrape_interval: 1s\n    scrape_timeout: 900ms\n"
        << "    static_configs:\n      - targets: ['127.0.0.1:" << target_port
        << "']\n";
    pid_ = fork();
    if (pid_ == 0) {
      int log = open((dir_ + "/prometheus.log").c_str(),
                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(log, STDOUT_FILENO);
      dup2(log, STDERR_FILENO);
      std::string config = "--config.file=" + dir_ + "/prometheus.yml";
      std::string storage = "--storage.tsdb.path=" + dir_ + "/data";
      std::string listen =
          "--web.listen-address=127.0.0.1:" + std::to_string(port_);
      execl("/usr/bin/prometheus", "prometheus", config.c_str(),
            storage.c_str(), listen.c_str(), "--log.level=warn",
            static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~PrometheusProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      for (int i = 0; i < 100 && waitpid(pid_, &status, WNOHANG) == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  // The value of an instant query returning one series; nullopt when the
  // query fails or returns no (or several) series.
  std::optional<double> Query(const std::string& promql) {
    httplib::Client client("127.0.0.1", port_);
    client.set_connection_timeout(2);
    client.set_read_timeout(5);
    auto response =
        client.Get("/api/v1/query", httplib::Params{{"query", promql}},
                   httplib::Headers{});
    if (!response || response->status != 200) return std::nullopt;
    json body = json::parse(response->body, nullptr, false);
    if (body.is_discarded() || body["status"] != "success") return std::nullopt;
    const json& result = body["data"]["result"];
    if (!result.is_array() || result.size() != 1) return std::nullopt;
    return std::stod(result[0]["value"][1].get<std::string>());
  }
  // Waits until the query returns `expected`; the last value seen otherwise.
  std::optional<double> WaitFor(const std::string& promql, double expected,
                                std::chrono::seconds timeout) {
    std::optional<double> value;
    Eventually(
        [&] {
          value = Query(promql);
          return value && *value == expected;
        },
        timeout);
    return value;
  }
  std::string Log() const {
    std::ifstream in(dir_ + "/prometheus.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

TEST(OpsEndToEnd, PrometheusScrapesMetricsAndReadsThemBack) {
  ASSERT_TRUE(fs::exists("/usr/bin/prometheus"))
      << "install Debian's prometheus package (scripts/install-deps.sh)";
  DaemonProcess daemon(OpsConfig());
  ASSERT_TRUE(daemon.WaitReady(std::chrono::seconds(60))) << daemon.Log();
  auto stub = gnmi::gNMI::NewStub(daemon.TlsChannel());
  constexpr int kGets = 7;
  for (int i = 0; i < kGets; ++i) {
    grpc::Status status = GetFrom(*stub, "sim1");
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  EXPECT_EQ(GetFrom(*stub, "sim1", "admin", "wrong").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(GetFrom(*stub, "nosuch").error_code(), grpc::StatusCode::NOT_FOUND);
  {
    // One Subscribe ONCE: data, sync_response, then the server closes OK.
    auto context = ContextFor("viewer", "viewer");
    auto stream = stub->Subscribe(context.get());
    gnmi::SubscribeRequest request;
    gnmi::SubscriptionList* list = request.mutable_subscribe();
    list->mutable_prefix()->set_target("sim1");
    list->set_mode(gnmi::SubscriptionList::ONCE);
    *list->add_subscription()->mutable_path() =
        MakePath({{"system", {}}, {"hostname", {}}});
    ASSERT_TRUE(stream->Write(request));
    gnmi::SubscribeResponse response;
    while (stream->Read(&response)) {
    }
    ASSERT_TRUE(stream->Finish().ok());
  }

  // The endpoint itself speaks the exposition format.
  auto metrics = OpsClient(daemon.ops_port())->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(metrics->body,
              HasSubstr("southgate_gnmi_requests_total{method=\"Get\",code="
                        "\"OK\"} 7\n"));

  PrometheusProcess prometheus(daemon.ops_port());
  const auto timeout = std::chrono::seconds(60);
  EXPECT_EQ(
      prometheus.WaitFor(
          R"(southgate_gnmi_requests_total{method="Subscribe",code="OK"})", 1,
          timeout),
      1);
  EXPECT_EQ(prometheus.WaitFor(
                R"(southgate_gnmi_requests_total{method="Get",code="OK"})",
                kGets, timeout),
            kGets)
      << prometheus.Log();
  EXPECT_EQ(prometheus.WaitFor(R"(up{job="southgate"})", 1, timeout), 1);
  EXPECT_EQ(
      prometheus.WaitFor(
          R"(southgate_build_info{version=")" SOUTHGATE_TEST_VERSION R"("})", 1,
          timeout),
      1);
  EXPECT_EQ(
      prometheus.WaitFor(R"(southgate_device_up{device="sim1",driver="sim"})",
                         1, timeout),
      1);
  EXPECT_EQ(prometheus.WaitFor(
                R"(southgate_device_state{device="sim2",state="connected"})", 1,
                timeout),
            1);
  EXPECT_EQ(
      prometheus.WaitFor(
          R"(southgate_auth_failures_total{reason="invalid_credentials"})", 1,
          timeout),
      1);
  EXPECT_EQ(
      prometheus.WaitFor(
          R"(southgate_gnmi_requests_total{method="Get",code="NOT_FOUND"})", 1,
          timeout),
      1);
  // Histograms: every Get observed once; driver calls timed per device.
  EXPECT_EQ(
      prometheus.WaitFor(
          R"(southgate_gnmi_request_duration_seconds_count{method="Get",code="OK"})",
          kGets, timeout),
      kGets);
  EXPECT_EQ(
      prometheus.WaitFor(
          R"(southgate_gnmi_request_duration_seconds_bucket{method="Get",code="OK",le="+Inf"})",
          kGets, timeout),
      kGets);
  EXPECT_EQ(
      prometheus.WaitFor(
          R"(southgate_device_rpc_duration_seconds_count{device="sim1",operation="get",result="ok"})",
          kGets, timeout),
      kGets);
  EXPECT_EQ(prometheus.WaitFor("southgate_ready", 1, timeout), 1);
  EXPECT_EQ(
      prometheus.WaitFor("southgate_gnmi_subscriptions_active", 0, timeout), 0);
  EXPECT_EQ(daemon.Stop(SIGTERM), 0) << daemon.Log();
}

TEST(OpsEndToEnd, HealthAndReadinessAcrossStartReadyAndShutdown) {
  DaemonProcess daemon(OpsConfig());
  auto client = OpsClient(daemon.ops_port());
  client->set_connection_timeout(0, 200000);
  // From the first answer on: /healthz is 200 whenever the endpoint
  // answers; /readyz is 503 (with a reason) until ready, then 200.
  int not_ready_seen = 0;
  bool ready = false;
  auto deadline = Clock::now() + std::chrono::seconds(60);
  while (!ready && Clock::now() < deadline && daemon.running()) {
    if (auto health = client->Get("/healthz")) {
      EXPECT_EQ(health->status, 200);
      auto readyz = client->Get("/readyz");
      ASSERT_TRUE(readyz);
      if (readyz->status == 503) {
        ++not_ready_seen;
        EXPECT_THAT(readyz->body, HasSubstr("not ready: "));
      } else {
        EXPECT_EQ(readyz->status, 200);
        ready = true;
      }
    }
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(ready) << daemon.Log();
  std::cout << "readyz answered 503 " << not_ready_seen
            << " times before 200\n";
  ASSERT_TRUE(daemon.WaitReady(std::chrono::seconds(30))) << daemon.Log();

  // SIGTERM: not ready while draining, healthz still alive, then gone.
  daemon.Signal(SIGTERM);
  bool draining_seen = false;
  deadline = Clock::now() + std::chrono::seconds(30);
  while (!draining_seen && Clock::now() < deadline) {
    auto readyz = client->Get("/readyz");
    if (!readyz) break;  // already closed: the drain was missed
    if (readyz->status == 503) {
      EXPECT_THAT(readyz->body, HasSubstr("shutting down"));
      auto health = client->Get("/healthz");
      if (health) EXPECT_EQ(health->status, 200);
      draining_seen = true;
    }
  }
  EXPECT_TRUE(draining_seen) << daemon.Log();
  EXPECT_EQ(daemon.WaitExit(std::chrono::seconds(30)), 0) << daemon.Log();
  EXPECT_FALSE(client->Get("/healthz"));  // the port is closed
}

// A client reads one device continuously (a Subscribe stream when the
// server has Subscribe, and Gets in any case) while a reload removes one
// device and adds another: the reader never sees an error.
TEST(OpsEndToEnd, SighupAddsAndRemovesDevicesWhileAClientReadsAnother) {
  DaemonProcess daemon(OpsConfig());
  ASSERT_TRUE(daemon.WaitReady(std::chrono::seconds(60))) << daemon.Log();
  auto channel = daemon.TlsChannel();
  auto stub = gnmi::gNMI::NewStub(channel);
  ASSERT_TRUE(GetFrom(*stub, "sim2").ok());
  EXPECT_EQ(GetFrom(*stub, "sim3").error_code(), grpc::StatusCode::NOT_FOUND);

  std::atomic<bool> stop{false};
  std::atomic<int> gets_ok{0}, gets_failed{0};
  std::thread getter([&] {
    auto own = gnmi::gNMI::NewStub(channel);
    while (!stop) {
      grpc::Status status = GetFrom(*own, "sim1");
      (status.ok() ? gets_ok : gets_failed)++;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });

  // Stream: SAMPLE every 100 ms from sim1.
  grpc::ClientContext stream_context;
  stream_context.AddMetadata("username", "admin");
  stream_context.AddMetadata("password", "admin");
  auto stream = stub->Subscribe(&stream_context);
  gnmi::SubscribeRequest subscribe;
  auto* list = subscribe.mutable_subscribe();
  list->mutable_prefix()->set_target("sim1");
  list->set_mode(gnmi::SubscriptionList::STREAM);
  list->set_encoding(gnmi::JSON_IETF);
  auto* subscription = list->add_subscription();
  *subscription->mutable_path() =
      Leaf({"interfaces-state", "interface", "statistics", "in-octets"});
  subscription->set_mode(gnmi::SAMPLE);
  subscription->set_sample_interval(100'000'000);
  ASSERT_TRUE(stream->Write(subscribe));
  std::atomic<int> updates{0};
  std::atomic<bool> stream_ended{false};
  std::thread reader([&] {
    gnmi::SubscribeResponse response;
    while (stream->Read(&response)) {
      if (response.has_update()) updates++;
    }
    stream_ended = true;
  });
  // Subscribe may not be implemented yet (UNIMPLEMENTED ends the stream at
  // once): then the Gets alone prove sim1 stays up.
  bool streaming = Eventually([&] { return updates > 0 || stream_ended; },
                              std::chrono::seconds(10)) &&
                   updates > 0;
  std::cout << (streaming ? "streaming from sim1 across the reload\n"
                          : "Subscribe unavailable: Gets only\n");

  daemon.RewriteConfig(OpsConfig(kSim1 + SimDeviceYaml("sim3")));
  int updates_before = updates;
  daemon.Signal(SIGHUP);
  ASSERT_TRUE(LogContains(daemon,
                          "devices added [sim3], changed [], removed [sim2]",
                          std::chrono::seconds(30)))
      << daemon.Log();
  EXPECT_TRUE(Eventually([&] { return GetFrom(*stub, "sim3").ok(); },
                         std::chrono::seconds(30)))
      << daemon.Log();
  EXPECT_EQ(GetFrom(*stub, "sim2").error_code(), grpc::StatusCode::NOT_FOUND);
  int gets_before = gets_ok;
  EXPECT_TRUE(Eventually([&] { return gets_ok > gets_before + 3; },
                         std::chrono::seconds(30)));
  if (streaming) {
    EXPECT_TRUE(Eventually([&] { return updates > updates_before + 3; },
                           std::chrono::seconds(30)))
        << "the sim1 stream stopped after the reload";
    EXPECT_FALSE(stream_ended) << "the sim1 stream was dropped by the reload";
  }
  if (streaming) {
    auto during = OpsClient(daemon.ops_port())->Get("/metrics");
    ASSERT_TRUE(during);
    EXPECT_THAT(during->body,
                HasSubstr("\nsouthgate_gnmi_subscriptions_active 1\n"));
    EXPECT_THAT(
        during->body,
        ::testing::Not(HasSubstr("\nsouthgate_device_streams_active 0\n")));
  }
  stop = true;
  getter.join();
  EXPECT_EQ(gets_failed, 0) << daemon.Log();
  stream_context.TryCancel();
  reader.join();

  auto metrics = OpsClient(daemon.ops_port())->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(
      metrics->body,
      HasSubstr("southgate_config_reloads_total{result=\"success\"} 1"));
  EXPECT_THAT(metrics->body, HasSubstr("southgate_device_up{device=\"sim3\""));
  EXPECT_THAT(metrics->body,
              ::testing::Not(HasSubstr("southgate_device_up{device=\"sim2\"")));
  EXPECT_EQ(daemon.Stop(SIGTERM), 0) << daemon.Log();
}

TEST(OpsEndToEnd, BadReloadIsRejectedAndTheRunningConfigurationKept) {
  DaemonProcess daemon(OpsConfig());
  ASSERT_TRUE(daemon.WaitReady(std::chrono::seconds(60))) << daemon.Log();
  auto stub = gnmi::gNMI::NewStub(daemon.TlsChannel());

  // 1. A file that does not validate: named with file:line: field.
  daemon.RewriteConfig(OpsConfig() + "  - name: sim9\n    drvier: sim\n");
  daemon.Signal(SIGHUP);
  ASSERT_TRUE(LogContains(daemon, "reload rejected, keeping the running",
                          std::chrono::seconds(30)))
      << daemon.Log();
  EXPECT_THAT(daemon.Log(), HasSubstr("southgate.yaml:"));
  EXPECT_THAT(daemon.Log(), HasSubstr("devices[2]"));

  // 2. Valid YAML, but a driver that does not exist: all or nothing, so
  // the new sim3 listed before it is not kept either.
  daemon.RewriteConfig(
      OpsConfig(kSim1 + SimDeviceYaml("sim3") +
                "  - name: bad\n    driver: no-such-driver\n"));
  daemon.Signal(SIGHUP);
  ASSERT_TRUE(Eventually(
      [&] {
        std::string log = daemon.Log();
        size_t first = log.find("reload rejected");
        return first != std::string::npos &&
               log.find("reload rejected", first + 1) != std::string::npos;
      },
      std::chrono::seconds(30)))
      << daemon.Log();
  EXPECT_THAT(daemon.Log(), HasSubstr("no-such-driver"));

  // Everything as before: sim1 and sim2 answer, sim3 was rolled back, and
  // the users still work.
  EXPECT_TRUE(GetFrom(*stub, "sim1").ok());
  EXPECT_TRUE(GetFrom(*stub, "sim2").ok());
  EXPECT_EQ(GetFrom(*stub, "sim3").error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(GetFrom(*stub, "sim1", "viewer", "viewer").ok());
  auto metrics = OpsClient(daemon.ops_port())->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(
      metrics->body,
      HasSubstr("southgate_config_reloads_total{result=\"failure\"} 2"));

  // 3. A good reload afterwards applies, users included: viewer is gone.
  std::string users_admin_only = TestUsersYaml();
  users_admin_only =
      users_admin_only.substr(0, users_admin_only.find("    - name: viewer"));
  std::string config = OpsConfig();
  config.replace(config.find("{USERS}"), 7, users_admin_only);
  daemon.RewriteConfig(config);
  daemon.Signal(SIGHUP);
  ASSERT_TRUE(LogContains(daemon, "devices, 1 users", std::chrono::seconds(30)))
      << daemon.Log();
  EXPECT_EQ(GetFrom(*stub, "sim1", "viewer", "viewer").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(GetFrom(*stub, "sim1").ok());
  EXPECT_EQ(daemon.Stop(SIGTERM), 0) << daemon.Log();
}

}  // namespace
}  // namespace southgate::testing

namespace southgate::testing {
namespace {

// A fake systemd: a datagram socket the daemon finds through NOTIFY_SOCKET.
class NotifySocket {
 public:
  NotifySocket() {
    char pattern[] = "/tmp/southgate-notify-XXXXXX";
    dir_ = mkdtemp(pattern);
    path_ = dir_ + "/notify";
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof(address.sun_path), "%s",
                  path_.c_str());
    bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  }
  ~NotifySocket() {
    close(fd_);
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  const std::string& path() const { return path_; }
  // Reads datagrams until one contains `text` (true) or `timeout`.
  bool WaitFor(const std::string& text, std::chrono::seconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      pollfd poll_fd{fd_, POLLIN, 0};
      if (poll(&poll_fd, 1, 100) <= 0) continue;
      char buffer[4096];
      ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) continue;
      std::string message(buffer, n);
      received_ += message + "|";
      if (message.find(text) != std::string::npos) return true;
    }
    return false;
  }
  const std::string& received() const { return received_; }

 private:
  std::string dir_, path_, received_;
  int fd_ = -1;
};

TEST(OpsEndToEnd, SystemdNotifyReadyWatchdogReloadingStopping) {
  NotifySocket systemd;
  // The child inherits these; WATCHDOG_USEC asks for a ping every 100 ms.
  setenv("NOTIFY_SOCKET", systemd.path().c_str(), 1);
  setenv("WATCHDOG_USEC", "200000", 1);
  DaemonProcess daemon(OpsConfig());
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  ASSERT_TRUE(systemd.WaitFor("READY=1", std::chrono::seconds(60)))
      << systemd.received() << daemon.Log();
  ASSERT_TRUE(systemd.WaitFor("WATCHDOG=1", std::chrono::seconds(10)))
      << systemd.received();
  ASSERT_TRUE(systemd.WaitFor("WATCHDOG=1", std::chrono::seconds(10)))
      << systemd.received();
  daemon.Signal(SIGHUP);
  ASSERT_TRUE(systemd.WaitFor("RELOADING=1", std::chrono::seconds(30)))
      << systemd.received();
  ASSERT_TRUE(systemd.WaitFor("READY=1", std::chrono::seconds(30)))
      << systemd.received();
  daemon.Signal(SIGTERM);
  ASSERT_TRUE(systemd.WaitFor("STOPPING=1", std::chrono::seconds(30)))
      << systemd.received();
  EXPECT_EQ(daemon.WaitExit(std::chrono::seconds(30)), 0) << daemon.Log();
}

}  // namespace
}  // namespace southgate::testing
