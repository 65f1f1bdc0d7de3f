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
#include "nlohmann/json.hpp"

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
  // Quantiles measured elsewhere (the ncclient child), when not -1.
  int64_t p50_override = -1;
  int64_t p99_override = -1;
  int64_t p50() const {
    return p50_override >= 0 ? p50_override : latency.Quantile(0.5);
  }
  int64_t p99() const {
    return p99_override >= 0 ? p99_override : latency.Quantile(0.99);
  }
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

// Interfaces seeded on the device: bench0 is what every identical-Get cell
// reads; with `distinct`, client i reads bench<i>, so no two waiting Gets
// are identical and each one costs its own RPC on the device's session.
constexpr int kSeededInterfaces = 8;

Rate ThroughSouthgate(const Daemon& daemon, int clients,
                      std::chrono::milliseconds window, bool distinct = false) {
  auto request_for = [distinct](int client) {
    gnmi::GetRequest request;
    request.mutable_prefix()->set_target("nc1");
    *request.add_path() = ParsePath(
        "/ietf-interfaces:interfaces/interface[name=bench" +
        std::to_string(distinct ? client % kSeededInterfaces : 0) + "]");
    request.set_type(gnmi::GetRequest::CONFIG);
    request.set_encoding(gnmi::JSON_IETF);
    return request;
  };
  std::atomic<uint64_t> count{0}, errors{0};
  std::vector<LatencyHistogram> histograms(clients);
  std::vector<std::thread> threads;
  std::atomic<bool> stop{false};
  auto start = Clock::now();
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      auto stub = gnmi::gNMI::NewStub(
          TlsChannel(daemon.address(), daemon.root_cert(), i));
      const gnmi::GetRequest request = request_for(i);
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

// The direct cell's get-config through ncclient (bench/netconf_ncclient_
// bench.py, one persistent session), run as a child in the same run.
Rate Ncclient(const NetconfDevice& device, const std::string& password_file,
              std::chrono::milliseconds window, std::string* problem) {
  Rate rate;
  const std::string command =
      std::string("/usr/bin/python3 ") + SOUTHGATE_SOURCE_DIR +
      "/bench/netconf_ncclient_bench.py 127.0.0.1 " +
      std::to_string(device.port()) + " " + NetconfDevice::kUser + " " +
      password_file + " " + std::to_string(window.count()) + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) {
    *problem = "cannot run python3";
    return rate;
  }
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof(buffer), pipe)) {
    output.append(buffer, n);
  }
  pclose(pipe);
  size_t line = output.rfind("{\"per_second\"");
  auto result = nlohmann::json::parse(
      line == std::string::npos ? "" : output.substr(line), nullptr,
      /*allow_exceptions=*/false);
  if (!result.is_object()) {
    *problem = output;
    return rate;
  }
  rate.per_second = result.value("per_second", 0.0);
  rate.errors = result.value("errors", 0);
  // Only the quantiles cross the process boundary.
  rate.latency.Add(result.value("p50_us", 0));
  rate.latency.Add(result.value("p99_us", 0));
  rate.p50_override = result.value("p50_us", -1);
  rate.p99_override = result.value("p99_us", -1);
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
# A throughput benchmark: the per-client rate buckets (flood resistance)
# would measure themselves, not the NETCONF path; every client is a
# returning one (trusted lane), and a NETCONF Get holds its lane thread for
# the device's round trip, so the lane gets a thread per client (default 2).
limits:
  peer: {rate: 0}
  user: {rate: 0}
  trusted_lane_threads: 8
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
    *update->mutable_path() = ParsePath("/ietf-interfaces:interfaces");
    std::string interfaces;
    for (int i = 0; i < kSeededInterfaces; ++i) {
      interfaces +=
          std::string(i ? "," : "") + R"({"name":"bench)" + std::to_string(i) +
          R"(","type":"iana-if-type:ethernetCsmacd","description":"bench"})";
    }
    update->mutable_val()->set_json_ietf_val(R"({"interface":[)" + interfaces +
                                             "]}");
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
  const std::string load_before = LoadAverage();
  Rate direct = Direct(&*direct_session, window);
  Rate one = ThroughSouthgate(daemon, 1, window);
  Rate many = ThroughSouthgate(daemon, clients, window);
  Rate many_distinct = ThroughSouthgate(daemon, clients, window, true);
  std::string ncclient_problem;
  Rate ncclient = Ncclient(device, password_file, window, &ncclient_problem);
  Rate direct_set = DirectSet(**direct_session, window);
  Rate southgate_set = SouthgateSet(daemon, window);
  auto row = [](const std::string& cell, const Rate& rate) {
    return absl::StrFormat("| %s | %.0f | %d | %d | %d |\n", cell,
                           rate.per_second, rate.p50(), rate.p99(),
                           rate.errors);
  };
  auto percent = [&](const Rate& rate, const Rate& base) {
    return 100.0 * rate.per_second / std::max(base.per_second, 1.0);
  };
  std::string text = absl::StrFormat(
      "\n### NETCONF Get and Set (issue 4), %s\n\n"
      "Command: `./bin/netconf_bench --window-ms %d --clients %d`  \n"
      "Machine: %s  \nLoad average before / after: %s / %s  \n"
      "netconfd 2.13 behind its own sshd on loopback; one interface entry "
      "read with a keyed path, CONFIG, JSON_IETF; the direct and ncclient "
      "cells send the same get-config subtree filter on one session. Set "
      "cells: the direct session sends lock, discard-changes, edit-config, "
      "commit, unlock per change (what southgate sends per Set); southgate "
      "gets one gNMI Set updating one leaf.\n\n"
      "| cell | per second | p50 µs | p99 µs | errors "
      "|\n|---|---:|---:|---:|---:|\n"
      "%s%s%s%s%s%s%s\n"
      "Get, %d clients reading the same path (identical waiting Gets share "
      "an RPC): **%.0f%%** of direct (goal 80%%); %d clients reading %d "
      "different interfaces (every Get its own RPC): %.0f%%. Latency a "
      "single Get adds (1 client minus direct): p50 %d µs, p99 %d µs. "
      "ncclient: %.1f%% of direct. Set: %.0f%% of direct.%s\n",
      UtcNow(), window_ms, clients, MachineInfo(), load_before, LoadAverage(),
      row("direct libnetconf2 get-config, 1 session", direct),
      row("southgate gNMI Get, 1 client", one),
      row(absl::StrFormat("southgate gNMI Get, %d clients, same path", clients),
          many),
      row(absl::StrFormat("southgate gNMI Get, %d clients, %d paths", clients,
                          kSeededInterfaces),
          many_distinct),
      row("ncclient get-config, 1 persistent session", ncclient),
      row("direct lock+discard+edit-config+commit+unlock, 1 session",
          direct_set),
      row("southgate gNMI Set (one leaf), 1 client", southgate_set), clients,
      percent(many, direct), clients, kSeededInterfaces,
      percent(many_distinct, direct),
      static_cast<int>(one.p50() - direct.p50()),
      static_cast<int>(one.p99() - direct.p99()), percent(ncclient, direct),
      percent(southgate_set, direct_set),
      ncclient_problem.empty()
          ? ""
          : " (ncclient failed: " + ncclient_problem + ")");
  std::printf("%s", text.c_str());
  if (!report.empty()) AppendReport(report, text);
  daemon.Stop();
  return 0;
}
