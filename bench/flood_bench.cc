// Flood resistance (issue 6, section 6), the field report's scenario on
// loopback against the real southgated over TLS:
//
//  attack:  an attacker with --attackers (255) connections, each from its
//           own loopback address (127.0.1.x, bound by a socket mutator, so
//           the daemon sees 255 clients), sends Get and Subscribe (ONCE) as
//           fast as it can, --depth calls outstanding per connection, with
//           its own valid credentials (viewer) and, every --wrong-every-th
//           call, a wrong password; meanwhile a legitimate client (admin,
//           from 127.0.0.1) does one Get per second and holds one SAMPLE
//           Subscribe. The same legitimate client first runs alone for
//           --baseline seconds: its latency then is the same-run baseline.
//  pollers: --pollers (1000) legitimate clients, each its own connection
//           from its own address, one Get every --poll-interval seconds.
//
// Reports the legitimate client's success rate and latency (baseline and
// under attack), the attacker's calls by outcome, the daemon's peak RSS
// (VmHWM) and CPU, and whether it stayed up (restarts = exits). Appends to
// docs/performance.md. Benchmarks are not tests: nothing asserts a time.
#include <arpa/inet.h>
#include <grpc/support/sync.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench_support.h"

// gRPC's socket mutator (src/core/lib/iomgr/socket_mutator.h, not installed
// by Debian's libgrpc-dev), declared as gRPC 1.51 defines it: the only way
// to choose a client connection's source address with gRPC C++.
typedef enum {
  GRPC_FD_CLIENT_CONNECTION_USAGE,
  GRPC_FD_SERVER_LISTENER_USAGE,
  GRPC_FD_SERVER_CONNECTION_USAGE,
} grpc_fd_usage;
typedef struct {
  int fd;
  grpc_fd_usage usage;
} grpc_mutate_socket_info;
struct grpc_socket_mutator_vtable {
  bool (*mutate_fd)(int fd, grpc_socket_mutator* mutator);
  int (*compare)(grpc_socket_mutator* a, grpc_socket_mutator* b);
  void (*destroy)(grpc_socket_mutator* mutator);
  bool (*mutate_fd_2)(const grpc_mutate_socket_info* info,
                      grpc_socket_mutator* mutator);
};
struct grpc_socket_mutator {
  const grpc_socket_mutator_vtable* vtable;
  gpr_refcount refcount;
};
void grpc_socket_mutator_init(grpc_socket_mutator* mutator,
                              const grpc_socket_mutator_vtable* vtable);

namespace southgate::bench {
namespace {

using Clock = std::chrono::steady_clock;

// The user name the attacker's wrong passwords are sent for (--wrong-user),
// set before any call starts.
std::string wrong_user = "viewer";

// Binds each client connection to one loopback source address.
struct SourceAddress {
  grpc_socket_mutator base;  // first: gRPC sees a grpc_socket_mutator*
  in_addr address;

  // gRPC connects to IPv4 targets from a dual-stack IPv6 socket when it
  // can: bind the v4-mapped form then.
  static bool Bind(int fd, const SourceAddress* self) {
    int domain = AF_INET;
    socklen_t length = sizeof(domain);
    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length);
    if (domain == AF_INET6) {
      sockaddr_in6 local{};
      local.sin6_family = AF_INET6;
      local.sin6_addr.s6_addr[10] = 0xff;
      local.sin6_addr.s6_addr[11] = 0xff;
      std::memcpy(&local.sin6_addr.s6_addr[12], &self->address, 4);
      return bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) == 0;
    }
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr = self->address;
    return bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) == 0;
  }
  static bool MutateFd(int fd, grpc_socket_mutator* m) {
    return Bind(fd, reinterpret_cast<SourceAddress*>(m));
  }
  static bool MutateFd2(const grpc_mutate_socket_info* info,
                        grpc_socket_mutator* m) {
    if (info->usage != GRPC_FD_CLIENT_CONNECTION_USAGE) return true;
    return Bind(info->fd, reinterpret_cast<SourceAddress*>(m));
  }
  static int Compare(grpc_socket_mutator* a, grpc_socket_mutator* b) {
    auto x = reinterpret_cast<SourceAddress*>(a)->address.s_addr;
    auto y = reinterpret_cast<SourceAddress*>(b)->address.s_addr;
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  static void Destroy(grpc_socket_mutator* m) {
    delete reinterpret_cast<SourceAddress*>(m);
  }
  static constexpr grpc_socket_mutator_vtable kVtable = {MutateFd, Compare,
                                                         Destroy, MutateFd2};

  static grpc_socket_mutator* New(const std::string& ip) {
    auto* self = new SourceAddress();
    grpc_socket_mutator_init(&self->base, &kVtable);
    inet_pton(AF_INET, ip.c_str(), &self->address);
    return &self->base;
  }
};

// A TLS channel of its own from `source_ip` (empty: the default).
std::shared_ptr<grpc::Channel> ChannelFrom(const std::string& address,
                                           const std::string& root_cert,
                                           const std::string& source_ip,
                                           int connection_id) {
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = root_cert;
  grpc::ChannelArguments args;
  args.SetInt("southgate.bench.connection", connection_id);
  args.SetMaxReceiveMessageSize(64 << 20);
  if (!source_ip.empty()) args.SetSocketMutator(SourceAddress::New(source_ip));
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(tls), args);
}

// 127.0.<first + i / 250>.<1 + i % 250>
std::string LoopbackAddress(int first_octet3, int i) {
  return absl::StrCat("127.0.", first_octet3 + i / 250, ".", 1 + i % 250);
}

gnmi::GetRequest SmallGet() {
  gnmi::GetRequest request;
  request.mutable_prefix()->set_target("sim1");
  *request.add_path() =
      ParsePath("/interfaces/interface[name=eth0]/description");
  request.set_encoding(gnmi::JSON_IETF);
  return request;
}

// Outcomes by gRPC code.
struct Outcomes {
  std::atomic<uint64_t> by_code[17] = {};
  std::mutex mutex;
  std::map<grpc::StatusCode, std::string> first_message;
  void Add(const grpc::Status& status) {
    const int code = static_cast<int>(status.error_code());
    if (code < 0 || code > 16) return;
    if (by_code[code].fetch_add(1, std::memory_order_relaxed) == 0 &&
        code != 0) {
      std::lock_guard lock(mutex);
      first_message[status.error_code()] = status.error_message();
    }
  }
  uint64_t total() const {
    uint64_t sum = 0;
    for (const auto& c : by_code) sum += c.load();
    return sum;
  }
  uint64_t of(grpc::StatusCode code) const {
    return by_code[static_cast<int>(code)].load();
  }
  std::string Describe() {
    std::string out;
    static const char* kNames[] = {"OK",
                                   "CANCELLED",
                                   "UNKNOWN",
                                   "INVALID_ARGUMENT",
                                   "DEADLINE",
                                   "NOT_FOUND",
                                   "ALREADY_EXISTS",
                                   "PERMISSION_DENIED",
                                   "EXHAUSTED",
                                   "FAILED_PRECONDITION",
                                   "ABORTED",
                                   "OUT_OF_RANGE",
                                   "UNIMPLEMENTED",
                                   "INTERNAL",
                                   "UNAVAILABLE",
                                   "DATA_LOSS",
                                   "UNAUTHENTICATED"};
    for (int i = 0; i < 17; ++i) {
      if (by_code[i] > 0) {
        absl::StrAppend(&out, out.empty() ? "" : ", ", kNames[i], " ",
                        by_code[i].load());
        auto it = first_message.find(static_cast<grpc::StatusCode>(i));
        if (it != first_message.end()) {
          absl::StrAppend(&out, " (\"", it->second.substr(0, 90), "\")");
        }
      }
    }
    return out;
  }
};

// One attacker connection: `depth` calls always outstanding, each replaced
// as soon as it ends, until stopped.
class Attacker {
 public:
  Attacker(std::shared_ptr<grpc::Channel> channel, int wrong_every,
           Outcomes& gets, Outcomes& subscribes, std::atomic<bool>& stop)
      : stub_(gnmi::gNMI::NewStub(std::move(channel))),
        wrong_every_(wrong_every),
        gets_(gets),
        subscribes_(subscribes),
        stop_(stop) {}

  void Start(int depth) {
    for (int i = 0; i < depth; ++i) Next();
  }
  // Calls still running (each holds one).
  int outstanding() const { return outstanding_.load(); }

 private:
  struct GetCall {
    grpc::ClientContext context;
    gnmi::GetRequest request;
    gnmi::GetResponse response;
  };
  class OnceSubscribe
      : public grpc::ClientBidiReactor<gnmi::SubscribeRequest,
                                       gnmi::SubscribeResponse> {
   public:
    OnceSubscribe(Attacker* owner, bool wrong) : owner_(owner) {
      context_.AddMetadata("username", wrong ? wrong_user : "viewer");
      context_.AddMetadata("password", wrong ? "guess" : "viewer");
      context_.set_deadline(std::chrono::system_clock::now() +
                            std::chrono::seconds(10));
      gnmi::SubscriptionList* list = request_.mutable_subscribe();
      list->mutable_prefix()->set_target("sim1");
      list->set_mode(gnmi::SubscriptionList::ONCE);
      list->set_encoding(gnmi::JSON_IETF);
      *list->add_subscription()->mutable_path() =
          ParsePath("/interfaces/interface[name=eth0]/description");
      owner_->stub_->async()->Subscribe(&context_, this);
      StartWrite(&request_);
      StartRead(&response_);
      StartCall();
    }
    void OnWriteDone(bool ok) override {
      if (ok) StartWritesDone();
    }
    void OnReadDone(bool ok) override {
      if (ok) StartRead(&response_);
    }
    void OnDone(const grpc::Status& status) override {
      owner_->subscribes_.Add(status);
      Attacker* owner = owner_;
      delete this;
      owner->Finished();
    }

   private:
    Attacker* owner_;
    grpc::ClientContext context_;
    gnmi::SubscribeRequest request_;
    gnmi::SubscribeResponse response_;
  };

  void Next() {
    if (stop_.load(std::memory_order_relaxed)) return;
    outstanding_.fetch_add(1);
    const uint64_t n = calls_.fetch_add(1);
    const bool wrong = wrong_every_ > 0 && n % wrong_every_ == 0;
    if (n % 4 == 3) {
      new OnceSubscribe(this, wrong);
      return;
    }
    auto* call = new GetCall();
    call->context.AddMetadata("username", wrong ? wrong_user : "viewer");
    call->context.AddMetadata("password", wrong ? "guess" : "viewer");
    call->context.set_deadline(std::chrono::system_clock::now() +
                               std::chrono::seconds(10));
    call->request = SmallGet();
    stub_->async()->Get(&call->context, &call->request, &call->response,
                        [this, call](grpc::Status status) {
                          gets_.Add(status);
                          delete call;
                          Finished();
                        });
  }
  void Finished() {
    outstanding_.fetch_sub(1);
    Next();
  }

  std::unique_ptr<gnmi::gNMI::Stub> stub_;
  const int wrong_every_;
  Outcomes& gets_;
  Outcomes& subscribes_;
  std::atomic<bool>& stop_;
  std::atomic<uint64_t> calls_{0};
  std::atomic<int> outstanding_{0};
};

// Samples the daemon: peak RSS is VmHWM; RSS at the end of each phase.
struct DaemonWatch {
  pid_t pid;
  double cpu_start = 0;
  Clock::time_point start;
  void Begin() {
    cpu_start = CpuSeconds(pid);
    start = Clock::now();
  }
  double Cores() const {
    const double wall =
        std::chrono::duration<double>(Clock::now() - start).count();
    return wall > 0 ? (CpuSeconds(pid) - cpu_start) / wall : 0;
  }
};

// The legitimate client's Gets: one per `period`, each timed; failures kept.
struct GetLoop {
  LatencyHistogram latency;
  uint64_t ok = 0, failed = 0;
  std::map<std::string, int> errors;
  // (seconds since the loop started, µs) of every call.
  std::vector<std::pair<double, int64_t>> samples;
  int64_t Max() const {
    int64_t max = -1;
    for (const auto& [at, micros] : samples) max = std::max(max, micros);
    return max;
  }
  // "812.3 ms at 0.0 s, ..." for the `n` slowest calls.
  std::string Slowest(size_t n) const {
    auto sorted = samples;
    std::sort(sorted.begin(), sorted.end(),
              [](const auto& a, const auto& b) { return a.second > b.second; });
    std::string out;
    for (size_t i = 0; i < std::min(n, sorted.size()); ++i) {
      absl::StrAppend(
          &out, i ? ", " : "",
          absl::StrFormat("%.1f ms at %.0f s", sorted[i].second / 1000.0,
                          sorted[i].first));
    }
    return out;
  }
  void Run(gnmi::gNMI::Stub* stub, std::chrono::milliseconds period,
           Clock::time_point until) {
    const gnmi::GetRequest request = SmallGet();
    auto next = Clock::now();
    const auto first = next;
    while (Clock::now() < until) {
      grpc::ClientContext context;
      context.AddMetadata("username", "admin");
      context.AddMetadata("password", "admin");
      context.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(5));
      gnmi::GetResponse response;
      const auto begin = Clock::now();
      grpc::Status status = stub->Get(&context, request, &response);
      const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                              Clock::now() - begin)
                              .count();
      samples.emplace_back(std::chrono::duration<double>(begin - first).count(),
                           micros);
      if (status.ok() && response.notification_size() == 1) {
        ++ok;
        latency.Add(micros);
      } else {
        ++failed;
        ++errors[absl::StrCat(status.error_code(), " ",
                              status.error_message().substr(0, 80))];
      }
      next += period;
      std::this_thread::sleep_until(next);
    }
  }
  std::string Summary() const {
    const uint64_t total = ok + failed;
    std::string text = absl::StrFormat(
        "%d/%d ok (%.3f%%), p50 %.1f ms, p99 %.1f ms, max %.1f ms", ok, total,
        total ? 100.0 * ok / total : 0.0, latency.Quantile(0.5) / 1000.0,
        latency.Quantile(0.99) / 1000.0, latency.Quantile(1.0) / 1000.0);
    for (const auto& [error, count] : errors) {
      absl::StrAppend(&text, "; ", count, "× ", error);
    }
    return text;
  }
};

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

std::string SelfPath() {
  char buffer[4096];
  const ssize_t n = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  return std::string(buffer, n > 0 ? static_cast<size_t>(n) : 0);
}

std::string daemon_scratch_dir() {
  std::string pattern = "/tmp/southgate-bench-flood-XXXXXX";
  return mkdtemp(pattern.data());
}

// "<kind> <code> <count>\t<first message>" per line.
void WriteOutcomes(std::ostream& out, const char* kind, Outcomes& outcomes) {
  for (int code = 0; code < 17; ++code) {
    const uint64_t count = outcomes.by_code[code].load();
    if (count == 0) continue;
    std::string message;
    auto it = outcomes.first_message.find(static_cast<grpc::StatusCode>(code));
    if (it != outcomes.first_message.end()) message = it->second;
    for (char& c : message) {
      if (c == '\n' || c == '\t') c = ' ';
    }
    out << kind << " " << code << " " << count << "\t" << message << "\n";
  }
}

void ReadOutcomes(const std::string& path, Outcomes& gets,
                  Outcomes& subscribes) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line.substr(0, line.find('\t')));
    std::string kind;
    int code = 0;
    uint64_t count = 0;
    if (!(fields >> kind >> code >> count) || code < 0 || code > 16) continue;
    Outcomes& target = kind == "get" ? gets : subscribes;
    target.by_code[code] = count;
    const size_t tab = line.find('\t');
    if (code != 0 && tab != std::string::npos) {
      target.first_message[static_cast<grpc::StatusCode>(code)] =
          line.substr(tab + 1);
    }
  }
}

// The attacker process: floods until `duration_s`, then lets its calls end
// (bounded) and writes its counts.
int RunAttacker(const std::string& target, const std::string& cert_file,
                const std::string& result_file, int attackers, int depth,
                int wrong_every, bool same_address, double duration_s) {
  std::ifstream cert_in(cert_file);
  const std::string cert((std::istreambuf_iterator<char>(cert_in)),
                         std::istreambuf_iterator<char>());
  std::atomic<bool> stop{false};
  Outcomes gets, subscribes;
  std::vector<std::unique_ptr<Attacker>> attack;
  for (int i = 0; i < attackers; ++i) {
    const std::string source =
        same_address ? "127.0.1.1" : LoopbackAddress(1, i);
    attack.push_back(
        std::make_unique<Attacker>(ChannelFrom(target, cert, source, 100 + i),
                                   wrong_every, gets, subscribes, stop));
  }
  for (auto& attacker : attack) attacker->Start(depth);
  std::this_thread::sleep_for(
      std::chrono::milliseconds(static_cast<int64_t>(duration_s * 1000)));
  stop = true;
  for (int i = 0; i < 200; ++i) {
    int left = 0;
    for (auto& attacker : attack) left += attacker->outstanding();
    if (left == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::ofstream out(result_file);
  WriteOutcomes(out, "get", gets);
  WriteOutcomes(out, "subscribe", subscribes);
  out.flush();
  std::_Exit(0);  // calls may still be outstanding: no orderly teardown
}

std::string Mib(int64_t kib) {
  return absl::StrFormat("%.1f MiB", kib / 1024.0);
}

int Main(int argc, char** argv) {
  std::string scenario = "attack";
  std::string role, target, cert_file, result_file;
  int attackers = 255;
  int depth = 4;
  int wrong_every = 10;
  int attacker_nice = 10;
  bool same_address = false;
  double duration_s = 60, baseline_s = 10;
  int pollers = 1000;
  double poll_interval_s = 10;
  std::string limits_yaml;
  std::string keep_log;
  std::string doc = std::string(SOUTHGATE_SOURCE_DIR) + "/docs/performance.md";

  CLI::App app{"Flood resistance: attacker vs legitimate client"};
  app.add_option("--scenario", scenario, "attack | pollers");
  app.add_option("--attackers", attackers, "attacker connections");
  app.add_option("--depth", depth, "calls outstanding per attacker connection");
  app.add_option("--wrong-every", wrong_every,
                 "every n-th attacker call has a wrong password (0: never)");
  app.add_option("--wrong-user", wrong_user,
                 "user name the wrong passwords are sent for (viewer: the "
                 "attacker's own; admin: the legitimate client's)");
  app.add_option("--attacker-nice", attacker_nice,
                 "nice value of the attacker process: on a real network it "
                 "runs on other machines, here it shares the daemon's two "
                 "cores (0 = compete as an equal)");
  app.add_flag("--same-address", same_address,
               "all attacker connections from 127.0.1.1 (default: one "
               "address each)");
  app.add_option("--duration", duration_s, "seconds of attack / polling");
  app.add_option("--baseline", baseline_s,
                 "seconds the legitimate client runs alone first");
  app.add_option("--pollers", pollers, "legitimate polling clients");
  app.add_option("--poll-interval", poll_interval_s,
                 "seconds between one poller's Gets");
  app.add_option("--limits", limits_yaml,
                 "YAML lines for the daemon's limits: section (default: "
                 "the daemon's defaults)");
  app.add_option("--keep-log", keep_log, "write the daemon's log here");
  app.add_option("--doc", doc, "append the report here ('' to skip)");
  app.add_option("--southgated", daemon_binary().southgated,
                 "southgated binary to measure");
  app.add_option("--plugin-dir", daemon_binary().plugin_dir,
                 "its driver plugin folder (sim.so)");
  app.add_option("--role", role, "internal: 'attacker' runs the attack");
  app.add_option("--target", target, "internal: the daemon's address");
  app.add_option("--cert-file", cert_file, "internal: its CA certificate");
  app.add_option("--result-file", result_file, "internal: counts go here");
  CLI11_PARSE(app, argc, argv);
  if (role == "attacker") {
    // Before any thread exists, so that all of them inherit it.
    setpriority(PRIO_PROCESS, 0, attacker_nice);
    return RunAttacker(target, cert_file, result_file, attackers, depth,
                       wrong_every, same_address, duration_s);
  }

  // Hundreds of connections on both sides: the daemon inherits the limit.
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  setrlimit(RLIMIT_NOFILE, &files);

  // The daemon's own limits are what is measured: its defaults unless
  // --limits says otherwise (SimDaemonConfig lifts them when not given any).
  std::string config = SimDaemonConfig(
      1,
      R"({"seed": "{SOURCE}/examples/sim/ietf-default.json", )"
      R"("update_interval_ms": 1000})",
      limits_yaml.empty() ? std::string("limits: {}\n")
                          : absl::StrCat("limits:\n", limits_yaml));
  Daemon daemon(config);
  if (!daemon.WaitReady(std::chrono::seconds(60), 1)) {
    std::cerr << "southgated did not start:\n" << daemon.Log() << "\n";
    return 1;
  }
  const pid_t pid = daemon.pid();
  const std::string load_before = LoadAverage();
  const int64_t rss_start = ReadMemory(pid).rss_kib;
  std::string report;

  if (scenario == "attack") {
    auto legit_channel =
        ChannelFrom(daemon.address(), daemon.root_cert(), "", 1);
    auto legit = gnmi::gNMI::NewStub(legit_channel);
    SubscribeStream subscription(
        legit.get(),
        StreamRequest("sim1", {"/interfaces-state/interface/statistics"},
                      "sample", "json_ietf", 1'000'000'000),
        "admin", "admin", false);
    subscription.Start();

    // Baseline: the legitimate client alone.
    GetLoop baseline;
    baseline.Run(legit.get(), std::chrono::milliseconds(1000),
                 Clock::now() + std::chrono::milliseconds(
                                    static_cast<int64_t>(baseline_s * 1000)));
    std::cerr << "baseline: " << baseline.Summary() << "\n";
    const int64_t rss_baseline = ReadMemory(pid).rss_kib;

    // The attack, from a process of its own (as if from another machine:
    // the legitimate client shares no gRPC threads with it).
    const std::string scratch = daemon_scratch_dir();
    const std::string cert_file = scratch + "/attacker-ca.pem";
    const std::string result_file = scratch + "/attacker-result.txt";
    WriteFile(cert_file, daemon.root_cert());
    std::vector<std::string> attacker_argv = {
        SelfPath(),
        "--role=attacker",
        "--target=" + daemon.address(),
        "--cert-file=" + cert_file,
        "--result-file=" + result_file,
        "--attackers=" + std::to_string(attackers),
        "--depth=" + std::to_string(depth),
        "--wrong-every=" + std::to_string(wrong_every),
        "--attacker-nice=" + std::to_string(attacker_nice),
        "--wrong-user=" + wrong_user,
        "--duration=" + std::to_string(duration_s)};
    if (same_address) attacker_argv.push_back("--same-address");
    DaemonWatch watch{pid};
    watch.Begin();
    const uint64_t notifications_before = subscription.notifications();
    ChildProcess attacker(attacker_argv, scratch + "/attacker.log");
    // Memory over time: the largest RSS in each half of the attack.
    std::atomic<bool> sampling{true};
    int64_t rss_first_half = 0, rss_second_half = 0;
    const auto attack_start = Clock::now();
    const auto attack_end =
        attack_start +
        std::chrono::milliseconds(static_cast<int64_t>(duration_s * 1000));
    std::thread sampler([&] {
      while (sampling) {
        const int64_t rss = ReadMemory(pid).rss_kib;
        int64_t& half =
            Clock::now() < attack_start + (attack_end - attack_start) / 2
                ? rss_first_half
                : rss_second_half;
        half = std::max(half, rss);
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    });
    GetLoop under_attack;
    under_attack.Run(legit.get(), std::chrono::milliseconds(1000), attack_end);
    const double cores = watch.Cores();
    const uint64_t notifications =
        subscription.notifications() - notifications_before;
    // The attacker drains its calls and writes its counts (bounded).
    for (int i = 0; i < 600 && attacker.running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    Outcomes gets, subscribes;
    ReadOutcomes(result_file, gets, subscribes);
    std::error_code ignored;
    std::filesystem::remove_all(scratch, ignored);
    sampling = false;
    sampler.join();
    const bool subscription_alive = !subscription.done();
    const MemoryUsage memory = ReadMemory(pid);
    const bool alive = daemon.running();
    subscription.Cancel();

    const uint64_t attack_total = gets.total() + subscribes.total();
    const uint64_t attack_ok =
        gets.of(grpc::StatusCode::OK) + subscribes.of(grpc::StatusCode::OK);
    const double attack_seconds =
        std::chrono::duration<double>(attack_end - attack_start).count();
    const uint64_t legit_total = under_attack.ok + under_attack.failed;
    const auto p99 = [](const GetLoop& loop) {
      return loop.latency.Quantile(0.99) / 1000.0;
    };
    report = absl::StrCat(
        "| measure | value |\n| --- | --- |\n",
        absl::StrFormat(
            "| legitimate Get success under attack | %d/%d "
            "(%.3f%%) |\n",
            under_attack.ok, legit_total,
            legit_total ? 100.0 * under_attack.ok / legit_total : 0.0),
        absl::StrFormat(
            "| legitimate Get p50 / p99 / max, under attack | %.1f / %.1f / "
            "%.1f ms (slowest: %s) |\n",
            under_attack.latency.Quantile(0.5) / 1000.0, p99(under_attack),
            under_attack.Max() / 1000.0, under_attack.Slowest(3)),
        absl::StrFormat(
            "| legitimate Get p50 / p99, baseline (alone, same run) | %.1f / "
            "%.1f ms (%d/%d ok) |\n",
            baseline.latency.Quantile(0.5) / 1000.0, p99(baseline), baseline.ok,
            baseline.ok + baseline.failed),
        absl::StrFormat(
            "| p99 ratio, attack / baseline | %.1f× |\n",
            p99(baseline) > 0 ? p99(under_attack) / p99(baseline) : 0.0),
        absl::StrFormat(
            "| legitimate SAMPLE Subscribe (1 s) | %s, %d notifications "
            "during the attack |\n",
            subscription_alive ? "open throughout" : "ENDED", notifications),
        absl::StrFormat(
            "| attacker calls | %d in %.0f s (%.0f/s) from %d connections, "
            "%s, %d outstanding each, every %d-th with a wrong password "
            "for '%s', process at nice %d |\n",
            attack_total, attack_seconds, attack_total / attack_seconds,
            attackers,
            same_address ? "one address" : "one loopback address each", depth,
            wrong_every, wrong_user, attacker_nice),
        absl::StrFormat("| attacker share rejected | %.2f%% (served %d) |\n",
                        attack_total
                            ? 100.0 * (attack_total - attack_ok) / attack_total
                            : 0.0,
                        attack_ok),
        "| attacker Get outcomes | ", gets.Describe(), " |\n",
        "| attacker Subscribe outcomes | ", subscribes.Describe(), " |\n",
        absl::StrFormat("| daemon CPU during the attack | %.2f cores |\n",
                        cores),
        "| daemon RSS: start / after baseline / peak 1st half / peak 2nd "
        "half / end | ",
        Mib(rss_start), " / ", Mib(rss_baseline), " / ", Mib(rss_first_half),
        " / ", Mib(rss_second_half), " / ", Mib(memory.rss_kib), " |\n",
        "| daemon peak RSS (VmHWM) | ", Mib(memory.hwm_kib), " |\n",
        "| daemon restarts | ",
        alive ? "0 (same process throughout)" : "daemon EXITED", " |\n");
    if (!under_attack.errors.empty()) {
      absl::StrAppend(&report,
                      "\nLegitimate failures: ", under_attack.Summary(), "\n");
    }
  } else if (scenario == "pollers") {
    std::vector<std::unique_ptr<gnmi::gNMI::Stub>> stubs;
    for (int i = 0; i < pollers; ++i) {
      stubs.push_back(gnmi::gNMI::NewStub(ChannelFrom(
          daemon.address(), daemon.root_cert(), LoopbackAddress(2, i), i)));
    }
    std::mutex mutex;
    LatencyHistogram latency, first_latency, later_latency;
    std::vector<bool> connected(pollers, false);
    Outcomes outcomes;
    std::atomic<int> outstanding{0};
    struct Call {
      grpc::ClientContext context;
      gnmi::GetRequest request;
      gnmi::GetResponse response;
      Clock::time_point begin;
      bool first = false;  // the poller's first call: it also connects
    };
    // Each poller starts at a random phase, then every interval.
    std::mt19937 random(42);
    const auto interval =
        std::chrono::microseconds(static_cast<int64_t>(poll_interval_s * 1e6));
    std::vector<Clock::time_point> next(pollers);
    const auto begin = Clock::now();
    for (int i = 0; i < pollers; ++i) {
      next[i] = begin + std::chrono::microseconds(
                            random() % static_cast<uint64_t>(interval.count()));
    }
    DaemonWatch watch{pid};
    watch.Begin();
    const auto end = begin + std::chrono::milliseconds(
                                 static_cast<int64_t>(duration_s * 1000));
    while (Clock::now() < end) {
      auto soonest = end;
      for (int i = 0; i < pollers; ++i) {
        if (next[i] <= Clock::now()) {
          auto* call = new Call();
          call->context.AddMetadata("username", "viewer");
          call->context.AddMetadata("password", "viewer");
          call->context.set_deadline(std::chrono::system_clock::now() +
                                     std::chrono::seconds(10));
          call->request = SmallGet();
          call->begin = Clock::now();
          call->first = !connected[i];
          connected[i] = true;
          ++outstanding;
          stubs[i]->async()->Get(
              &call->context, &call->request, &call->response,
              [&, call](grpc::Status status) {
                outcomes.Add(status);
                if (status.ok()) {
                  std::lock_guard lock(mutex);
                  const int64_t micros =
                      std::chrono::duration_cast<std::chrono::microseconds>(
                          Clock::now() - call->begin)
                          .count();
                  latency.Add(micros);
                  (call->first ? first_latency : later_latency).Add(micros);
                }
                delete call;
                --outstanding;
              });
          next[i] += interval;
        }
        soonest = std::min(soonest, next[i]);
      }
      std::this_thread::sleep_until(soonest);
    }
    const double cores = watch.Cores();
    for (int i = 0; i < 200 && outstanding > 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const MemoryUsage memory = ReadMemory(pid);
    const bool alive = daemon.running();
    const uint64_t total = outcomes.total();
    const uint64_t ok = outcomes.of(grpc::StatusCode::OK);
    std::lock_guard lock(mutex);
    report = absl::StrCat(
        "| measure | value |\n| --- | --- |\n",
        absl::StrFormat("| pollers | %d, each its own connection and "
                        "loopback address, one Get per %.0f s |\n",
                        pollers, poll_interval_s),
        absl::StrFormat("| Gets served | %d/%d (%.3f%%) |\n", ok, total,
                        total ? 100.0 * ok / total : 0.0),
        "| outcomes | ", outcomes.Describe(), " |\n",
        absl::StrFormat("| Get p50 / p99, all | %.1f / %.1f ms |\n",
                        latency.Quantile(0.5) / 1000.0,
                        latency.Quantile(0.99) / 1000.0),
        absl::StrFormat(
            "| Get p50 / p99, each poller's first (TLS handshake, first "
            "authentication) | %.1f / %.1f ms |\n",
            first_latency.Quantile(0.5) / 1000.0,
            first_latency.Quantile(0.99) / 1000.0),
        absl::StrFormat(
            "| Get p50 / p99, later ones (connection open) | %.1f / %.1f ms "
            "|\n",
            later_latency.Quantile(0.5) / 1000.0,
            later_latency.Quantile(0.99) / 1000.0),
        absl::StrFormat("| daemon CPU | %.2f cores |\n", cores),
        "| daemon RSS start / end / peak (VmHWM) | ", Mib(rss_start), " / ",
        Mib(memory.rss_kib), " / ", Mib(memory.hwm_kib), " |\n",
        "| daemon restarts | ", alive ? "0" : "daemon EXITED", " |\n");
  } else {
    std::cerr << "unknown --scenario " << scenario << "\n";
    return 2;
  }
  // Refusals as the daemon logged them (rate-limited lines).
  const std::string log = daemon.Log();
  if (!keep_log.empty()) WriteFile(keep_log, log);
  size_t refused_lines = 0;
  for (size_t at = log.find("refused "); at != std::string::npos;
       at = log.find("refused ", at + 1)) {
    ++refused_lines;
  }
  absl::StrAppend(&report, "\nDaemon log: ", log.size() / 1024, " KiB, ",
                  refused_lines, " \"refused\" lines.\n");
  std::cout << report;
  AppendReport(
      doc, absl::StrCat("\n### Flood resistance (", scenario, "), ", UtcNow(),
                        "\n\n", "Command: `", CommandLine(argc, argv), "`  \n",
                        "Machine: ", MachineInfo(), "  \n",
                        "Load average before / after: ", load_before, " / ",
                        LoadAverage(), "\n\n", report));
  return daemon.Stop() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace southgate::bench

int main(int argc, char** argv) { return southgate::bench::Main(argc, argv); }
