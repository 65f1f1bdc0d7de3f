#include "bench_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace fs = std::filesystem;

namespace southgate::bench {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string SimDaemonConfig(int devices, const std::string& sim_options,
                            const std::string& extra_yaml) {
  std::string config = R"(
server:
  listen: 127.0.0.1:{PORT}
state_dir: {DIR}/state
log:
  level: info
yang:
  dirs: [ {SOURCE}/yang, /usr/share/yuma/modules/ietf ]
{USERS}
)";
  // The benchmarks load one daemon from one client (up to 10,000 streams
  // from one address and user): the flood limits would refuse that.
  if (extra_yaml.find("limits:") == std::string::npos) {
    absl::StrAppend(&config,
                    "limits:\n"
                    "  peer: {rate: 0, max_streams: 20000}\n"
                    "  user: {rate: 0, max_streams: 20000}\n"
                    "  max_streams: 20000\n");
  }
  absl::StrAppend(&config, extra_yaml, "devices:\n");
  for (int d = 1; d <= devices; ++d) {
    absl::StrAppend(&config, "  - name: sim", d, "\n    driver: sim\n",
                    "    options: ", sim_options, "\n");
  }
  return config;
}

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

int64_t NowNs() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

// ---------------------------------------------------------------- processes

ChildProcess::ChildProcess(const std::vector<std::string>& argv,
                           const std::string& log_path) {
  std::vector<std::string> args = argv;
  pid_ = fork();
  if (pid_ == 0) {
    int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(log, STDOUT_FILENO);
    dup2(log, STDERR_FILENO);
    std::vector<char*> raw;
    for (auto& arg : args) raw.push_back(arg.data());
    raw.push_back(nullptr);
    execv(raw[0], raw.data());
    _exit(127);
  }
}

ChildProcess::~ChildProcess() {
  if (running()) Stop(std::chrono::milliseconds(2000));
}

bool ChildProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    pid_ = -1;
    return false;
  }
  return true;
}

int ChildProcess::Stop(std::chrono::milliseconds grace) {
  if (!running()) return exit_status_;
  kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (running()) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    exit_status_ = -1;
  }
  return exit_status_;
}

MemoryUsage ReadMemory(pid_t pid) {
  MemoryUsage usage;
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    auto value = [&line] { return std::atoll(line.c_str() + 6); };
    if (line.rfind("VmRSS:", 0) == 0) usage.rss_kib = value();
    if (line.rfind("VmHWM:", 0) == 0) usage.hwm_kib = value();
  }
  return usage;
}

double CpuSeconds(pid_t pid) {
  std::string stat = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  // Fields after the parenthesised command name; utime and stime are the
  // 14th and 15th fields of the whole line.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::vector<std::string> fields =
      absl::StrSplit(stat.substr(close + 2), ' ', absl::SkipEmpty());
  if (fields.size() < 13) return 0;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return (std::atof(fields[11].c_str()) + std::atof(fields[12].c_str())) /
         ticks;
}

namespace {

std::string ScratchDir(const char* kind) {
  std::string pattern = absl::StrCat("/tmp/southgate-bench-", kind, "-XXXXXX");
  return mkdtemp(pattern.data());
}

// The lab users of examples/lab.yaml: admin/admin and viewer/viewer.
constexpr char kUsers[] = R"(users:
  list:
    - name: admin
      role: read-write
      password_hash: "$argon2id$v=19$m=32768,t=2,p=1$OTgxNTAwMzY2ZTAwYjExNQ$hUyz/SFIG3zgK5iXZx1OylI+G00JLi/2Z+PRZZU6dtI"
    - name: viewer
      role: read-only
      password_hash: "$argon2id$v=19$m=32768,t=2,p=1$ODA1MzVkNjY4ZjA1ODYzOQ$JImjJ/x6cxsl6HAGm55m/rHlzvmflKCk7ntXdO5FAJs"
)";

bool CapabilitiesAnswer(const std::string& address, const std::string& cert) {
  auto stub = gnmi::gNMI::NewStub(TlsChannel(address, cert, 0));
  grpc::ClientContext context;
  context.AddMetadata("username", "admin");
  context.AddMetadata("password", "admin");
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(2));
  gnmi::CapabilityRequest request;
  gnmi::CapabilityResponse response;
  return stub->Capabilities(&context, request, &response).ok();
}

}  // namespace

DaemonBinary& daemon_binary() {
  static DaemonBinary binary;
  return binary;
}

Daemon::Daemon(const std::string& config_yaml,
               const std::vector<std::string>& environment) {
  dir_ = ScratchDir("daemon");
  port_ = FreeLoopbackPort();
  const std::string config =
      absl::StrReplaceAll(config_yaml, {{"{PORT}", std::to_string(port_)},
                                        {"{DIR}", dir_},
                                        {"{SOURCE}", SOUTHGATE_SOURCE_DIR},
                                        {"{USERS}", kUsers}});
  const std::string config_path = dir_ + "/southgate.yaml";
  std::ofstream(config_path) << config;
  // `env` lets a run preload another allocator into the daemon only.
  std::vector<std::string> argv = {"/usr/bin/env"};
  argv.insert(argv.end(), environment.begin(), environment.end());
  argv.insert(argv.end(), {daemon_binary().southgated, "--config", config_path,
                           "--plugin-dir", daemon_binary().plugin_dir});
  process_ = std::make_unique<ChildProcess>(argv, dir_ + "/daemon.log");
}

Daemon::~Daemon() {
  process_.reset();
  std::error_code ignored;
  if (!getenv("SOUTHGATE_KEEP_BENCH_DIRS")) fs::remove_all(dir_, ignored);
}

std::string Daemon::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}
std::string Daemon::root_cert() const {
  return ReadFile(dir_ + "/state/server.crt");
}
std::string Daemon::Log() const { return ReadFile(dir_ + "/daemon.log"); }

bool Daemon::WaitReady(std::chrono::seconds timeout, int devices) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_->running()) return false;
    if (fs::exists(dir_ + "/state/server.crt")) {
      std::string log = Log();
      int connected = 0;
      for (size_t at = log.find(": connected"); at != std::string::npos;
           at = log.find(": connected", at + 1)) {
        ++connected;
      }
      if (connected < devices) {
        connected = 0;
        for (size_t at = log.find("' connected"); at != std::string::npos;
             at = log.find("' connected", at + 1)) {
          ++connected;
        }
      }
      if (connected >= devices && CapabilitiesAnswer(address(), root_cert())) {
        return true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

CeilingServer::CeilingServer(int updates_per_notification,
                             const std::string& encoding, int64_t rate,
                             const std::string& wire, bool idle,
                             const std::string& binary) {
  dir_ = ScratchDir("ceiling");
  port_ = FreeLoopbackPort();
  std::vector<std::string> argv = {binary,
                                   "--listen",
                                   address(),
                                   "--state-dir",
                                   dir_ + "/state",
                                   "--updates",
                                   std::to_string(updates_per_notification),
                                   "--encoding",
                                   encoding,
                                   "--rate",
                                   std::to_string(rate),
                                   "--wire",
                                   wire};
  if (idle) argv.push_back("--idle");
  process_ = std::make_unique<ChildProcess>(argv, dir_ + "/ceiling.log");
}

CeilingServer::~CeilingServer() {
  process_.reset();
  std::error_code ignored;
  if (!getenv("SOUTHGATE_KEEP_BENCH_DIRS")) fs::remove_all(dir_, ignored);
}

std::string CeilingServer::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}
std::string CeilingServer::root_cert() const {
  return ReadFile(dir_ + "/state/server.crt");
}

bool CeilingServer::WaitReady(std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_->running()) return false;
    if (fs::exists(dir_ + "/state/server.crt") &&
        CapabilitiesAnswer(address(), root_cert())) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::shared_ptr<grpc::Channel> TlsChannel(const std::string& address,
                                          const std::string& root_cert,
                                          int connection_id) {
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = root_cert;
  grpc::ChannelArguments args;
  args.SetInt("southgate.bench.connection", connection_id);
  args.SetMaxReceiveMessageSize(64 << 20);
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(tls), args);
}

// ---------------------------------------------------------------- latency

void LatencyHistogram::Add(int64_t micros) {
  if (micros < 0) micros = 0;
  if (micros >= kBuckets) micros = kBuckets - 1;
  ++buckets_[micros];
  ++count_;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (int64_t i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
}

int64_t LatencyHistogram::Quantile(double q) const {
  if (count_ == 0) return -1;
  // The smallest value with at least q of the samples at or below it.
  uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(count_));
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (int64_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) return i;
  }
  return kBuckets - 1;
}

// ---------------------------------------------------------------- client

SubscribeStream::SubscribeStream(gnmi::gNMI::Stub* stub,
                                 const gnmi::SubscribeRequest& request,
                                 const std::string& user,
                                 const std::string& password,
                                 bool record_latency)
    : request_(request), record_latency_(record_latency) {
  if (!user.empty()) context_.AddMetadata("username", user);
  if (!password.empty()) context_.AddMetadata("password", password);
  if (record_latency) latency_ = std::make_unique<LatencyHistogram>();
  stub->async()->Subscribe(&context_, this);
}

void SubscribeStream::Start() {
  StartWrite(&request_);
  StartRead(&response_);
  StartCall();
}

void SubscribeStream::TryCancel() { context_.TryCancel(); }

void SubscribeStream::Cancel(std::chrono::milliseconds timeout) {
  context_.TryCancel();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

grpc::Status SubscribeStream::status() {
  std::lock_guard lock(mutex_);
  return status_;
}

LatencyHistogram SubscribeStream::TakeLatency() {
  record_latency_.store(false);
  std::lock_guard lock(mutex_);
  return latency_ ? *latency_ : LatencyHistogram();
}

void SubscribeStream::ResetLatency() {
  std::lock_guard lock(mutex_);
  if (latency_) latency_ = std::make_unique<LatencyHistogram>();
}

void SubscribeStream::OnWriteDone(bool /*ok*/) {
  // STREAM mode: the client never half-closes; the server ends the stream
  // only on cancel or error.
}

void SubscribeStream::OnReadDone(bool ok) {
  if (!ok) return;  // OnDone follows
  if (response_.has_update()) {
    const gnmi::Notification& notification = response_.update();
    if (record_latency_.load(std::memory_order_relaxed) &&
        notification.timestamp() > 0) {
      const int64_t micros = (NowNs() - notification.timestamp()) / 1000;
      std::lock_guard lock(mutex_);
      if (latency_) latency_->Add(micros);
    }
    updates_.fetch_add(notification.update_size() + notification.delete__size(),
                       std::memory_order_relaxed);
    notifications_.fetch_add(1, std::memory_order_relaxed);
  } else if (response_.sync_response()) {
    synced_.store(true, std::memory_order_release);
  }
  StartRead(&response_);
}

void SubscribeStream::OnDone(const grpc::Status& status) {
  {
    std::lock_guard lock(mutex_);
    status_ = status;
  }
  done_.store(true, std::memory_order_release);
}

gnmi::Encoding ParseEncoding(const std::string& name) {
  if (name == "json") return gnmi::JSON;
  if (name == "proto") return gnmi::PROTO;
  if (name == "ascii") return gnmi::ASCII;
  return gnmi::JSON_IETF;
}

gnmi::Path ParsePath(const std::string& text) {
  gnmi::Path path;
  // Split on '/' outside [...] key predicates.
  std::string elem;
  int depth = 0;
  auto flush = [&] {
    if (elem.empty()) return;
    gnmi::PathElem* out = path.add_elem();
    size_t bracket = elem.find('[');
    out->set_name(elem.substr(0, bracket));
    while (bracket != std::string::npos) {
      size_t eq = elem.find('=', bracket);
      size_t close = elem.find(']', eq);
      (*out->mutable_key())[elem.substr(bracket + 1, eq - bracket - 1)] =
          elem.substr(eq + 1, close - eq - 1);
      bracket = elem.find('[', close);
    }
    elem.clear();
  };
  for (char c : text) {
    if (c == '[') ++depth;
    if (c == ']') --depth;
    if (c == '/' && depth == 0) {
      flush();
    } else {
      elem.push_back(c);
    }
  }
  flush();
  return path;
}

gnmi::SubscribeRequest StreamRequest(const std::string& target,
                                     const std::vector<std::string>& paths,
                                     const std::string& mode,
                                     const std::string& encoding,
                                     int64_t sample_interval_ns) {
  gnmi::SubscribeRequest request;
  gnmi::SubscriptionList* list = request.mutable_subscribe();
  list->mutable_prefix()->set_target(target);
  list->set_mode(gnmi::SubscriptionList::STREAM);
  list->set_encoding(ParseEncoding(encoding));
  for (const std::string& text : paths) {
    gnmi::Subscription* subscription = list->add_subscription();
    *subscription->mutable_path() = ParsePath(text);
    if (mode == "sample") {
      subscription->set_mode(gnmi::SAMPLE);
      subscription->set_sample_interval(sample_interval_ns);
    } else if (mode == "target_defined") {
      subscription->set_mode(gnmi::TARGET_DEFINED);
    } else {
      subscription->set_mode(gnmi::ON_CHANGE);
    }
  }
  return request;
}

namespace {

double ProcessCpuSeconds() {
  timespec cpu{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
  return static_cast<double>(cpu.tv_sec) + cpu.tv_nsec / 1e9;
}

}  // namespace

LoadResult RunLoad(
    const LoadOptions& options,
    const std::function<gnmi::SubscribeRequest(int)>& request_for) {
  LoadResult result;
  const int connections = options.connections > 0
                              ? std::min(options.connections, options.streams)
                              : options.streams;
  std::vector<std::unique_ptr<gnmi::gNMI::Stub>> stubs;
  for (int c = 0; c < connections; ++c) {
    stubs.push_back(gnmi::gNMI::NewStub(
        TlsChannel(options.address, options.root_cert, c + 1)));
  }
  std::vector<std::unique_ptr<SubscribeStream>> streams;
  for (int i = 0; i < options.streams; ++i) {
    streams.push_back(std::make_unique<SubscribeStream>(
        stubs[i % connections].get(), request_for(i), options.user,
        options.password, options.record_latency));
    streams.back()->Start();
  }

  auto deadline = std::chrono::steady_clock::now() + options.sync_timeout;
  auto count_synced = [&] {
    int synced = 0;
    for (auto& stream : streams) synced += stream->synced() ? 1 : 0;
    return synced;
  };
  auto count_ended = [&] {
    int ended = 0;
    for (auto& stream : streams) ended += stream->done() ? 1 : 0;
    return ended;
  };
  while (std::chrono::steady_clock::now() < deadline &&
         count_synced() + count_ended() < options.streams) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  result.synced = count_synced();
  std::this_thread::sleep_for(options.warmup);
  if (options.after_warmup) options.after_warmup();
  for (auto& stream : streams) stream->ResetLatency();

  auto snapshot = [&](std::vector<uint64_t>& per_stream) {
    uint64_t updates = 0;
    per_stream.clear();
    for (auto& stream : streams) {
      per_stream.push_back(stream->updates());
      updates += per_stream.back();
    }
    return updates;
  };
  uint64_t notifications0 = 0;
  for (auto& stream : streams) notifications0 += stream->notifications();
  std::vector<uint64_t> before, after;
  const double server0 =
      options.server_pid > 0 ? CpuSeconds(options.server_pid) : 0;
  const double client0 = ProcessCpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  const uint64_t updates0 = snapshot(before);
  std::this_thread::sleep_for(options.window);
  const uint64_t updates1 = snapshot(after);
  const auto t1 = std::chrono::steady_clock::now();
  const double client1 = ProcessCpuSeconds();
  const double server1 =
      options.server_pid > 0 ? CpuSeconds(options.server_pid) : 0;
  uint64_t notifications1 = 0;
  for (auto& stream : streams) notifications1 += stream->notifications();

  const double seconds = std::chrono::duration<double>(t1 - t0).count();
  result.updates_per_second = (updates1 - updates0) / seconds;
  result.notifications_per_second = (notifications1 - notifications0) / seconds;
  result.server_cpu = (server1 - server0) / seconds;
  result.client_cpu = (client1 - client0) / seconds;
  if (updates1 > updates0) {
    uint64_t slowest = UINT64_MAX;
    for (size_t i = 0; i < streams.size(); ++i) {
      slowest = std::min<uint64_t>(slowest, after[i] - before[i]);
    }
    const double mean =
        static_cast<double>(updates1 - updates0) / streams.size();
    result.min_stream_share = slowest / mean;
  }
  if (options.record_latency) {
    for (auto& stream : streams) result.latency.Merge(stream->TakeLatency());
  }
  result.ended = count_ended();
  for (auto& stream : streams) {
    if (stream->done() && result.first_error.empty()) {
      grpc::Status status = stream->status();
      result.first_error =
          absl::StrCat(status.error_code(), ": ", status.error_message());
    }
  }
  for (auto& stream : streams) stream->TryCancel();
  const auto cancel_deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (count_ended() < options.streams &&
         std::chrono::steady_clock::now() < cancel_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // A stream gRPC has not finished yet must outlive its callbacks: leak it.
  for (auto& stream : streams) {
    if (!stream->done()) stream.release();
  }
  return result;
}

// ---------------------------------------------------------------- report

std::string LoadAverage() {
  std::string text = ReadFile("/proc/loadavg");
  std::vector<std::string> parts = absl::StrSplit(text, ' ');
  if (parts.size() < 3) return "?";
  return absl::StrCat(parts[0], " ", parts[1], " ", parts[2]);
}

std::string MachineInfo() {
  std::string model = "unknown CPU";
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  utsname uts{};
  uname(&uts);
  return absl::StrCat("nproc ", std::thread::hardware_concurrency(), ", ",
                      model, ", Linux ", uts.release);
}

std::string CommandLine(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  return absl::StrJoin(args, " ");
}

std::string UtcNow() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buffer;
}

void AppendReport(const std::string& path, const std::string& text) {
  if (path.empty()) return;
  std::ofstream out(path, std::ios::app);
  out << text;
  std::cerr << (out ? "appended to " : "could not append to ") << path << "\n";
}

}  // namespace southgate::bench
