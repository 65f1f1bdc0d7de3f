// Daemon memory per idle subscription (issue 3, section 5): southgated with
// 100 sim devices changing slowly; RSS before any Subscribe, then with
// 10,000 subscriptions open and synced. Each layout is a fresh daemon:
//   10000x1  10,000 Subscribe streams, one subscription each (what 10,000
//            separate dashboards cost: an HTTP/2 stream, a reactor, a queue
//            and a cache reference each);
//   200x50   200 streams of 50 subscriptions each (the cost of a
//            subscription alone).
// Stream i subscribes to device i % devices; within a stream, subscription
// j watches a different leaf so nothing is deduplicated away.
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "bench_support.h"

namespace southgate::bench {
namespace {

constexpr const char* kLeaves[] = {
    "in-octets",          "in-unicast-pkts",    "in-broadcast-pkts",
    "in-multicast-pkts",  "in-discards",        "in-errors",
    "in-unknown-protos",  "out-octets",         "out-unicast-pkts",
    "out-broadcast-pkts", "out-multicast-pkts", "out-discards",
    "out-errors"};
constexpr int kLeafCount = sizeof(kLeaves) / sizeof(kLeaves[0]);
constexpr int kInterfaces = 4;  // eth0..eth3 in examples/sim/ietf-default.json

// Subscription j of a stream: a distinct statistics leaf (52 exist per
// device; beyond that paths repeat, which a shared cache may share).
std::string LeafPath(int j) {
  return absl::StrCat("/interfaces-state/interface[name=eth",
                      (j / kLeafCount) % kInterfaces, "]/statistics/",
                      kLeaves[j % kLeafCount]);
}

int Main(int argc, char** argv) {
  int devices = 100;
  std::vector<std::string> layouts = {"10000x1", "200x50"};
  int connections = 100;
  std::string sim_options =
      R"({"seed": ")" SOUTHGATE_SOURCE_DIR
      R"(/examples/sim/ietf-default.json", "update_interval_ms": 1000})";
  std::vector<std::string> daemon_env;
  double settle_s = 3;
  bool with_ceiling = true;
  std::string doc = std::string(SOUTHGATE_SOURCE_DIR) + "/docs/performance.md";

  CLI::App app{"southgated memory per idle subscription"};
  app.add_option("--devices", devices, "sim devices");
  app.add_option("--layouts", layouts,
                 "STREAMSxSUBSCRIPTIONS_PER_STREAM, comma separated")
      ->delimiter(',');
  app.add_option("--connections", connections,
                 "TLS connections carrying the streams");
  app.add_option("--sim-options", sim_options, "options of every sim device");
  app.add_option("--daemon-env", daemon_env, "environment for southgated")
      ->delimiter(',');
  app.add_option("--settle", settle_s, "seconds to wait before reading RSS");
  app.add_option("--ceiling", with_ceiling,
                 "also measure the idle ceiling server (the gRPC floor)");
  app.add_option("--doc", doc, "append the table here ('' to skip)");
  app.add_option("--southgated", daemon_binary().southgated,
                 "southgated binary to measure");
  app.add_option("--plugin-dir", daemon_binary().plugin_dir,
                 "its driver plugin folder (sim.so)");
  CLI11_PARSE(app, argc, argv);

  const std::string load_before = LoadAverage();
  std::string rows;
  const auto settle =
      std::chrono::milliseconds(static_cast<int64_t>(settle_s * 1000));
  for (const std::string& layout : layouts) {
    std::vector<std::string> parts = absl::StrSplit(layout, 'x');
    int streams = 0, per_stream = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &streams) ||
        !absl::SimpleAtoi(parts[1], &per_stream) || streams < 1 ||
        per_stream < 1) {
      std::cerr << "bad layout " << layout << "\n";
      return 2;
    }
    // One measurement: RSS of `pid` before and with the streams open.
    auto measure = [&](const std::string& server, const std::string& address,
                       const std::string& cert, pid_t pid) {
      std::this_thread::sleep_for(settle);
      const MemoryUsage without = ReadMemory(pid);
      LoadOptions load;
      load.address = address;
      load.root_cert = cert;
      load.server_pid = pid;
      load.streams = streams;
      load.connections = connections;
      load.sync_timeout = std::chrono::seconds(180);
      load.warmup = settle;
      load.window = std::chrono::milliseconds(2000);
      MemoryUsage with;
      load.after_warmup = [&] { with = ReadMemory(pid); };
      const auto start = std::chrono::steady_clock::now();
      LoadResult result = RunLoad(load, [&](int i) {
        std::vector<std::string> paths;
        for (int j = 0; j < per_stream; ++j) paths.push_back(LeafPath(j));
        return StreamRequest(absl::StrCat("sim", i % devices + 1), paths,
                             "on_change", "json_ietf");
      });
      const double open_s = std::chrono::duration<double>(
                                std::chrono::steady_clock::now() - start)
                                .count();
      const int subscriptions = streams * per_stream;
      const double per_subscription =
          static_cast<double>(with.rss_kib - without.rss_kib) / subscriptions;
      std::string note;
      if (result.synced < streams) {
        note = absl::StrCat(" only ", result.synced, " synced;");
      }
      if (result.ended > 0) {
        note += absl::StrCat(" ", result.ended, " ended: ", result.first_error);
      }
      const std::string row = absl::StrFormat(
          "| %s | %d x %d | %d | %d | %d | %d | %d | %.2f | %.0f s |%s\n",
          server, streams, per_stream, subscriptions, without.rss_kib,
          with.rss_kib, with.hwm_kib, with.rss_kib - without.rss_kib,
          per_subscription, open_s, note);
      std::cerr << row;
      rows += row;
    };

    {
      Daemon daemon(SimDaemonConfig(devices, sim_options), daemon_env);
      if (!daemon.WaitReady(std::chrono::seconds(120), devices)) {
        std::cerr << "southgated did not start:\n" << daemon.Log() << "\n";
        return 1;
      }
      measure("southgate", daemon.address(), daemon.root_cert(), daemon.pid());
      if (!daemon.running()) rows += "(southgated exited during the run)\n";
    }
    if (with_ceiling) {
      // The floor: gRPC + TLS holding the same streams, sending nothing
      // after sync_response.
      CeilingServer ceiling(1, "json_ietf", 0, "bytes", /*idle=*/true);
      if (!ceiling.WaitReady(std::chrono::seconds(20))) {
        std::cerr << "ceiling server did not start\n";
        return 1;
      }
      measure("ceiling (idle)", ceiling.address(), ceiling.root_cert(),
              ceiling.pid());
    }
  }
  const std::string table = absl::StrCat(
      "| server | streams x subscriptions | subscriptions | RSS without (KiB) "
      "| "
      "RSS with (KiB) | VmHWM (KiB) | difference (KiB) | KiB per idle "
      "subscription | open + run time |\n"
      "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
      rows);
  std::cout << table;
  AppendReport(
      doc,
      absl::StrCat(
          "\n### Memory per idle subscription, ", UtcNow(), "\n\n",
          "Command: `", CommandLine(argc, argv), "`  \n", "Machine: ",
          MachineInfo(), "  \n", "Load average before / after: ", load_before,
          " / ", LoadAverage(), "  \n", devices, " sim devices, options `",
          sim_options, "`; ", connections,
          " TLS connections; ON_CHANGE on distinct "
          "statistics leaves; the ceiling row is the same streams held by "
          "bench/ceiling_server --idle (gRPC + TLS alone); RSS read ",
          settle_s, " s after every stream had its sync_response.\n\n", table));
  return 0;
}

}  // namespace
}  // namespace southgate::bench

int main(int argc, char** argv) { return southgate::bench::Main(argc, argv); }
