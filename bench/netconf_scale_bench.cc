// Issue 4 scale benchmark: N inventory entries pointing at one real netconfd
// (behind its own sshd): the time from daemon start until every device is
// connected (read through the daemon's own gNMI target, southgate-devices)
// and the daemon's resident memory with 0, 1 and N devices, so that memory
// per device beyond the shared schema is (RSS(N) - RSS(1)) / (N - 1). Not a
// test: prints (and with --report appends) the figures; every wait is
// bounded. Needs root (netconfd's test user), like tests/netconf.
#include <cstdlib>
#include <fstream>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/str_format.h"
#include "bench_support.h"
#include "netconf_device.h"
#include "nlohmann/json.hpp"

namespace southgate::bench {
namespace {

using Clock = std::chrono::steady_clock;
using southgate::testing::NetconfDevice;

struct Run {
  int devices = 0;
  bool all_connected = false;
  int connected = 0;
  double seconds_to_connected = 0;
  MemoryUsage memory;
  double cpu_seconds = 0;
  std::string schema_contexts;
};

std::string Config(const NetconfDevice& device, const std::string& password,
                   int devices) {
  std::string text = R"(
server:
  listen: 127.0.0.1:{PORT}
state_dir: {DIR}/state
log:
  level: warn
yang:
  dirs: [ {SOURCE}/yang ]
{USERS}
devices:)";
  if (devices == 0) return text + " []\n";
  text += "\n";
  for (int i = 1; i <= devices; ++i) {
    text +=
        "  - name: nc" + std::to_string(i) +
        "\n    driver: netconf\n    address: " + device.address() +
        "\n    credentials:\n      username: " + NetconfDevice::kUser +
        "\n      password_file: " + password +
        "\n    options:\n      known_hosts_file: " + device.KnownHostsFile() +
        "\n";
  }
  return text;
}

// The daemon's own view: how many devices are connected, and its
// schema-contexts leaf.
int CountConnected(gnmi::gNMI::Stub& stub, std::string* contexts) {
  gnmi::GetRequest request;
  request.mutable_prefix()->set_target("southgate");
  *request.add_path() = ParsePath("/southgate-devices:devices");
  *request.add_path() = ParsePath("/southgate-devices:daemon/schema-contexts");
  request.set_encoding(gnmi::JSON_IETF);
  grpc::ClientContext context;
  context.AddMetadata("username", "admin");
  context.AddMetadata("password", "admin");
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(20));
  gnmi::GetResponse response;
  if (!stub.Get(&context, request, &response).ok()) return -1;
  int connected = 0;
  for (const auto& notification : response.notification()) {
    for (const auto& update : notification.update()) {
      auto value = nlohmann::json::parse(update.val().json_ietf_val(), nullptr,
                                         /*allow_exceptions=*/false);
      if (value.is_string()) *contexts = value.get<std::string>();
      if (!value.is_object() || !value.contains("southgate-devices:device"))
        continue;
      for (const auto& row : value["southgate-devices:device"]) {
        connected += row.value("state", "") == "connected";
      }
    }
  }
  return connected;
}

Run Measure(NetconfDevice& device, const std::string& password, int devices,
            std::chrono::seconds timeout) {
  Run run;
  run.devices = devices;
  // A fresh netconfd per run: 2.13 was found dead after the previous
  // daemon's sessions ended (see docs/performance.md).
  device.KillNetconfd();
  if (!device.Start("netconfd")) {
    std::fprintf(stderr, "cannot restart netconfd: %s\n",
                 device.error().c_str());
    return run;
  }
  const auto start = Clock::now();
  Daemon daemon(Config(device, password, devices));
  if (!daemon.WaitReady(std::chrono::seconds(60), 0)) {
    std::fprintf(stderr, "daemon not ready:\n%s\n", daemon.Log().c_str());
    return run;
  }
  auto stub =
      gnmi::gNMI::NewStub(TlsChannel(daemon.address(), daemon.root_cert(), 0));
  const auto deadline = start + timeout;
  run.all_connected = devices == 0;
  while (devices > 0 && Clock::now() < deadline) {
    run.connected = CountConnected(*stub, &run.schema_contexts);
    if (run.connected == devices) {
      run.all_connected = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  run.seconds_to_connected =
      std::chrono::duration<double>(Clock::now() - start).count();
  // Settle (keepalives idle, allocator quiet), then read the memory.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  run.memory = ReadMemory(daemon.pid());
  run.cpu_seconds = CpuSeconds(daemon.pid());
  CountConnected(*stub, &run.schema_contexts);
  if (!run.all_connected) {
    std::string log = daemon.Log();
    std::fprintf(stderr, "only %d of %d connected; log tail:\n%s\n",
                 run.connected, devices,
                 log.substr(log.size() > 4000 ? log.size() - 4000 : 0).c_str());
  }
  daemon.Stop();
  return run;
}

}  // namespace
}  // namespace southgate::bench

int main(int argc, char** argv) {
  using namespace southgate::bench;
  CLI::App app{"NETCONF scale: N devices on one netconfd"};
  int devices = 1000;
  int timeout_s = 900;
  std::string report;
  app.add_option("--devices", devices, "inventory entries (one netconfd)");
  app.add_option("--timeout-s", timeout_s, "bound on the wait for connected");
  app.add_option("--report", report, "append the results to this file");
  CLI11_PARSE(app, argc, argv);

  // One netconfd and one sshd serve every session (start_device.sh reads
  // these; netconfd's default is 1024 sessions).
  setenv("NETCONFD_MAX_SESSIONS", std::to_string(devices + 100).c_str(), 1);
  setenv("SSHD_MAX_STARTUPS", "1000", 1);
  NetconfDevice device;
  if (!device.Start()) {
    std::fprintf(stderr, "cannot start netconfd/sshd: %s\n",
                 device.error().c_str());
    return 1;
  }
  const std::string password_file = device.dir() + "/password";
  std::ofstream(password_file) << NetconfDevice::kPassword;
  const std::string load_before = LoadAverage();
  const auto timeout = std::chrono::seconds(timeout_s);
  Run zero = Measure(device, password_file, 0, timeout);
  Run one = Measure(device, password_file, 1, timeout);
  Run many = Measure(device, password_file, devices, timeout);
  const double per_device_kib =
      devices > 1
          ? static_cast<double>(many.memory.rss_kib - one.memory.rss_kib) /
                (devices - 1)
          : 0;
  auto row = [](const Run& run) {
    return absl::StrFormat("| %d | %s | %.1f s | %d | %d | %d | %.1f | %s |\n",
                           run.devices, run.all_connected ? "yes" : "NO",
                           run.seconds_to_connected, run.connected,
                           run.memory.rss_kib, run.memory.hwm_kib,
                           run.cpu_seconds, run.schema_contexts);
  };
  std::string text = absl::StrFormat(
      "\n### NETCONF scale (issue 4), %s\n\n"
      "Command: `./bin/netconf_scale_bench --devices %d`  \n"
      "Machine: %s  \nLoad average before / after: %s / %s  \n"
      "All devices point at one netconfd 2.13 behind one sshd on loopback "
      "(password auth, known_hosts check); time from spawning southgated "
      "until its own target (southgate-devices) reports every device "
      "connected; RSS read 3 s later.\n\n"
      "| devices | all connected | time to connected | connected | RSS KiB "
      "| VmHWM KiB | daemon CPU s | schema-contexts |\n"
      "|---:|---|---:|---:|---:|---:|---:|---:|\n%s%s%s\n"
      "Memory per device beyond the shared schema: (RSS(%d) - RSS(1)) / %d = "
      "**%.0f KiB** (goal under 1 MiB). The shared schema and start-up: "
      "RSS(1) - RSS(0) = %d KiB.\n",
      UtcNow(), devices, MachineInfo(), load_before, LoadAverage(), row(zero),
      row(one), row(many), devices, devices - 1, per_device_kib,
      one.memory.rss_kib - zero.memory.rss_kib);
  std::printf("%s", text.c_str());
  if (!report.empty()) AppendReport(report, text);
  return many.all_connected ? 0 : 2;
}
