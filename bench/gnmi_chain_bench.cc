// Telemetry through a chain of two daemons (issue 5): daemon B serves a sim
// device whose load generator pushes counter changes; daemon A reaches it
// with the gnmi driver (TLS, username/password). The same client subscribes
// ON_CHANGE to B directly (the baseline) and then to A, in the same run and
// against the same B, for two figures:
//   throughput: the generator runs faster than either path can deliver;
//     delivered leaf updates/s through A / directly from B;
//   latency: a fixed moderate rate both paths carry in full; now - the
//     sim's timestamp on arrival (the driver passes B's timestamps through),
//     so the chain's added latency is its p50/p99 minus B's.
// Nothing here asserts a time; every wait is bounded.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "bench_support.h"

namespace southgate::bench {
namespace {

// Daemon A: one gnmi-driver device "sim1" pointing at B's sim1.
std::string ChainConfig(const std::string& b_address,
                        const std::string& b_cert_file) {
  return absl::StrCat(R"(
server:
  listen: 127.0.0.1:{PORT}
state_dir: {DIR}/state
log:
  level: info
yang:
  dirs: [ {SOURCE}/yang, /usr/share/yuma/modules/ietf ]
{USERS}
devices:
  - name: sim1
    driver: gnmi
    address: )",
                      b_address, R"(
    credentials: { username: admin, password_env: SOUTHGATE_BENCH_B_PASSWORD }
    options: { target: sim1, tls_ca_file: )",
                      b_cert_file, " }\n");
}

struct Measured {
  LoadResult direct;
  LoadResult chain;
  double b_cpu_chain = 0;  // B's CPU while it fed A
};

std::string Us(const LoadResult& r, double q) {
  int64_t v = r.latency.Quantile(q);
  return v < 0 ? std::string("–") : absl::StrCat(v);
}

// One B (generator at `rate`), one A; the client on B, then on A.
bool Measure(int64_t rate, int updates, const std::string& encoding,
             bool record_latency, std::chrono::milliseconds warmup,
             std::chrono::milliseconds window, Measured& out) {
  const std::string sim_options = absl::StrCat(
      R"({"seed": "{SOURCE}/examples/sim/ietf-default.json", )",
      R"("update_interval_ms": 0, "change_rate": )", rate,
      R"(, "change_leaves": 10000, "change_batch": )", updates, "}");
  Daemon b(SimDaemonConfig(1, sim_options));
  if (!b.WaitReady(std::chrono::seconds(60), 1)) {
    std::cerr << "daemon B did not start:\n" << b.Log() << "\n";
    return false;
  }
  // A trusts B's self-signed certificate (it names 127.0.0.1).
  char pattern[] = "/tmp/southgate-bench-chain-XXXXXX";
  const std::string scratch = mkdtemp(pattern);
  const std::string b_cert = scratch + "/b.crt";
  std::ofstream(b_cert) << b.root_cert();
  Daemon a(ChainConfig(b.address(), b_cert),
           {"SOUTHGATE_BENCH_B_PASSWORD=admin"});
  bool ready = a.WaitReady(std::chrono::seconds(60), 1);
  if (!ready) {
    std::cerr << "daemon A did not start:\n" << a.Log() << "\n";
  }
  if (ready) {
    const auto request =
        StreamRequest("sim1", {"/interfaces-state/interface/statistics"},
                      "on_change", encoding);
    LoadOptions load;
    load.streams = 1;
    load.record_latency = record_latency;
    load.warmup = warmup;
    load.window = window;
    load.address = b.address();
    load.root_cert = b.root_cert();
    load.server_pid = b.pid();
    out.direct = RunLoad(load, [&](int) { return request; });
    load.address = a.address();
    load.root_cert = a.root_cert();
    load.server_pid = a.pid();
    const double b_cpu_before = CpuSeconds(b.pid());
    const auto started = std::chrono::steady_clock::now();
    out.chain = RunLoad(load, [&](int) { return request; });
    const double seconds = std::chrono::duration<double>(
                               std::chrono::steady_clock::now() - started)
                               .count();
    out.b_cpu_chain = (CpuSeconds(b.pid()) - b_cpu_before) / seconds;
  }
  std::error_code ignored;
  std::filesystem::remove_all(scratch, ignored);
  return ready;
}

std::string Note(const LoadResult& r) {
  if (r.ended == 0 && r.synced > 0) return "";
  return absl::StrCat(" (synced ", r.synced, ", ended ", r.ended, ": ",
                      r.first_error, ")");
}

int Main(int argc, char** argv) {
  int64_t saturating_rate = 1000000;
  int64_t latency_rate = 10000;
  int updates = 10;
  std::string encoding = "json_ietf";
  double warmup_s = 2, window_s = 5;
  std::string doc = std::string(SOUTHGATE_SOURCE_DIR) + "/docs/performance.md";

  CLI::App app{"Telemetry through daemon A (gnmi driver) -> daemon B (sim)"};
  app.add_option("--saturating-rate", saturating_rate,
                 "leaf updates/s generated for the throughput figure");
  app.add_option("--latency-rate", latency_rate,
                 "leaf updates/s generated for the latency figure");
  app.add_option("--updates", updates, "updates per generated Notification");
  app.add_option("--encoding", encoding, "client encoding");
  app.add_option("--warmup", warmup_s, "seconds before measuring");
  app.add_option("--window", window_s, "seconds measured");
  app.add_option("--doc", doc, "append the table here ('' to skip)");
  app.add_option("--southgated", daemon_binary().southgated,
                 "southgated binary to measure");
  app.add_option("--plugin-dir", daemon_binary().plugin_dir,
                 "its driver plugin folder (sim.so, gnmi.so)");
  CLI11_PARSE(app, argc, argv);
  const auto warmup =
      std::chrono::milliseconds(static_cast<int64_t>(warmup_s * 1000));
  const auto window =
      std::chrono::milliseconds(static_cast<int64_t>(window_s * 1000));
  const std::string load_before = LoadAverage();

  Measured throughput, latency;
  if (!Measure(saturating_rate, updates, encoding, false, warmup, window,
               throughput) ||
      !Measure(latency_rate, updates, encoding, true, warmup, window,
               latency)) {
    return 1;
  }
  const auto& td = throughput.direct;
  const auto& tc = throughput.chain;
  const std::string throughput_table = absl::StrFormat(
      "| path | delivered (leaf updates/s) | server CPU | B CPU | client CPU "
      "|\n| --- | ---: | ---: | ---: | ---: |\n"
      "| client -> B (baseline) | %.1f k | B %.0f%% | %.0f%% | %.0f%% |%s\n"
      "| client -> A -> B | %.1f k | A %.0f%% | %.0f%% | %.0f%% |%s\n\n"
      "Throughput ratio chain / direct: **%.0f%%**.\n",
      td.updates_per_second / 1e3, td.server_cpu * 100, td.server_cpu * 100,
      td.client_cpu * 100, Note(td), tc.updates_per_second / 1e3,
      tc.server_cpu * 100, throughput.b_cpu_chain * 100, tc.client_cpu * 100,
      Note(tc),
      td.updates_per_second > 0
          ? 100.0 * tc.updates_per_second / td.updates_per_second
          : 0.0);
  const auto& ld = latency.direct;
  const auto& lc = latency.chain;
  auto added = [&](double q) {
    int64_t d = ld.latency.Quantile(q), c = lc.latency.Quantile(q);
    return d < 0 || c < 0 ? std::string("–") : absl::StrCat(c - d);
  };
  const std::string latency_table = absl::StrFormat(
      "| path | delivered (leaf updates/s) | p50 µs | p90 µs | p99 µs | "
      "notifications measured |\n| --- | ---: | ---: | ---: | ---: | ---: |\n"
      "| client -> B (baseline) | %.1f k | %s | %s | %s | %d |%s\n"
      "| client -> A -> B | %.1f k | %s | %s | %s | %d |%s\n\n"
      "Added by the chain: p50 **%s µs**, p99 **%s µs**.\n",
      ld.updates_per_second / 1e3, Us(ld, 0.5), Us(ld, 0.9), Us(ld, 0.99),
      ld.latency.count(), Note(ld), lc.updates_per_second / 1e3, Us(lc, 0.5),
      Us(lc, 0.9), Us(lc, 0.99), lc.latency.count(), Note(lc), added(0.5),
      added(0.99));
  std::cout << throughput_table << "\n" << latency_table;
  if (!doc.empty()) {
    AppendReport(
        doc,
        absl::StrCat(
            "\n### gNMI chain (gnmi driver): A -> B vs B directly, ", UtcNow(),
            "\n\n", "Command: `", CommandLine(argc, argv), "`  \n", "Machine: ",
            MachineInfo(), "  \n", "Load average before / after: ", load_before,
            " / ", LoadAverage(), "  \n",
            "One ON_CHANGE stream on `/interfaces-state/interface/statistics`"
            " (encoding ",
            encoding, ") of B's sim1 (load generator, 10,000 leaves, ", updates,
            "-update Notifications), first from B, then from A, whose gnmi "
            "driver holds one upstream stream to B (TLS, username/password). "
            "Window ",
            window_s, " s after ", warmup_s, " s warm-up.\n\n",
            "Throughput, generator at ", saturating_rate,
            " leaf updates/s:\n\n", throughput_table,
            "\nLatency (now - the sim's timestamp), generator "
            "at ",
            latency_rate, " leaf updates/s:\n\n", latency_table));
  }
  return 0;
}

}  // namespace
}  // namespace southgate::bench

int main(int argc, char** argv) { return southgate::bench::Main(argc, argv); }
