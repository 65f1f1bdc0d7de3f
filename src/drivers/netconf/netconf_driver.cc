#include "drivers/netconf/netconf_driver.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "schema/data_tree.h"
#include "schema/netconf_xml.h"
#include "spdlog/spdlog.h"

namespace southgate::drivers::netconf {
namespace {

namespace fs = std::filesystem;
using southgate::netconf::Datastore;
using southgate::netconf::Session;

constexpr char kCandidate[] =
    "urn:ietf:params:netconf:capability:candidate:1.0";
constexpr char kConfirmedCommit[] =
    "urn:ietf:params:netconf:capability:confirmed-commit:1";
constexpr char kRollbackOnError[] =
    "urn:ietf:params:netconf:capability:rollback-on-error:1.0";
constexpr char kWritableRunning[] =
    "urn:ietf:params:netconf:capability:writable-running:1.0";
// The keepalive: get-config of a state-only container returns an empty
// <data/> at almost no cost on the device.
constexpr char kKeepaliveFilter[] =
    "<netconf-state "
    "xmlns=\"urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring\"/>";

// Modules libyang carries itself (in other revisions): loading the device's
// copy next to them would clash; what imports them still finds them.
const std::set<std::string>& LibyangModules() {
  static const auto* modules = new std::set<std::string>{
      "ietf-yang-metadata",     "yang",
      "ietf-inet-types",        "ietf-yang-types",
      "ietf-datastores",        "ietf-yang-library",
      "ietf-yang-schema-mount", "ietf-yang-structure-ext"};
  return *modules;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool IsTransportFailure(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kDeadlineExceeded;
}

// module=, revision=, features= of a capability URI.
struct ModuleCapability {
  std::string name;
  std::string revision;
  std::vector<std::string> features;
};

std::vector<ModuleCapability> ModulesOf(
    const std::vector<std::string>& capabilities) {
  std::vector<ModuleCapability> modules;
  for (const std::string& cap : capabilities) {
    size_t q = cap.find('?');
    if (q == std::string::npos) continue;
    ModuleCapability module;
    for (absl::string_view param :
         absl::StrSplit(absl::string_view(cap).substr(q + 1), '&')) {
      // Some servers escape '&' in the hello.
      if (absl::ConsumePrefix(&param, "amp;")) {
      }
      size_t eq = param.find('=');
      if (eq == absl::string_view::npos) continue;
      absl::string_view key = param.substr(0, eq);
      std::string value(param.substr(eq + 1));
      if (key == "module") module.name = value;
      if (key == "revision") module.revision = value;
      if (key == "features" && !value.empty())
        module.features = absl::StrSplit(value, ',');
    }
    if (!module.name.empty()) modules.push_back(std::move(module));
  }
  return modules;
}

// Scope of one device RPC: the keepalive stays away while it runs.
class RpcScope {
 public:
  RpcScope(std::atomic<int>& in_flight, std::atomic<int64_t>& last)
      : in_flight_(in_flight), last_(last) {
    ++in_flight_;
  }
  ~RpcScope() {
    last_ = NowNs();
    --in_flight_;
  }

 private:
  std::atomic<int>& in_flight_;
  std::atomic<int64_t>& last_;
};

}  // namespace

NetconfDriver::NetconfDriver(DeviceSettings settings, DriverContext context,
                             NetconfOptions options)
    : settings_(std::move(settings)),
      context_(std::move(context)),
      options_(std::move(options)),
      log_name_(absl::StrCat("netconf device '", settings_.name, "'")) {
  if (options_.ssh.insecure_skip_host_key_check) {
    spdlog::warn(
        "{}: SSH host key check disabled "
        "(insecure_skip_host_key_check)",
        log_name_);
  }
}

NetconfDriver::~NetconfDriver() { Close(); }

void NetconfDriver::SetState(ConnectionState state, const std::string& error) {
  std::lock_guard<std::mutex> lock(state_mutex_);
  status_.state = state;
  status_.last_error = error;
}

absl::Status NetconfDriver::Connect() {
  absl::Status status;
  {
    std::lock_guard<std::mutex> lock(session_mutex_);
    status = ConnectLocked();
  }
  if (!status.ok()) return status;
  std::lock_guard<std::mutex> lock(worker_mutex_);
  if (!worker_.joinable() && !stopping_) {
    worker_ = std::thread([this] { Worker(); });
  }
  return absl::OkStatus();
}

namespace {
// Modules in the cache folder: libnetconf2 stores what it fetches with
// get-schema into its search path, the driver what libnetconf2 did not need.
size_t CachedModules(const std::string& dir) {
  std::error_code ec;
  size_t count = 0;
  for (auto it = fs::directory_iterator(dir, ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (it->path().extension() == ".yang") ++count;
  }
  return count;
}
}  // namespace

absl::Status NetconfDriver::ConnectLocked() {
  // The previous error stays visible while connecting again.
  SetState(ConnectionState::kConnecting, Status().last_error);
  const size_t cached_before = CachedModules(options_.schema_cache_dir);
  session_.reset();
  // A confirmed commit dies with the session that made it (RFC 6241 8.4).
  commit_pending_ = false;
  auto session = Session::ConnectSsh(options_.ssh);
  if (!session.ok()) {
    absl::Status status(
        session.status().code(),
        absl::StrCat(log_name_, ": ", session.status().message()));
    SetState(ConnectionState::kError, std::string(status.message()));
    return status;
  }
  (*session)->set_rpc_timeout(options_.rpc_timeout);
  absl::Status loaded = LoadSchemas(**session);
  const size_t cached_after = CachedModules(options_.schema_cache_dir);
  if (cached_after > cached_before) {
    schema_downloads_ += cached_after - cached_before;
  }
  if (!loaded.ok()) {
    absl::Status status(loaded.code(),
                        absl::StrCat(log_name_, ": ", loaded.message()));
    SetState(ConnectionState::kError, std::string(status.message()));
    return status;
  }
  bool confirmed = (*session)->HasCapability(kConfirmedCommit) &&
                   (*session)->HasCapability(kCandidate);
  std::string degraded;
  {
    std::lock_guard<std::mutex> lock(state_mutex_);
    capabilities_ = (*session)->capabilities();
    confirmed_commit_ = confirmed;
    degraded = degraded_reason_;
    status_.state = ConnectionState::kConnected;
    status_.last_error = degraded.empty() ? "" : "degraded: " + degraded;
  }
  spdlog::info("{}: connected to {}:{} (session {}, {} capabilities{})",
               log_name_, options_.ssh.host, options_.ssh.port,
               (*session)->id(), (*session)->capabilities().size(),
               degraded.empty() ? "" : ", degraded: " + degraded);
  session_ = std::move(session).value();
  last_activity_ns_ = NowNs();
  return absl::OkStatus();
}

absl::Status NetconfDriver::LoadSchemas(Session& session) {
  const fs::path dir(options_.schema_cache_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot create the schema cache ", dir.string(), ": ", ec.message()));
  }
  std::vector<schema::ModuleSpec> specs;
  std::vector<std::string> problems;
  for (const ModuleCapability& module : ModulesOf(session.capabilities())) {
    if (LibyangModules().count(module.name)) continue;
    const fs::path file =
        dir / (module.revision.empty()
                   ? module.name + ".yang"
                   : absl::StrCat(module.name, "@", module.revision, ".yang"));
    if (!fs::exists(file, ec)) {
      auto text = session.GetSchema(module.name, module.revision);
      if (!text.ok()) {
        if (IsTransportFailure(text.status())) return text.status();
        problems.push_back(absl::StrCat(
            module.name, " (get-schema: ", text.status().message(), ")"));
        continue;
      }
      // Written aside and renamed: a crash never leaves half a module that
      // a later start would trust.
      fs::path tmp = file;
      tmp += absl::StrCat(".tmp.", getpid());
      {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << *text;
        if (!out) {
          problems.push_back(
              absl::StrCat(module.name, " (cannot write ", tmp.string(), ")"));
          continue;
        }
      }
      fs::rename(tmp, file, ec);
      if (ec) {
        problems.push_back(
            absl::StrCat(module.name, " (cannot store: ", ec.message(), ")"));
        continue;
      }
    }
    schema::ModuleSpec spec;
    spec.name = module.name;
    spec.revision = module.revision;
    spec.features = module.features;
    specs.push_back(std::move(spec));
  }
  const std::vector<std::string> extra = {dir.string()};
  auto build = [&](const std::vector<schema::ModuleSpec>& modules)
      -> absl::StatusOr<std::shared_ptr<const schema::YangContext>> {
    if (context_.schemas) return context_.schemas->Get(modules, extra);
    return schema::YangContext::Build(extra, modules);
  };
  auto context = build(specs);
  if (!context.ok()) {
    // One broken module must not cost the device: find the modules that
    // compile on their own and use those, reporting the rest.
    spdlog::warn(
        "{}: the device's modules do not compile together ({}); "
        "trying one by one",
        log_name_, std::string(context.status().message()));
    std::vector<schema::ModuleSpec> good;
    for (const auto& spec : specs) {
      auto alone = schema::YangContext::Build(extra, {spec});
      if (alone.ok()) {
        good.push_back(spec);
      } else {
        problems.push_back(
            absl::StrCat(spec.name, " (", alone.status().message(), ")"));
      }
    }
    context = build(good);
    if (!context.ok()) {
      return absl::Status(
          context.status().code(),
          absl::StrCat("cannot compile the device's YANG modules: ",
                       context.status().message()));
    }
  }
  std::lock_guard<std::mutex> lock(state_mutex_);
  schema_ = *context;
  degraded_reason_ =
      problems.empty()
          ? ""
          : absl::StrCat("modules not usable: ", absl::StrJoin(problems, "; "));
  if (!problems.empty()) spdlog::warn("{}: {}", log_name_, degraded_reason_);
  return absl::OkStatus();
}

void NetconfDriver::LinkLost(const absl::Status& cause) {
  // Caller holds session_mutex_.
  session_.reset();
  commit_pending_ = false;
  std::string message =
      absl::StrCat("session lost: ", std::string(cause.message()));
  spdlog::warn("{}: {}", log_name_, message);
  SetState(ConnectionState::kError, message);
  {
    std::lock_guard<std::mutex> lock(worker_mutex_);
    link_lost_ = true;
  }
  worker_cv_.notify_all();
}

void NetconfDriver::Worker() {
  std::mt19937_64 random(std::hash<std::string>{}(settings_.name) ^
                         static_cast<uint64_t>(NowNs()));
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  const auto interval = options_.keepalive_interval;
  while (true) {
    bool lost;
    {
      std::unique_lock<std::mutex> lock(worker_mutex_);
      auto done = [this] { return stopping_ || link_lost_; };
      if (interval.count() > 0) {
        worker_cv_.wait_for(lock, interval, done);
      } else {
        worker_cv_.wait(lock, done);
      }
      if (stopping_) return;
      lost = link_lost_;
    }
    if (!lost) {
      // Keepalive, only when the session has been idle for an interval.
      if (in_flight_ > 0) continue;
      int64_t idle_ns = NowNs() - last_activity_ns_;
      if (idle_ns < std::chrono::nanoseconds(interval).count()) continue;
      std::unique_lock<std::mutex> lock(session_mutex_, std::try_to_lock);
      if (!lock.owns_lock()) continue;
      if (!session_) {
        lost = true;
      } else {
        auto reply = session_->GetConfig(Datastore::kRunning, kKeepaliveFilter);
        last_activity_ns_ = NowNs();
        if (!reply.ok() &&
            (IsTransportFailure(reply.status()) || !session_->alive())) {
          LinkLost(reply.status());
          lost = true;
        }
      }
    }
    if (!lost) continue;
    if (!options_.reconnect) {
      std::unique_lock<std::mutex> lock(worker_mutex_);
      worker_cv_.wait(lock, [this] { return stopping_; });
      return;
    }
    auto delay = options_.backoff_initial;
    for (uint64_t attempt = 1;; ++attempt) {
      absl::Status status;
      {
        std::lock_guard<std::mutex> lock(session_mutex_);
        {
          std::lock_guard<std::mutex> wl(worker_mutex_);
          if (stopping_) return;
        }
        status = ConnectLocked();
      }
      if (status.ok()) {
        {
          std::lock_guard<std::mutex> lock(state_mutex_);
          ++status_.reconnects;
        }
        std::lock_guard<std::mutex> lock(worker_mutex_);
        link_lost_ = false;
        break;
      }
      auto wait = std::chrono::milliseconds(
          static_cast<int64_t>(delay.count() * jitter(random)));
      spdlog::warn("{}: reconnect attempt {} failed: {}; retrying in {} ms",
                   log_name_, attempt, std::string(status.message()),
                   wait.count());
      std::unique_lock<std::mutex> lock(worker_mutex_);
      if (worker_cv_.wait_for(lock, wait, [this] { return stopping_; })) {
        return;
      }
      delay = std::min(options_.backoff_max,
                       std::chrono::milliseconds(static_cast<int64_t>(
                           delay.count() * options_.backoff_multiplier)));
    }
  }
}

void NetconfDriver::Close() {
  {
    std::lock_guard<std::mutex> lock(worker_mutex_);
    stopping_ = true;
  }
  worker_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  std::lock_guard<std::mutex> lock(session_mutex_);
  session_.reset();
  SetState(ConnectionState::kDisconnected, "");
}

DeviceStatus NetconfDriver::Status() const {
  std::lock_guard<std::mutex> lock(state_mutex_);
  return status_;
}

std::shared_ptr<const schema::YangContext> NetconfDriver::Schema() const {
  std::lock_guard<std::mutex> lock(state_mutex_);
  return schema_;
}

std::vector<ModelInfo> NetconfDriver::Models() const {
  std::lock_guard<std::mutex> lock(state_mutex_);
  return schema_ ? schema_->Models() : std::vector<ModelInfo>{};
}

std::vector<std::string> NetconfDriver::Capabilities() const {
  std::lock_guard<std::mutex> lock(state_mutex_);
  return capabilities_;
}

std::string NetconfDriver::degraded_reason() const {
  std::lock_guard<std::mutex> lock(state_mutex_);
  return degraded_reason_;
}

bool NetconfDriver::SupportsConfirmedCommit() const {
  std::lock_guard<std::mutex> lock(state_mutex_);
  return confirmed_commit_;
}

absl::StatusOr<schema::DataTree> NetconfDriver::FetchTree(
    const std::vector<std::string>& xpaths, DataType type) {
  auto schema = Schema();
  if (!schema) {
    return absl::UnavailableError(absl::StrCat(log_name_, " is not connected"));
  }
  ASSIGN_OR_RETURN(std::string filter,
                   schema::BuildSubtreeFilter(*schema, xpaths));
  std::string xml;
  {
    RpcScope scope(in_flight_, last_activity_ns_);
    std::lock_guard<std::mutex> lock(session_mutex_);
    if (!session_) {
      return absl::UnavailableError(
          absl::StrCat(log_name_, " is not connected: ", Status().last_error));
    }
    auto reply = type == DataType::kConfig
                     ? session_->GetConfig(Datastore::kRunning, filter)
                     : session_->Get(filter);
    if (!reply.ok()) {
      if (IsTransportFailure(reply.status()) || !session_->alive())
        LinkLost(reply.status());
      return reply.status();
    }
    xml = std::move(reply).value();
  }
  ASSIGN_OR_RETURN(schema::DataTree tree,
                   schema::DataTree::ParseXml(schema, xml));
  return tree.Select(xpaths, type);
}

absl::StatusOr<std::string> NetconfDriver::Get(
    const std::vector<std::string>& xpaths_in, DataType type) {
  std::vector<std::string> xpaths = xpaths_in;
  if (xpaths.empty()) xpaths.push_back("/");
  ASSIGN_OR_RETURN(schema::DataTree tree, FetchTree(xpaths, type));
  return tree.ToJsonIetf();
}

absl::Status NetconfDriver::Set(const Transaction& transaction) {
  const CommitAction& commit = transaction.commit;
  if (commit.kind != CommitAction::Kind::kNone && !SupportsConfirmedCommit()) {
    return absl::UnimplementedError(absl::StrCat(
        log_name_, " does not advertise :candidate and :confirmed-commit"));
  }
  auto schema = Schema();
  if (!schema) {
    return absl::UnavailableError(absl::StrCat(log_name_, " is not connected"));
  }
  std::string content;
  if (!transaction.edits.empty()) {
    // Values are checked against the device's schema here, before anything
    // is sent.
    ASSIGN_OR_RETURN(content,
                     schema::BuildEditConfig(schema, transaction.edits));
  }
  RpcScope scope(in_flight_, last_activity_ns_);
  std::lock_guard<std::mutex> lock(session_mutex_);
  if (!session_) {
    return absl::UnavailableError(
        absl::StrCat(log_name_, " is not connected: ", Status().last_error));
  }
  absl::Status status;
  switch (commit.kind) {
    case CommitAction::Kind::kConfirm:
    case CommitAction::Kind::kCancel:
    case CommitAction::Kind::kSetRollbackDuration:
      if (!transaction.edits.empty()) {
        return absl::InvalidArgumentError(
            "a commit confirm, cancel or set_rollback_duration carries no "
            "edits");
      }
      status = FollowUpCommit(commit);
      break;
    default:
      if (session_->HasCapability(kCandidate)) {
        status = ApplyCandidate(content, commit);
      } else if (session_->HasCapability(kWritableRunning)) {
        status =
            session_->EditConfig(Datastore::kRunning, content,
                                 session_->HasCapability(kRollbackOnError));
      } else {
        status = absl::UnimplementedError(absl::StrCat(
            log_name_, " advertises neither :candidate nor :writable-running"));
      }
  }
  if (!status.ok() && session_ &&
      (IsTransportFailure(status) || !session_->alive())) {
    LinkLost(status);
  }
  return status;
}

absl::Status NetconfDriver::ApplyCandidate(const std::string& content,
                                           const CommitAction& commit) {
  RETURN_IF_ERROR(session_->Lock(Datastore::kCandidate));
  // On any error: throw the candidate's changes away and unlock, so the
  // next transaction (ours or another client's) starts clean. netconfd also
  // needs the discard after a rejected edit (see netconfd.md).
  auto fail = [this](absl::Status status) {
    if (session_->alive()) {
      (void)session_->DiscardChanges();
      (void)session_->Unlock(Datastore::kCandidate);
    }
    return status;
  };
  absl::Status status = session_->DiscardChanges();
  if (!status.ok()) return fail(status);
  if (!content.empty()) {
    status = session_->EditConfig(Datastore::kCandidate, content, false);
    if (!status.ok()) return fail(status);
  }
  // No <validate> before <commit>: netconfd 2.13 then commits nothing;
  // commit validates by itself.
  const bool confirmed = commit.kind == CommitAction::Kind::kCommit &&
                         commit.rollback_duration_ms > 0;
  uint32_t timeout_s = 0;
  if (confirmed) {
    timeout_s = static_cast<uint32_t>(
        std::max<int64_t>(1, (commit.rollback_duration_ms + 999) / 1000));
  }
  status = session_->Commit(confirmed, timeout_s);
  if (!status.ok()) return fail(status);
  commit_pending_ = confirmed;
  if (confirmed) {
    pending_commit_id_ = commit.id;
    commit_deadline_ =
        std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  }
  (void)session_->Unlock(Datastore::kCandidate);
  return absl::OkStatus();
}

absl::Status NetconfDriver::FollowUpCommit(const CommitAction& commit) {
  if (!commit_pending_ ||
      std::chrono::steady_clock::now() >= commit_deadline_) {
    commit_pending_ = false;
    return absl::FailedPreconditionError(
        "no confirmed commit is pending (it was confirmed, cancelled or has "
        "already been rolled back)");
  }
  if (!commit.id.empty() && !pending_commit_id_.empty() &&
      commit.id != pending_commit_id_) {
    return absl::FailedPreconditionError(
        absl::StrCat("the pending commit has id '", pending_commit_id_,
                     "', not '", commit.id, "'"));
  }
  switch (commit.kind) {
    case CommitAction::Kind::kConfirm: {
      // A plain <commit> from the same session confirms.
      RETURN_IF_ERROR(session_->Commit(false, 0));
      commit_pending_ = false;
      return absl::OkStatus();
    }
    case CommitAction::Kind::kCancel: {
      RETURN_IF_ERROR(session_->CancelCommit());
      commit_pending_ = false;
      return absl::OkStatus();
    }
    case CommitAction::Kind::kSetRollbackDuration: {
      // A follow-up confirmed commit re-arms the timer (RFC 6241 8.4.5);
      // the candidate must hold nothing new.
      RETURN_IF_ERROR(session_->DiscardChanges());
      uint32_t timeout_s = static_cast<uint32_t>(
          std::max<int64_t>(1, (commit.rollback_duration_ms + 999) / 1000));
      RETURN_IF_ERROR(session_->Commit(true, timeout_s));
      commit_deadline_ =
          std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
      return absl::OkStatus();
    }
    default:
      return absl::InternalError("not a follow-up commit action");
  }
}

// Telemetry by polling: SAMPLE sends every leaf at its interval; ON_CHANGE
// and TARGET_DEFINED poll at change_poll_interval and send what changed
// (the fallback the issue allows where no notification stream is used).
// One thread per subscription; the device's session mutex keeps at most one
// RPC in flight per device. A lost session only pauses the polls: the
// subscription resumes (with the differences) once the driver reconnects.
class PollSubscription : public Subscription {
 public:
  PollSubscription(NetconfDriver* driver, std::vector<SubscriptionSpec> specs,
                   std::shared_ptr<NotificationSink> sink)
      : driver_(driver), sink_(std::move(sink)) {
    const auto now = std::chrono::steady_clock::now();
    for (auto& spec : specs) {
      Spec state;
      state.spec = std::move(spec);
      if (state.spec.mode == SubscriptionMode::kSample) {
        state.interval =
            state.spec.sample_interval_ns > 0
                ? std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::nanoseconds(state.spec.sample_interval_ns))
                : std::chrono::milliseconds(10000);
        state.interval =
            std::max(state.interval, std::chrono::milliseconds(10));
      } else {
        state.interval = driver_->options_.change_poll_interval;
      }
      state.next = now + state.interval;
      specs_.push_back(std::move(state));
    }
  }

  ~PollSubscription() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  // Sends the initial values and OnSynced, then starts polling.
  absl::Status Start() {
    Notification initial;
    for (Spec& spec : specs_) {
      auto leaves = Poll(spec);
      if (!leaves.ok()) return leaves.status();
      Diff(spec, *leaves, /*full=*/true, initial);
    }
    if (!initial.updates.empty()) {
      initial.timestamp_ns = WallNs();
      sink_->OnNotification(std::move(initial));
    }
    sink_->OnSynced();
    thread_ = std::thread([this] { Run(); });
    return absl::OkStatus();
  }

 private:
  struct Spec {
    SubscriptionSpec spec;
    std::chrono::milliseconds interval{1000};
    std::chrono::steady_clock::time_point next;
    std::map<std::string, std::string> last;  // path -> JSON value
  };

  static int64_t WallNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  absl::StatusOr<std::vector<Notification::LeafUpdate>> Poll(const Spec& spec) {
    ASSIGN_OR_RETURN(schema::DataTree tree,
                     driver_->FetchTree({spec.spec.xpath}, DataType::kAll));
    return tree.Leaves(spec.spec.xpath);
  }

  static void Diff(Spec& spec,
                   const std::vector<Notification::LeafUpdate>& leaves,
                   bool full, Notification& out) {
    std::map<std::string, std::string> now;
    for (const auto& leaf : leaves) {
      now[leaf.xpath] = leaf.json_value;
      auto it = spec.last.find(leaf.xpath);
      if (full || it == spec.last.end() || it->second != leaf.json_value)
        out.updates.push_back(leaf);
    }
    for (const auto& [path, value] : spec.last)
      if (!now.count(path)) out.deletes.push_back(path);
    spec.last = std::move(now);
  }

  void Run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
      auto next = std::chrono::steady_clock::time_point::max();
      for (const Spec& spec : specs_) next = std::min(next, spec.next);
      if (cv_.wait_until(lock, next, [this] { return stopping_; })) return;
      lock.unlock();
      Notification notification;
      const auto now = std::chrono::steady_clock::now();
      for (Spec& spec : specs_) {
        if (spec.next > now) continue;
        spec.next = now + spec.interval;
        auto leaves = Poll(spec);
        if (!leaves.ok()) continue;  // device away: try at the next period
        Diff(spec, *leaves, spec.spec.mode == SubscriptionMode::kSample,
             notification);
      }
      lock.lock();
      if (stopping_) return;
      if (notification.updates.empty() && notification.deletes.empty())
        continue;
      notification.timestamp_ns = WallNs();
      sink_->OnNotification(std::move(notification));
    }
  }

  NetconfDriver* driver_;
  std::shared_ptr<NotificationSink> sink_;
  std::vector<Spec> specs_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

absl::StatusOr<std::unique_ptr<Subscription>> NetconfDriver::Subscribe(
    const std::vector<SubscriptionSpec>& specs,
    std::shared_ptr<NotificationSink> sink) {
  if (!sink) return absl::InvalidArgumentError("no sink");
  if (specs.empty()) return absl::InvalidArgumentError("no subscription paths");
  auto subscription = std::make_unique<PollSubscription>(this, specs, sink);
  RETURN_IF_ERROR(subscription->Start());
  return subscription;
}

absl::StatusOr<std::unique_ptr<Driver>> CreateNetconfDriver(
    const DeviceSettings& settings, const DriverContext& context) {
  auto options = ParseNetconfOptions(settings, context.state_dir);
  if (!options.ok()) return options.status();
  return std::make_unique<NetconfDriver>(settings, context,
                                         *std::move(options));
}

}  // namespace southgate::drivers::netconf
