// Fan-out throughput (issue 3, section 5): leaf updates per second that 1,
// 10 and 100 Subscribe clients receive, for 1, 10 and 100 updates per
// Notification, from (a) the ceiling server and (b) southgated with one sim
// device changing as fast as it can, measured in the same run with the same
// client. Prints one table and appends it to docs/performance.md.
//
// One server runs at a time (the idle one would otherwise steal a core on
// this 2-core machine: the sim generates changes whether or not anyone
// listens), each started fresh per updates-per-Notification value.
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "bench_support.h"

namespace southgate::bench {
namespace {

struct Flags {
  std::vector<int> updates = {1, 10, 100};
  std::vector<int> subscribers = {1, 10, 100};
  std::string servers = "both";  // both | ceiling | southgate
  std::string encoding = "json_ietf";
  std::string path = "/interfaces-state/interface/statistics";
  std::string mode = "on_change";
  std::string sim_options =
      R"({"seed": "{SOURCE}/examples/sim/ietf-default.json", )"
      R"("update_interval_ms": 0, "change_rate": 2000000, )"
      R"("change_leaves": {UPDATES}, "change_batch": {UPDATES}, )"
      R"("change_paced": true})";
  std::vector<std::string> daemon_env;
  std::string daemon_yaml;
  std::string wire = "bytes";
  int connections = 0;
  double warmup_s = 2;
  double window_s = 5;
  std::string doc = std::string(SOUTHGATE_SOURCE_DIR) + "/docs/performance.md";
};

struct Cell {
  LoadResult ceiling;
  LoadResult southgate;
  bool has_ceiling = false;
  bool has_southgate = false;
};

std::string Rate(double per_second) {
  if (per_second >= 1e6) return absl::StrFormat("%.2f M", per_second / 1e6);
  if (per_second >= 1e3) return absl::StrFormat("%.1f k", per_second / 1e3);
  return absl::StrFormat("%.0f", per_second);
}

std::string Describe(const LoadResult& r, int streams) {
  // upn: leaf updates per Notification actually received (the daemon may
  // batch or coalesce differently from the driver).
  std::string text = absl::StrFormat(
      "%s (upn %.0f, srv %.0f%%, cli %.0f%%)", Rate(r.updates_per_second),
      r.notifications_per_second > 0
          ? r.updates_per_second / r.notifications_per_second
          : 0.0,
      r.server_cpu * 100, r.client_cpu * 100);
  if (r.synced < streams) absl::StrAppend(&text, " ", r.synced, " synced!");
  if (r.ended > 0) {
    absl::StrAppend(&text, " ", r.ended, " ended: ", r.first_error);
  }
  return text;
}

LoadOptions BaseLoad(const Flags& flags, int streams) {
  LoadOptions load;
  load.streams = streams;
  load.connections = flags.connections;
  load.warmup =
      std::chrono::milliseconds(static_cast<int64_t>(flags.warmup_s * 1000));
  load.window =
      std::chrono::milliseconds(static_cast<int64_t>(flags.window_s * 1000));
  return load;
}

int Main(int argc, char** argv) {
  Flags flags;
  CLI::App app{"gNMI Subscribe fan-out throughput: ceiling vs southgated"};
  app.add_option("--updates", flags.updates, "updates per Notification")
      ->delimiter(',');
  app.add_option("--subscribers", flags.subscribers,
                 "concurrent Subscribe streams")
      ->delimiter(',');
  app.add_option("--servers", flags.servers, "both | ceiling | southgate");
  app.add_option("--encoding", flags.encoding, "json_ietf | json | proto");
  app.add_option("--path", flags.path, "path subscribed on southgated");
  app.add_option("--mode", flags.mode, "on_change | sample | target_defined");
  app.add_option("--sim-options", flags.sim_options,
                 "sim device options (JSON); {UPDATES} becomes the "
                 "updates-per-Notification value, {SOURCE} the source tree");
  app.add_option("--daemon-env", flags.daemon_env,
                 "environment for southgated only, e.g. "
                 "LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2")
      ->delimiter(',');
  app.add_option("--daemon-yaml", flags.daemon_yaml,
                 "more top-level configuration for southgated, e.g. "
                 "'telemetry: {pipeline_notifications: 32}'");
  app.add_option("--wire", flags.wire,
                 "ceiling: bytes (serialized once) | proto (per write)");
  app.add_option("--connections", flags.connections,
                 "TLS connections shared by the streams (0: one each)");
  app.add_option("--warmup", flags.warmup_s, "seconds before measuring");
  app.add_option("--window", flags.window_s, "seconds measured");
  app.add_option("--doc", flags.doc, "append the table here ('' to skip)");
  app.add_option("--southgated", daemon_binary().southgated,
                 "southgated binary to measure");
  app.add_option("--plugin-dir", daemon_binary().plugin_dir,
                 "its driver plugin folder (sim.so)");
  CLI11_PARSE(app, argc, argv);
  const bool run_ceiling = flags.servers != "southgate";
  const bool run_southgate = flags.servers != "ceiling";

  std::vector<std::vector<Cell>> cells(
      flags.updates.size(), std::vector<Cell>(flags.subscribers.size()));
  const std::string load_before = LoadAverage();
  for (size_t u = 0; u < flags.updates.size(); ++u) {
    const int updates = flags.updates[u];
    if (run_ceiling) {
      CeilingServer ceiling(updates, flags.encoding, 0, flags.wire);
      if (!ceiling.WaitReady(std::chrono::seconds(20))) {
        std::cerr << "ceiling server did not start\n";
        return 1;
      }
      for (size_t s = 0; s < flags.subscribers.size(); ++s) {
        LoadOptions load = BaseLoad(flags, flags.subscribers[s]);
        load.address = ceiling.address();
        load.root_cert = ceiling.root_cert();
        load.server_pid = ceiling.pid();
        auto request =
            StreamRequest("sim1", {flags.path}, flags.mode, flags.encoding);
        cells[u][s].ceiling = RunLoad(load, [&](int) { return request; });
        cells[u][s].has_ceiling = true;
        std::cerr << "ceiling   updates/notification " << updates
                  << " subscribers " << flags.subscribers[s] << ": "
                  << Describe(cells[u][s].ceiling, flags.subscribers[s])
                  << "\n";
      }
    }
    if (run_southgate) {
      const std::string sim_options = absl::StrReplaceAll(
          flags.sim_options, {{"{UPDATES}", std::to_string(updates)},
                              {"{SOURCE}", SOUTHGATE_SOURCE_DIR}});
      const std::vector<std::string>& env = flags.daemon_env;
      Daemon daemon(
          SimDaemonConfig(
              1, sim_options,
              flags.daemon_yaml.empty() ? "" : flags.daemon_yaml + "\n"),
          env);
      if (!daemon.WaitReady(std::chrono::seconds(60), 1)) {
        std::cerr << "southgated did not start:\n" << daemon.Log() << "\n";
        return 1;
      }
      for (size_t s = 0; s < flags.subscribers.size(); ++s) {
        LoadOptions load = BaseLoad(flags, flags.subscribers[s]);
        load.address = daemon.address();
        load.root_cert = daemon.root_cert();
        load.server_pid = daemon.pid();
        auto request =
            StreamRequest("sim1", {flags.path}, flags.mode, flags.encoding);
        cells[u][s].southgate = RunLoad(load, [&](int) { return request; });
        cells[u][s].has_southgate = true;
        std::cerr << "southgate updates/notification " << updates
                  << " subscribers " << flags.subscribers[s] << ": "
                  << Describe(cells[u][s].southgate, flags.subscribers[s])
                  << "\n";
      }
      if (!daemon.running()) {
        std::cerr << "southgated exited during the run:\n"
                  << daemon.Log() << "\n";
      }
    }
  }

  // The table: leaf updates/s summed over all subscribers.
  std::string table =
      "| updates/Notification | subscribers | ceiling (leaf updates/s) | "
      "southgate (leaf updates/s) | southgate / ceiling |\n"
      "| ---: | ---: | --- | --- | ---: |\n";
  for (size_t u = 0; u < flags.updates.size(); ++u) {
    for (size_t s = 0; s < flags.subscribers.size(); ++s) {
      const Cell& cell = cells[u][s];
      const int streams = flags.subscribers[s];
      std::string ratio = "–";
      if (cell.has_ceiling && cell.has_southgate &&
          cell.ceiling.updates_per_second > 0) {
        ratio =
            absl::StrFormat("%.0f%%", 100 * cell.southgate.updates_per_second /
                                          cell.ceiling.updates_per_second);
      }
      absl::StrAppend(
          &table, "| ", flags.updates[u], " | ", streams, " | ",
          cell.has_ceiling ? Describe(cell.ceiling, streams) : "–", " | ",
          cell.has_southgate ? Describe(cell.southgate, streams) : "–", " | ",
          ratio, " |\n");
    }
  }
  std::cout << table;

  std::string report = absl::StrCat(
      "\n### Fan-out throughput, ", UtcNow(), "\n\n", "Command: `",
      CommandLine(argc, argv), "`  \n", "Machine: ", MachineInfo(), "  \n",
      "Load average before / after: ", load_before, " / ", LoadAverage(),
      "  \n", "Encoding ", flags.encoding, ", path `", flags.path, "` (",
      flags.mode, "), ceiling wire ", flags.wire, ", window ", flags.window_s,
      " s after ", flags.warmup_s, " s warm-up; sim options `",
      flags.sim_options, "`",
      flags.daemon_env.empty()
          ? ""
          : absl::StrCat("; daemon env `", absl::StrJoin(flags.daemon_env, " "),
                         "`"),
      flags.daemon_yaml.empty()
          ? ""
          : absl::StrCat("; daemon configuration `", flags.daemon_yaml, "`"),
      ". upn = leaf updates per Notification received; srv/cli = CPU "
      "used by the server / the load client (100% = one core).\n\n",
      table);
  AppendReport(flags.doc, report);
  return 0;
}

}  // namespace
}  // namespace southgate::bench

int main(int argc, char** argv) { return southgate::bench::Main(argc, argv); }
