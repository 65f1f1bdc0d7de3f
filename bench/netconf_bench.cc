// Issue 4 benchmark: gNMI Get through southgate (TLS in, NETCONF/SSH out) to
// a real netconfd, against direct libnetconf2 get-config on one session to
// the same netconfd in the same run. Not a test: prints (and with --report
// appends) the figures; never asserts times.
#include <atomic>
#include <fstream>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/str_format.h"
#include "bench_support.h"
#include "netconf/session.h"
#include "netconf_device.h"

namespace southgate::bench {
namespace {

using Clock = std::chrono::steady_clock;
using southgate::testing::NetconfDevice;

constexpr char kFilter[] =
    "<interfaces xmlns=\"urn:ietf:params:xml:ns:yang:ietf-interfaces\">"
    "<interface><name>bench0</name></interface></interfaces>";

struct Rate {
  double per_second = 0;
  LatencyHistogram latency;
  uint64_t errors = 0;
};

absl::StatusOr<std::unique_ptr<netconf::Session>> DirectSession(
    const NetconfDevice& device) {
  netconf::SshOptions options;
  options.host = "127.0.0.1";
  options.port = static_cast<uint16_t>(device.port());
  options.username = NetconfDevice::kUser;
  options.password = NetconfDevice::kPassword;
  options.insecure_skip_host_key_check = true;
  options.schema_searchpath = device.dir() + "/direct-schemas";
  return netconf::Session::ConnectSsh(options);
}

Rate Direct(std::unique_ptr<netconf::Session>* session,
            std::chrono::milliseconds window) {
  Rate rate;
  uint64_t count = 0;
  auto start = Clock::now();
  while (Clock::now() - start < window) {
    auto t0 = Clock::now();
    auto reply = (*session)->GetConfig(netconf::Datastore::kRunning, kFilter);
    auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0)
            .count();
    if (!reply.ok()) ++rate.errors;
    rate.latency.Add(micros);
    ++count;
  }
  rate.per_second =
      count / std::chrono::duration<double>(Clock::now() - start).count();
  return rate;
}

Rate ThroughSouthgate(const Daemon& daemon, int clients,
                      std::chrono::milliseconds window) {
  gnmi::GetRequest request;
  request.mutable_prefix()->set_target("nc1");
  *request.add_path() =
      ParsePath("/ietf-interfaces:interfaces/interface[name=bench0]");
  request.set_type(gnmi::GetRequest::CONFIG);
  request.set_encoding(gnmi::JSON_IETF);
  std::atomic<uint64_t> count{0}, errors{0};
  std::vector<LatencyHistogram> histograms(clients);
  std::vector<std::thread> threads;
  std::atomic<bool> stop{false};
  auto start = Clock::now();
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      auto stub = gnmi::gNMI::NewStub(
          TlsChannel(daemon.address(), daemon.root_cert(), i));
      while (!stop) {
        grpc::ClientContext context;
        context.AddMetadata("username", "admin");
        context.AddMetadata("password", "admin");
        gnmi::GetResponse response;
        auto t0 = Clock::now();
        grpc::Status status = stub->Get(&context, request, &response);
        histograms[i].Add(std::chrono::duration_cast<std::chrono::microseconds>(
                              Clock::now() - t0)
                              .count());
        if (!status.ok()) ++errors;
        ++count;
      }
    });
  }
  std::this_thread::sleep_for(window);
  stop = true;
  for (auto& t : threads) t.join();
  Rate rate;
  rate.per_second =
      count / std::chrono::duration<double>(Clock::now() - start).count();
  rate.errors = errors;
  for (auto& h : histograms) rate.latency.Merge(h);
  return rate;
}

// Edit and commit per second on the direct session: lock, discard-changes,
// edit-config, commit, unlock (what southgate sends per Set).
Rate DirectSet(netconf::Session& session, std::chrono::milliseconds window) {
  Rate rate;
  uint64_t count = 0;
  auto start = Clock::now();
  while (Clock::now() - start < window) {
    auto t0 = Clock::now();
    std::string content =
        "<interfaces xmlns=\"urn:ietf:params:xml:ns:yang:ietf-interfaces\">"
        "<interface><name>bench0</name><description>d" +
        std::to_string(count) + "</description></interface></interfaces>";
    bool ok = session.Lock(netconf::Datastore::kCandidate).ok() &&
              session.DiscardChanges().ok() &&
              session.EditConfig(netconf::Datastore::kCandidate, content, false)
                  .ok() &&
              session.Commit(false, 0).ok();
    (void)session.Unlock(netconf::Datastore::kCandidate);
    if (!ok) ++rate.errors;
    rate.latency.Add(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0)
            .count());
    ++count;
  }
  rate.per_second =
      count / std::chrono::duration<double>(Clock::now() - start).count();
  return rate;
}

// gNMI Set (update of one leaf) per second through southgate, one client.
Rate SouthgateSet(const Daemon& daemon, std::chrono::milliseconds window) {
  auto stub =
      gnmi::gNMI::NewStub(TlsChannel(daemon.address(), daemon.root_cert(), 50));
  Rate rate;
  uint64_t count = 0;
  auto start = Clock::now();
  while (Clock::now() - start < window) {
    gnmi::SetRequest set;
    set.mutable_prefix()->set_target("nc1");
    gnmi::Update* update = set.add_update();
    *update->mutable_path() = ParsePath(
        "/ietf-interfaces:interfaces/interface[name=bench0]/description");
    update->mutable_val()->set_string_val("s" + std::to_string(count));
    grpc::ClientContext context;
    context.AddMetadata("username", "admin");
    context.AddMetadata("password", "admin");
    gnmi::SetResponse response;
    auto t0 = Clock::now();
    if (!stub->Set(&context, set, &response).ok()) ++rate.errors;
    rate.latency.Add(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0)
            .count());
    ++count;
  }
  rate.per_second =
      count / std::chrono::duration<double>(Clock::now() - start).count();
  return rate;
}

}  // namespace
}  // namespace southgate::bench

int main(int argc, char** argv) {
  using namespace southgate::bench;
  CLI::App app{"NETCONF Get: southgate vs direct libnetconf2"};
  int window_ms = 5000;
  int clients = 8;
  std::string report;
  app.add_option("--window-ms", window_ms, "measurement window per cell");
  app.add_option("--clients", clients, "concurrent gNMI clients");
  app.add_option("--report", report, "append the results to this file");
  CLI11_PARSE(app, argc, argv);
  const auto window = std::chrono::milliseconds(window_ms);

  NetconfDevice device;
  if (!device.Start()) {
    std::fprintf(stderr, "cannot start netconfd/sshd: %s\n",
                 device.error().c_str());
    return 1;
  }
  const std::string password_file = device.dir() + "/password";
  std::ofstream(password_file) << NetconfDevice::kPassword;
  Daemon daemon(R"(
server:
  listen: 127.0.0.1:{PORT}
state_dir: {DIR}/state
log:
  level: info
yang:
  dirs: [ {SOURCE}/yang ]
{USERS}
devices:
  - name: nc1
    driver: netconf
    address: )" +
                device.address() + R"(
    credentials:
      username: )" +
                std::string(NetconfDevice::kUser) + R"(
      password_file: )" +
                password_file + R"(
    options:
      insecure_skip_host_key_check: true
      schema_cache_dir: )" +
                device.dir() + R"(/direct-schemas
)");
  if (!daemon.WaitReady(std::chrono::seconds(60), 1)) {
    std::fprintf(stderr, "daemon not ready:\n%s\n", daemon.Log().c_str());
    return 1;
  }
  // netconfd 2.13 crashed ("double free or corruption") here when a second
  // session downloaded modules with get-schema while another was open: the
  // direct session opens after the daemon, reading the daemon's schema
  // cache, so it needs no get-schema.
  auto direct_session = DirectSession(device);
  if (!direct_session.ok()) {
    std::fprintf(stderr, "direct connect: %s\n",
                 std::string(direct_session.status().message()).c_str());
    return 1;
  }
  // One interface to read, written through southgate.
  {
    auto stub = gnmi::gNMI::NewStub(
        TlsChannel(daemon.address(), daemon.root_cert(), 99));
    gnmi::SetRequest set;
    set.mutable_prefix()->set_target("nc1");
    gnmi::Update* update = set.add_update();
    *update->mutable_path() =
        ParsePath("/ietf-interfaces:interfaces/interface[name=bench0]");
    update->mutable_val()->set_json_ietf_val(
        R"({"name":"bench0","type":"iana-if-type:ethernetCsmacd","description":"bench"})");
    grpc::ClientContext context;
    context.AddMetadata("username", "admin");
    context.AddMetadata("password", "admin");
    gnmi::SetResponse response;
    grpc::Status status = stub->Set(&context, set, &response);
    if (!status.ok()) {
      std::fprintf(stderr, "seed Set: %s\n", status.error_message().c_str());
      return 1;
    }
  }
  // Warm-up of both paths, then the cells.
  ThroughSouthgate(daemon, 1, std::chrono::milliseconds(500));
  Rate direct = Direct(&*direct_session, window);
  Rate one = ThroughSouthgate(daemon, 1, window);
  Rate many = ThroughSouthgate(daemon, clients, window);
  Rate direct_set = DirectSet(**direct_session, window);
  Rate southgate_set = SouthgateSet(daemon, window);
  std::string text = absl::StrFormat(
      "\n### NETCONF Get (issue 4), %s\n\n%s\n\n"
      "| cell | Gets/s | p50 µs | p99 µs | errors |\n|---|---|---|---|---|\n"
      "| direct libnetconf2 get-config, 1 session | %.0f | %d | %d | %d |\n"
      "| southgate gNMI Get, 1 client | %.0f | %d | %d | %d |\n"
      "| southgate gNMI Get, %d clients | %.0f | %d | %d | %d |\n"
      "| direct lock+discard+edit-config+commit+unlock, 1 session | %.0f | %d "
      "| %d | %d |\n"
      "| southgate gNMI Set (one leaf), 1 client | %.0f | %d | %d | %d |\n\n"
      "southgate/direct with %d clients: %.0f%% (goal 80%%). Latency a Get "
      "adds (1 client, p50): %d µs.\n",
      UtcNow(), MachineInfo(), direct.per_second, direct.latency.Quantile(0.5),
      direct.latency.Quantile(0.99), direct.errors, one.per_second,
      one.latency.Quantile(0.5), one.latency.Quantile(0.99), one.errors,
      clients, many.per_second, many.latency.Quantile(0.5),
      many.latency.Quantile(0.99), many.errors, direct_set.per_second,
      direct_set.latency.Quantile(0.5), direct_set.latency.Quantile(0.99),
      direct_set.errors, southgate_set.per_second,
      southgate_set.latency.Quantile(0.5), southgate_set.latency.Quantile(0.99),
      southgate_set.errors, clients,
      100.0 * many.per_second / std::max(direct.per_second, 1.0),
      static_cast<int>(one.latency.Quantile(0.5) -
                       direct.latency.Quantile(0.5)));
  std::printf("%s", text.c_str());
  if (!report.empty()) AppendReport(report, text);
  daemon.Stop();
  return 0;
}
