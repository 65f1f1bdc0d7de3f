#include "drivers/netconf/netconf_driver.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "drivers/netconf/netconf_runtime.h"
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
constexpr char kXpath[] = "urn:ietf:params:netconf:capability:xpath:1.0";
constexpr char kNotification[] =
    "urn:ietf:params:netconf:capability:notification:1.0";
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
      log_name_(absl::StrCat("netconf device '", settings_.name, "'")),
      background_(NetconfRuntime::Get().work()),
      reconnect_(NetconfRuntime::Get().reconnects()) {
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
  RETURN_IF_ERROR(ConnectOnce());
  uint64_t generation;
  {
    std::lock_guard<std::mutex> lock(session_mutex_);
    generation = session_generation_;
  }
  ScheduleKeepalive(options_.keepalive_interval, generation);
  return absl::OkStatus();
}

bool NetconfDriver::stopping() const {
  std::lock_guard<std::mutex> lock(lifecycle_mutex_);
  return stopping_;
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

absl::Status NetconfDriver::ConnectOnce() {
  std::lock_guard<std::mutex> connect_lock(connect_mutex_);
  NetconfRuntime& runtime = NetconfRuntime::Get();
  // The previous error stays visible while connecting again.
  SetState(ConnectionState::kConnecting, Status().last_error);
  {
    std::lock_guard<std::mutex> lock(session_mutex_);
    session_.reset();
    // A confirmed commit dies with the session that made it (RFC 6241 8.4).
    commit_pending_ = false;
  }
  auto gate = runtime.SchemaGateFor(options_.schema_cache_dir);
  std::unique_lock<std::mutex> cold_cache;
  if (!gate->warm) {
    cold_cache = std::unique_lock<std::mutex>(gate->mutex);
    if (gate->warm) cold_cache.unlock();
  }
  NetconfRuntime::ConnectSlot slot(runtime);
  if (stopping()) return absl::CancelledError(log_name_ + " is closing");
  const size_t cached_before = CachedModules(options_.schema_cache_dir);
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
  if (cold_cache.owns_lock()) gate->warm = true;
  bool confirmed = (*session)->HasCapability(kConfirmedCommit) &&
                   (*session)->HasCapability(kCandidate);
  spdlog::info(
      "{}: connected to {}:{} (session {}, {} capabilities{})", log_name_,
      options_.ssh.host, options_.ssh.port, (*session)->id(),
      (*session)->capabilities().size(),
      degraded_reason().empty() ? "" : ", degraded: " + degraded_reason());
  std::vector<std::string> capabilities = (*session)->capabilities();
  {
    std::lock_guard<std::mutex> lock(session_mutex_);
    session_ = std::move(session).value();
    ++session_generation_;
    last_activity_ns_ = NowNs();
  }
  std::lock_guard<std::mutex> lock(state_mutex_);
  capabilities_ = std::move(capabilities);
  confirmed_commit_ = confirmed;
  status_.state = ConnectionState::kConnected;
  status_.last_error =
      degraded_reason_.empty() ? "" : "degraded: " + degraded_reason_;
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
  std::lock_guard<std::mutex> lock(lifecycle_mutex_);
  if (stopping_ || !options_.reconnect || reconnect_scheduled_) return;
  reconnect_scheduled_ = true;
  // The first attempt at once, later ones with backoff.
  reconnect_.Post([this] { ReconnectAttempt(1, options_.backoff_initial); });
}

void NetconfDriver::ScheduleKeepalive(std::chrono::milliseconds delay,
                                      uint64_t generation) {
  if (options_.keepalive_interval.count() <= 0) return;
  background_.PostAfter(delay,
                        [this, generation] { KeepaliveTick(generation); });
}

// A cheap RPC when the session has been idle for the keepalive interval;
// skipped while RPCs are in flight. A transport failure drops the session
// (LinkLost schedules the reconnect, which starts a new keepalive chain).
void NetconfDriver::KeepaliveTick(uint64_t generation) {
  if (stopping()) return;
  const auto interval = options_.keepalive_interval;
  const auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::nanoseconds(NowNs() - last_activity_ns_.load()));
  if (in_flight_ > 0 || idle < interval) {
    ScheduleKeepalive(in_flight_ > 0 ? interval : interval - idle, generation);
    return;
  }
  std::unique_lock<std::mutex> lock(session_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) {  // an RPC is running: the link is in use
    ScheduleKeepalive(interval, generation);
    return;
  }
  if (!session_ || session_generation_ != generation) return;
  auto reply = session_->GetConfig(Datastore::kRunning, kKeepaliveFilter);
  last_activity_ns_ = NowNs();
  if (!reply.ok() &&
      (IsTransportFailure(reply.status()) || !session_->alive())) {
    LinkLost(reply.status());
    return;
  }
  lock.unlock();
  ScheduleKeepalive(interval, generation);
}

// One reconnect attempt on the reconnect pool; on failure the next one is
// scheduled after `delay` (with +-20% jitter), growing to backoff_max.
void NetconfDriver::ReconnectAttempt(uint64_t attempt,
                                     std::chrono::milliseconds delay) {
  if (stopping()) return;
  absl::Status status = ConnectOnce();
  if (status.ok()) {
    uint64_t generation;
    {
      std::lock_guard<std::mutex> lock(session_mutex_);
      generation = session_generation_;
    }
    {
      std::lock_guard<std::mutex> lock(state_mutex_);
      ++status_.reconnects;
    }
    {
      std::lock_guard<std::mutex> lock(lifecycle_mutex_);
      reconnect_scheduled_ = false;
    }
    ScheduleKeepalive(options_.keepalive_interval, generation);
    return;
  }
  if (stopping()) return;
  thread_local std::mt19937_64 random(std::random_device{}());
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  auto wait = std::chrono::milliseconds(
      static_cast<int64_t>(delay.count() * jitter(random)));
  spdlog::warn("{}: reconnect attempt {} failed: {}; retrying in {} ms",
               log_name_, attempt, std::string(status.message()), wait.count());
  auto next = std::min(options_.backoff_max,
                       std::chrono::milliseconds(static_cast<int64_t>(
                           delay.count() * options_.backoff_multiplier)));
  reconnect_.PostAfter(
      wait, [this, attempt, next] { ReconnectAttempt(attempt + 1, next); });
}

void NetconfDriver::Close() {
  // Stopped outside the lock: a handler on its thread may read Status().
  std::shared_ptr<ChangeListener> listener;
  {
    std::lock_guard<std::mutex> lock(listener_mutex_);
    listener = std::move(change_listener_);
  }
  if (listener) listener->Stop();
  {
    std::lock_guard<std::mutex> lock(lifecycle_mutex_);
    stopping_ = true;
  }
  // Waits for a keepalive, poll or reconnect in progress; nothing queued
  // runs afterwards.
  background_.Close();
  reconnect_.Close();
  std::lock_guard<std::mutex> lock(session_mutex_);
  session_.reset();
  SetState(ConnectionState::kDisconnected, "");
}

DeviceStatus NetconfDriver::Status() const {
  DeviceStatus status;
  {
    std::lock_guard<std::mutex> lock(state_mutex_);
    status = status_;
  }
  std::lock_guard<std::mutex> lock(listener_mutex_);
  if (change_listener_) {
    status.change_notifications = change_listener_->config_changes();
  }
  return status;
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
    const std::vector<std::string>& xpaths, DataType type,
    const std::function<void()>& on_sent) {
  auto schema = Schema();
  if (!schema) {
    return absl::UnavailableError(absl::StrCat(log_name_, " is not connected"));
  }
  ASSIGN_OR_RETURN(std::string filter,
                   schema::BuildSubtreeFilter(*schema, xpaths));
  // An XPath filter where the device has :xpath: exact, where the subtree
  // filter stops at wildcards.
  std::string xpath_filter;
  if (options_.filter == NetconfOptions::FilterKind::kAuto) {
    auto built = schema::BuildXpathFilter(*schema, xpaths);
    if (built.ok()) xpath_filter = *std::move(built);
  }
  std::string xml;
  {
    RpcScope scope(in_flight_, last_activity_ns_);
    std::lock_guard<std::mutex> lock(session_mutex_);
    if (!session_) {
      return absl::UnavailableError(
          absl::StrCat(log_name_, " is not connected: ", Status().last_error));
    }
    if (on_sent) on_sent();
    auto fetch = [&](const std::string& one) {
      return type == DataType::kConfig
                 ? session_->GetConfig(Datastore::kRunning, one)
                 : session_->Get(one);
    };
    const bool xpath = !xpath_filter.empty() && session_->HasCapability(kXpath);
    auto reply = fetch(xpath ? xpath_filter : filter);
    if (xpath && reply.ok()) ++xpath_filters_;
    if (xpath && !reply.ok() && !IsTransportFailure(reply.status()) &&
        session_->alive()) {
      // The device's XPath engine refused it: the subtree filter then.
      spdlog::debug("{}: XPath filter refused ({}); using a subtree filter",
                    log_name_, std::string(reply.status().message()));
      reply = fetch(filter);
    }
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
  // Identical Gets waiting for the session share one RPC: the first one
  // (the leader) opens a batch, later ones join it until the leader holds
  // the session and is about to send, so every member's reply was read
  // after the member arrived. With many clients reading the same paths the
  // device answers once per batch instead of once per client.
  const std::string key =
      absl::StrCat(static_cast<int>(type), "\n", absl::StrJoin(xpaths, "\n"));
  std::shared_ptr<PendingGet> batch;
  {
    std::unique_lock<std::mutex> lock(gets_mutex_);
    auto [it, leader] = open_gets_.try_emplace(key);
    if (!leader) {
      batch = it->second;
      gets_done_.wait(lock, [&batch] { return batch->done; });
      return batch->result;
    }
    batch = it->second = std::make_shared<PendingGet>();
  }
  auto close_batch = [&] {
    std::lock_guard<std::mutex> lock(gets_mutex_);
    auto it = open_gets_.find(key);
    if (it != open_gets_.end() && it->second == batch) open_gets_.erase(it);
  };
  absl::StatusOr<std::string> result = [&]() -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN(schema::DataTree tree,
                     FetchTree(xpaths, type, close_batch));
    return tree.ToJsonIetf();
  }();
  close_batch();  // also when FetchTree failed before sending
  {
    std::lock_guard<std::mutex> lock(gets_mutex_);
    batch->result = result;
    batch->done = true;
  }
  gets_done_.notify_all();
  return result;
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
      RETURN_IF_ERROR(transaction.CheckFollowUpHasNoEdits());
      status = FollowUpCommit(commit);
      break;
    default:
      // gNMI commit-confirmed spec: while a commit waits, a new commit and
      // a Set without the extension are refused (a plain <commit> would
      // silently confirm it, a confirmed one would extend it).
      if (commit_pending_ &&
          std::chrono::steady_clock::now() < commit_deadline_) {
        return absl::FailedPreconditionError(absl::StrCat(
            "commit '", pending_commit_id_,
            "' is waiting for confirmation: confirm or cancel it first"));
      }
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
    return absl::InvalidArgumentError(
        absl::StrCat("the commit waiting for confirmation has id '",
                     pending_commit_id_, "', not '", commit.id, "'"));
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
// No thread of its own: each round is a task on the device's background
// Strand, so a device has at most one poll in flight and a thousand
// subscriptions share the runtime's work pool. A lost session only pauses
// the polls: the subscription resumes (with the differences) once the
// driver reconnects.
class PollSubscription : public Subscription {
 public:
  PollSubscription(NetconfDriver* driver, std::vector<SubscriptionSpec> specs,
                   std::shared_ptr<NotificationSink> sink)
      : state_(std::make_shared<State>()) {
    state_->driver = driver;
    state_->sink = std::move(sink);
    const auto now = std::chrono::steady_clock::now();
    for (auto& spec : specs) {
      Spec one;
      one.spec = std::move(spec);
      if (one.spec.mode == SubscriptionMode::kSample) {
        one.interval =
            one.spec.sample_interval_ns > 0
                ? std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::nanoseconds(one.spec.sample_interval_ns))
                : std::chrono::milliseconds(10000);
        one.interval = std::max(one.interval, std::chrono::milliseconds(10));
      } else {
        one.interval = driver->options_.change_poll_interval;
      }
      one.next = now + one.interval;
      state_->specs.push_back(std::move(one));
    }
  }

  // Waits for a round in progress; no round starts afterwards.
  ~PollSubscription() override {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->stopping = true;
  }

  // Sends the initial values and OnSynced, then starts polling.
  absl::Status Start() {
    Notification initial;
    {
      std::lock_guard<std::mutex> lock(state_->mutex);
      for (Spec& spec : state_->specs) {
        auto leaves = Poll(*state_, spec);
        if (!leaves.ok()) return leaves.status();
        Diff(spec, *leaves, /*full=*/true, initial);
      }
    }
    if (!initial.updates.empty()) {
      initial.timestamp_ns = WallNs();
      state_->sink->OnNotification(std::move(initial));
    }
    state_->sink->OnSynced();
    ScheduleNext(state_);
    return absl::OkStatus();
  }

 private:
  struct Spec {
    SubscriptionSpec spec;
    std::chrono::milliseconds interval{1000};
    std::chrono::steady_clock::time_point next;
    std::map<std::string, std::string> last;  // path -> JSON value
  };
  // Shared with the scheduled rounds, which may outlive the subscription
  // object by a queued no-op.
  struct State {
    NetconfDriver* driver = nullptr;
    std::shared_ptr<NotificationSink> sink;
    std::mutex mutex;  // held during a round
    bool stopping = false;
    std::vector<Spec> specs;
  };

  static int64_t WallNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  static absl::StatusOr<std::vector<Notification::LeafUpdate>> Poll(
      State& state, const Spec& spec) {
    ASSIGN_OR_RETURN(
        schema::DataTree tree,
        state.driver->FetchTree({spec.spec.xpath}, DataType::kAll));
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

  static void ScheduleNext(const std::shared_ptr<State>& state) {
    auto next = std::chrono::steady_clock::time_point::max();
    for (const Spec& spec : state->specs) next = std::min(next, spec.next);
    auto delay = std::max(std::chrono::steady_clock::duration::zero(),
                          next - std::chrono::steady_clock::now());
    state->driver->background_.PostAfter(delay, [state] { Round(state); });
  }

  static void Round(const std::shared_ptr<State>& state) {
    std::lock_guard<std::mutex> lock(state->mutex);
    if (state->stopping) return;
    Notification notification;
    const auto now = std::chrono::steady_clock::now();
    for (Spec& spec : state->specs) {
      if (spec.next > now) continue;
      spec.next = now + spec.interval;
      auto leaves = Poll(*state, spec);
      if (!leaves.ok()) continue;  // device away: try at the next period
      Diff(spec, *leaves, spec.spec.mode == SubscriptionMode::kSample,
           notification);
    }
    if (!notification.updates.empty() || !notification.deletes.empty()) {
      notification.timestamp_ns = WallNs();
      state->sink->OnNotification(std::move(notification));
    }
    ScheduleNext(state);
  }

  std::shared_ptr<State> state_;
};

absl::StatusOr<std::unique_ptr<Subscription>> NetconfDriver::Subscribe(
    const std::vector<SubscriptionSpec>& specs,
    std::shared_ptr<NotificationSink> sink) {
  if (!sink) return absl::InvalidArgumentError("no sink");
  if (specs.empty()) return absl::InvalidArgumentError("no subscription paths");
  // ON_CHANGE and TARGET_DEFINED follow the device's notifications where it
  // sends them (change_listener.h); SAMPLE, and the rest otherwise, poll.
  std::vector<SubscriptionSpec> notified, polled;
  const bool notifications = UsesNotifications();
  for (const SubscriptionSpec& spec : specs) {
    (notifications && spec.mode != SubscriptionMode::kSample ? notified
                                                             : polled)
        .push_back(spec);
  }
  if (!notified.empty() && !polled.empty()) {
    sink = std::make_shared<SyncBarrierSink>(sink, 2);
  }
  auto group = std::make_unique<SubscriptionGroup>();
  if (!notified.empty()) {
    auto subscription = std::make_unique<ChangeSubscription>(
        notified, sink,
        [this](const std::vector<std::string>& xpaths) {
          return FetchTree(xpaths, DataType::kAll);
        },
        Listener(), options_.ssh.connect_timeout + options_.rpc_timeout);
    RETURN_IF_ERROR(subscription->Start());
    group->Add(std::move(subscription));
  }
  if (!polled.empty()) {
    auto subscription = std::make_unique<PollSubscription>(this, polled, sink);
    RETURN_IF_ERROR(subscription->Start());
    group->Add(std::move(subscription));
  }
  return group;
}

bool NetconfDriver::UsesNotifications() const {
  if (options_.on_change_source != NetconfOptions::OnChangeSource::kAuto)
    return false;
  bool notification = false, change_module = false;
  for (const std::string& cap : Capabilities()) {
    if (absl::StartsWith(cap, kNotification)) notification = true;
    for (const auto& module : ModulesOf({cap}))
      if (module.name == "ietf-netconf-notifications") change_module = true;
  }
  return notification && change_module;
}

std::shared_ptr<ChangeListener> NetconfDriver::Listener() {
  std::lock_guard<std::mutex> lock(listener_mutex_);
  if (!change_listener_) {
    change_listener_ = std::make_shared<ChangeListener>(
        log_name_,
        [ssh = options_.ssh, timeout = options_.rpc_timeout](
            southgate::netconf::ConnectCancel* cancel) {
          return southgate::netconf::NotificationSession::Open(ssh, "NETCONF",
                                                               timeout, cancel);
        },
        options_, NetconfRuntime::Get().work(),
        NetconfRuntime::Get().reconnects());
  }
  return change_listener_;
}

absl::StatusOr<std::unique_ptr<Driver>> CreateNetconfDriver(
    const DeviceSettings& settings, const DriverContext& context) {
  auto options = ParseNetconfOptions(settings, context.state_dir);
  if (!options.ok()) return options.status();
  return std::make_unique<NetconfDriver>(settings, context,
                                         *std::move(options));
}

}  // namespace southgate::drivers::netconf
