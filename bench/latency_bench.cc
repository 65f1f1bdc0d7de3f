// Change-to-client latency (issue 3, section 5): the sim stamps each
// Notification with timestamp_ns when it generates the change; the client
// records now - timestamp on arrival (same machine, same CLOCK_REALTIME).
// Run at a fixed rate (default 100,000 leaf updates/s) so that queueing is
// what a normal load gives, not a saturated one. The ceiling server, paced
// to the same rate and stamping each message when it builds it, gives the
// floor: gRPC + TLS + the client on the same two cores.
#include <iostream>
#include <string>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "bench_support.h"

namespace southgate::bench {
namespace {

std::string Row(const std::string& name, const LoadResult& r) {
  auto us = [&](double q) {
    int64_t v = r.latency.Quantile(q);
    return v < 0 ? std::string("–") : absl::StrCat(v);
  };
  std::string note;
  if (r.ended > 0)
    note = absl::StrCat(" (", r.ended, " ended: ", r.first_error, ")");
  return absl::StrFormat(
      "| %s | %.1f k | %s | %s | %s | %s | %d | %.0f%% |%s\n", name,
      r.updates_per_second / 1e3, us(0.5), us(0.9), us(0.99), us(0.999),
      r.latency.count(), r.server_cpu * 100, note);
}

int Main(int argc, char** argv) {
  int64_t rate = 100000;
  int updates = 10;
  int subscribers = 1;
  std::string encoding = "json_ietf";
  std::string path = "/interfaces-state/interface/statistics";
  std::string sim_options =
      R"({"seed": "{SOURCE}/examples/sim/ietf-default.json", )"
      R"("update_interval_ms": 0, "change_rate": {RATE}, )"
      R"("change_leaves": 10000, "change_batch": {UPDATES}})";
  std::string servers = "both";
  std::vector<std::string> daemon_env;
  double warmup_s = 2, window_s = 10;
  std::string doc = std::string(SOUTHGATE_SOURCE_DIR) + "/docs/performance.md";

  CLI::App app{"gNMI Subscribe change-to-client latency at a fixed rate"};
  app.add_option("--rate", rate, "leaf updates per second generated");
  app.add_option("--updates", updates, "updates per Notification");
  app.add_option("--subscribers", subscribers, "Subscribe streams");
  app.add_option("--encoding", encoding, "json_ietf | json | proto");
  app.add_option("--path", path, "path subscribed on southgated");
  app.add_option("--sim-options", sim_options,
                 "sim options; {RATE}, {UPDATES}, {SOURCE} are replaced");
  app.add_option("--servers", servers, "both | ceiling | southgate");
  app.add_option("--daemon-env", daemon_env, "environment for southgated")
      ->delimiter(',');
  app.add_option("--warmup", warmup_s, "seconds before measuring");
  app.add_option("--window", window_s, "seconds measured");
  app.add_option("--doc", doc, "append the table here ('' to skip)");
  app.add_option("--southgated", daemon_binary().southgated,
                 "southgated binary to measure");
  app.add_option("--plugin-dir", daemon_binary().plugin_dir,
                 "its driver plugin folder (sim.so)");
  CLI11_PARSE(app, argc, argv);

  LoadOptions load;
  load.streams = subscribers;
  load.record_latency = true;
  load.warmup =
      std::chrono::milliseconds(static_cast<int64_t>(warmup_s * 1000));
  load.window =
      std::chrono::milliseconds(static_cast<int64_t>(window_s * 1000));
  const auto request = StreamRequest("sim1", {path}, "on_change", encoding);
  const std::string load_before = LoadAverage();
  std::string rows;

  if (servers != "southgate") {
    // The ceiling paces each stream; together they carry `rate`.
    CeilingServer ceiling(updates, encoding, rate / subscribers);
    if (!ceiling.WaitReady(std::chrono::seconds(20))) {
      std::cerr << "ceiling server did not start\n";
      return 1;
    }
    load.address = ceiling.address();
    load.root_cert = ceiling.root_cert();
    load.server_pid = ceiling.pid();
    LoadResult result = RunLoad(load, [&](int) { return request; });
    rows += Row("ceiling (paced)", result);
    std::cerr << Row("ceiling (paced)", result);
  }
  if (servers != "ceiling") {
    const std::string options = absl::StrReplaceAll(
        sim_options, {{"{RATE}", std::to_string(rate)},
                      {"{UPDATES}", std::to_string(updates)},
                      {"{SOURCE}", SOUTHGATE_SOURCE_DIR}});
    const std::vector<std::string>& env = daemon_env;
    Daemon daemon(SimDaemonConfig(1, options), env);
    if (!daemon.WaitReady(std::chrono::seconds(60), 1)) {
      std::cerr << "southgated did not start:\n" << daemon.Log() << "\n";
      return 1;
    }
    load.address = daemon.address();
    load.root_cert = daemon.root_cert();
    load.server_pid = daemon.pid();
    LoadResult result = RunLoad(load, [&](int) { return request; });
    rows += Row("southgate", result);
    std::cerr << Row("southgate", result);
  }

  const std::string table = absl::StrCat(
      "| server | delivered (leaf updates/s) | p50 µs | p90 µs | p99 µs | "
      "p99.9 µs | notifications measured | server CPU |\n"
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
      rows);
  std::cout << table;
  AppendReport(
      doc,
      absl::StrCat("\n### Change-to-client latency, ", UtcNow(), "\n\n",
                   "Command: `", CommandLine(argc, argv), "`  \n",
                   "Machine: ", MachineInfo(), "  \n",
                   "Load average before / after: ", load_before, " / ",
                   LoadAverage(), "  \n", rate, " leaf updates/s in ", updates,
                   "-update Notifications to ", subscribers,
                   " subscriber(s), encoding ", encoding, ", window ", window_s,
                   " s after ", warmup_s, " s warm-up.\n\n", table));
  return 0;
}

}  // namespace
}  // namespace southgate::bench

int main(int argc, char** argv) { return southgate::bench::Main(argc, argv); }
