// Shared pieces of the issue 3 benchmarks: starting southgated and the
// ceiling server as child processes, a Subscribe load client built on the
// gRPC callback API, a latency histogram, and the report written to
// docs/performance.md. Benchmarks are not tests: nothing here asserts a
// time; every wait is bounded.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "github.com/openconfig/gnmi/proto/gnmi/gnmi.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace southgate::bench {

std::string ReadFile(const std::string& path);
int FreeLoopbackPort();
int64_t NowNs();  // CLOCK_REALTIME, the clock notification timestamps use

// A child process with stdout/stderr sent to `log_path`.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv,
               const std::string& log_path);
  ~ChildProcess();
  bool running();
  // SIGTERM, then SIGKILL after `grace`; returns the exit status or -1.
  int Stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int exit_status_ = -3;
};

// Resident memory of a process from /proc/PID/status, in KiB.
struct MemoryUsage {
  int64_t rss_kib = 0;  // VmRSS
  int64_t hwm_kib = 0;  // VmHWM (peak RSS)
};
MemoryUsage ReadMemory(pid_t pid);
// User + system CPU seconds a process has used (/proc/PID/stat).
double CpuSeconds(pid_t pid);

// Which southgated and plugin folder the benches start: this build's by
// default; the --southgated and --plugin-dir flags change them (to measure
// another build of the daemon with the same client).
struct DaemonBinary {
  std::string southgated = SOUTHGATED_BINARY;
  std::string plugin_dir = SOUTHGATE_PLUGIN_DIR;
};
DaemonBinary& daemon_binary();

// A southgated config with `devices` sim devices sim1..simN, each with
// `sim_options` (a YAML flow mapping) as its options; placeholders as for
// Daemon below.
// `extra_yaml`: more top-level sections (e.g. "telemetry:\n  ...\n").
std::string SimDaemonConfig(int devices, const std::string& sim_options,
                            const std::string& extra_yaml = "");

// southgated in a scratch folder on a free loopback port. The config text may
// use {PORT}, {DIR}, {SOURCE} and {USERS}; {USERS} are admin/admin
// (read-write) and viewer/viewer.
class Daemon {
 public:
  explicit Daemon(const std::string& config_yaml,
                  const std::vector<std::string>& environment = {});
  ~Daemon();
  // Until the TLS port answers Capabilities and the log shows `devices`
  // "connected" lines.
  bool WaitReady(std::chrono::seconds timeout, int devices);
  std::string address() const;
  std::string root_cert() const;
  std::string Log() const;
  pid_t pid() const { return process_->pid(); }
  bool running() { return process_->running(); }
  int Stop() { return process_->Stop(); }

 private:
  std::string dir_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

// The ceiling server (bench/ceiling_server.cc) as a child process.
class CeilingServer {
 public:
  // `rate` > 0 paces each stream to that many leaf updates per second.
  CeilingServer(int updates_per_notification, const std::string& encoding,
                int64_t rate = 0, const std::string& wire = "bytes",
                bool idle = false,
                const std::string& binary = CEILING_SERVER_BINARY);
  ~CeilingServer();
  bool WaitReady(std::chrono::seconds timeout);
  std::string address() const;
  std::string root_cert() const;
  pid_t pid() const { return process_->pid(); }

 private:
  std::string dir_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

// A TLS channel of its own (a separate HTTP/2 connection: gRPC would
// otherwise share one connection between channels with equal arguments).
std::shared_ptr<grpc::Channel> TlsChannel(const std::string& address,
                                          const std::string& root_cert,
                                          int connection_id);

// Microsecond histogram with 1 µs buckets up to 1 s (values above land in
// the last bucket); plenty for loopback latencies.
class LatencyHistogram {
 public:
  LatencyHistogram() : buckets_(kBuckets, 0) {}
  void Add(int64_t micros);
  void Merge(const LatencyHistogram& other);
  uint64_t count() const { return count_; }
  // q in [0, 1]; -1 when empty.
  int64_t Quantile(double q) const;

 private:
  static constexpr int64_t kBuckets = 1'000'001;
  std::vector<uint32_t> buckets_;
  uint64_t count_ = 0;
};

// One Subscribe stream on the callback API. Counts the leaf updates (and
// deletes) it reads; optionally records now - notification.timestamp.
class SubscribeStream
    : public grpc::ClientBidiReactor<gnmi::SubscribeRequest,
                                     gnmi::SubscribeResponse> {
 public:
  SubscribeStream(gnmi::gNMI::Stub* stub, const gnmi::SubscribeRequest& request,
                  const std::string& user, const std::string& password,
                  bool record_latency);
  void Start();
  // Cancels the call and waits (bounded) for OnDone.
  void Cancel(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  void TryCancel();

  uint64_t updates() const { return updates_.load(std::memory_order_relaxed); }
  uint64_t notifications() const {
    return notifications_.load(std::memory_order_relaxed);
  }
  bool synced() const { return synced_.load(std::memory_order_acquire); }
  bool done() const { return done_.load(std::memory_order_acquire); }
  // Final status once done().
  grpc::Status status();
  // Stops latency recording and returns what was recorded so far.
  LatencyHistogram TakeLatency();
  void ResetLatency();

  void OnWriteDone(bool ok) override;
  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  grpc::ClientContext context_;
  gnmi::SubscribeRequest request_;
  gnmi::SubscribeResponse response_;
  std::atomic<uint64_t> updates_{0};
  std::atomic<uint64_t> notifications_{0};
  std::atomic<bool> synced_{false};
  std::atomic<bool> done_{false};
  std::atomic<bool> record_latency_;
  std::mutex mutex_;  // guards status_ and latency_
  grpc::Status status_;
  std::unique_ptr<LatencyHistogram> latency_;
};

// A STREAM SubscriptionList for `target` over `paths` (each "/a/b[k=v]/c"
// style), one Subscription per path with `mode` ("on_change", "sample",
// "target_defined").
gnmi::SubscribeRequest StreamRequest(const std::string& target,
                                     const std::vector<std::string>& paths,
                                     const std::string& mode,
                                     const std::string& encoding,
                                     int64_t sample_interval_ns = 0);
gnmi::Path ParsePath(const std::string& text);
gnmi::Encoding ParseEncoding(const std::string& name);

// Opens `streams` Subscribe streams (spread round-robin over `connections`
// TLS connections; 0 means one each), waits until all have their
// sync_response (bounded by `sync_timeout`), lets them run `warmup`, then
// counts leaf updates over `window`.
struct LoadOptions {
  std::string address;
  std::string root_cert;
  std::string user = "admin";
  std::string password = "admin";
  int streams = 1;
  int connections = 0;
  std::chrono::milliseconds warmup{2000};
  std::chrono::milliseconds window{5000};
  std::chrono::seconds sync_timeout{60};
  bool record_latency = false;
  pid_t server_pid = -1;  // for its CPU use over the window
  // Called after the warm-up, every stream still open (memory readings).
  std::function<void()> after_warmup;
};
struct LoadResult {
  double updates_per_second = 0;
  double notifications_per_second = 0;
  double server_cpu = 0;  // cores used by the server over the window
  double client_cpu = 0;  // cores used by this process over the window
  int synced = 0;         // streams that got sync_response in time
  int ended = 0;          // streams that ended before the window closed
  std::string first_error;
  double min_stream_share = 0;  // slowest stream / mean stream, over window
  LatencyHistogram latency;
};
// `request_for(i)` gives stream i's request.
LoadResult RunLoad(
    const LoadOptions& options,
    const std::function<gnmi::SubscribeRequest(int)>& request_for);

// "nproc 2, <CPU model>, load average ..., kernel ..."
std::string MachineInfo();
std::string LoadAverage();
// argv joined with spaces (the command to reproduce a run).
std::string CommandLine(int argc, char** argv);
std::string UtcNow();
// Appends `text` to `path` (docs/performance.md); logs where it went.
void AppendReport(const std::string& path, const std::string& text);

}  // namespace southgate::bench
