#include "drivers/sim/sim_driver.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "spdlog/spdlog.h"

namespace southgate::drivers::sim {
namespace {

using SteadyClock = std::chrono::steady_clock;
using SystemClock = std::chrono::system_clock;

constexpr auto kDefaultSampleInterval = std::chrono::seconds(1);

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             SystemClock::now().time_since_epoch())
      .count();
}

int64_t ToNs(SystemClock::time_point time) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             time.time_since_epoch())
      .count();
}

std::string Rfc3339(SystemClock::time_point time) {
  std::time_t seconds = SystemClock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

// Stable across builds and platforms (unlike std::hash).
uint64_t Fnv1a(const std::string& text) {
  uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

const char* OpName(Edit::Op op) {
  switch (op) {
    case Edit::Op::kDelete:
      return "delete";
    case Edit::Op::kReplace:
      return "replace";
    case Edit::Op::kUpdate:
      return "update";
  }
  return "?";
}

absl::Status Annotate(const absl::Status& status, const std::string& prefix) {
  return absl::Status(status.code(),
                      absl::StrCat(prefix, ": ", status.message()));
}

// How the interface list of one model family looks.
struct InterfaceModel {
  const char* list;
  const char* oper_status;
  const char* admin_status;
  const char* up;
  const char* down;
  const char* last_change;
  bool last_change_is_ns;  // timeticks64 (OpenConfig) vs date-and-time
  const char* counters;    // prefix of the counter leaves
  bool has_total_pkts;     // OpenConfig in-pkts/out-pkts
};

constexpr InterfaceModel kInterfaceModels[] = {
    {"/ietf-interfaces:interfaces-state/interface", "oper-status",
     "admin-status", "up", "down", "last-change", false, "statistics/", false},
    {"/openconfig-interfaces:interfaces/interface", "state/oper-status",
     "state/admin-status", "UP", "DOWN", "state/last-change", true,
     "state/counters/", true},
};

}  // namespace

// One subscription: its sink and what was last delivered per spec. `mutex`
// is held while computing and delivering, so once `ended` is set under it
// the sink is never called again.
struct SpecState {
  SubscriptionSpec spec;
  std::map<std::string, std::string> last;
  SteadyClock::time_point next_sample;
  SteadyClock::duration sample_interval{};
};

struct GeneratorSignal {
  std::mutex mutex;
  std::condition_variable wake;
  bool stop = false;
  bool demand = false;
  bool sleeping = false;

  void Demand() {
    std::lock_guard lock(mutex);
    demand = true;
    if (sleeping) wake.notify_one();
  }
};

class SubscriptionState {
 public:
  std::mutex mutex;
  bool ended = false;
  std::shared_ptr<NotificationSink> sink;
  std::vector<SpecState> specs;
  // Which generated leaves the ON_CHANGE/TARGET_DEFINED specs cover (empty:
  // none); fixed at Subscribe.
  std::vector<bool> generated_cover;
};

namespace {

// One step of a data path: local name and key predicates.
struct Step {
  std::string name;  // without module prefix; "*" matches any
  std::vector<std::pair<std::string, std::string>> keys;
  bool descendant = false;  // preceded by "//"
};

std::vector<Step> ParseSteps(const std::string& xpath) {
  std::vector<Step> steps;
  size_t i = 0;
  const size_t n = xpath.size();
  while (i < n) {
    if (xpath[i] != '/') break;
    Step step;
    ++i;
    if (i < n && xpath[i] == '/') {
      step.descendant = true;
      ++i;
    }
    size_t start = i;
    while (i < n && xpath[i] != '/' && xpath[i] != '[') ++i;
    step.name = xpath.substr(start, i - start);
    if (auto colon = step.name.find(':'); colon != std::string::npos) {
      step.name = step.name.substr(colon + 1);
    }
    while (i < n && xpath[i] == '[') {
      size_t close = i + 1;
      char quote = 0;
      while (close < n && (quote || xpath[close] != ']')) {
        if (quote && xpath[close] == quote) {
          quote = 0;
        } else if (!quote && (xpath[close] == '\'' || xpath[close] == '"')) {
          quote = xpath[close];
        }
        ++close;
      }
      std::string predicate = xpath.substr(i + 1, close - i - 1);
      auto eq = predicate.find('=');
      if (eq != std::string::npos) {
        std::string key = predicate.substr(0, eq);
        std::string value = predicate.substr(eq + 1);
        if (value.size() >= 2 && (value[0] == '\'' || value[0] == '"')) {
          value = value.substr(1, value.size() - 2);
        }
        if (auto colon = key.find(':'); colon != std::string::npos) {
          key = key.substr(colon + 1);
        }
        step.keys.emplace_back(std::move(key), std::move(value));
      }
      i = close + 1;
    }
    if (!step.name.empty()) steps.push_back(std::move(step));
  }
  return steps;
}

bool StepMatches(const Step& spec, const Step& leaf) {
  if (spec.name != "*" && spec.name != leaf.name) return false;
  for (const auto& [key, value] : spec.keys) {
    if (value == "*") continue;
    // An init-capture: clang 14 cannot capture structured bindings.
    auto it = std::find_if(
        leaf.keys.begin(), leaf.keys.end(),
        [&name = key](const auto& kv) { return kv.first == name; });
    if (it == leaf.keys.end() || it->second != value) return false;
  }
  return true;
}

// Whether the subtree a subscription path names contains `leaf`.
bool Covers(const std::vector<Step>& spec, size_t s,
            const std::vector<Step>& leaf, size_t l) {
  if (s == spec.size()) return true;
  if (l == leaf.size()) return false;
  if (spec[s].descendant) {
    for (size_t k = l; k < leaf.size(); ++k) {
      if (StepMatches(spec[s], leaf[k]) && Covers(spec, s + 1, leaf, k + 1)) {
        return true;
      }
    }
    return false;
  }
  return StepMatches(spec[s], leaf[l]) && Covers(spec, s + 1, leaf, l + 1);
}

}  // namespace

struct SubscriberList {
  std::mutex mutex;
  std::vector<std::shared_ptr<SubscriptionState>> states;

  std::vector<std::shared_ptr<SubscriptionState>> Snapshot() {
    std::lock_guard lock(mutex);
    return states;
  }
  void Add(std::shared_ptr<SubscriptionState> state) {
    std::lock_guard lock(mutex);
    states.push_back(std::move(state));
  }
  void Remove(const SubscriptionState* state) {
    std::lock_guard lock(mutex);
    std::erase_if(states, [state](const auto& s) { return s.get() == state; });
  }
};

namespace {

class SimSubscription : public Subscription {
 public:
  SimSubscription(std::shared_ptr<SubscriberList> list,
                  std::shared_ptr<SubscriptionState> state)
      : list_(std::move(list)), state_(std::move(state)) {}
  ~SimSubscription() override {
    list_->Remove(state_.get());
    // Waits for a delivery in progress; none starts afterwards.
    std::lock_guard lock(state_->mutex);
    state_->ended = true;
    state_->sink.reset();
  }

 private:
  std::shared_ptr<SubscriberList> list_;
  std::shared_ptr<SubscriptionState> state_;
};

// Adds to `out` what changed between `spec.last` and `current`, and makes
// `current` the last delivered state. `full` reports every leaf.
void Diff(SpecState& spec, const std::vector<Notification::LeafUpdate>& current,
          bool full, Notification& out) {
  std::map<std::string, std::string> now;
  for (const auto& leaf : current) {
    auto it = spec.last.find(leaf.xpath);
    if (full || it == spec.last.end() || it->second != leaf.json_value) {
      out.updates.push_back(leaf);
    }
    now.emplace(leaf.xpath, leaf.json_value);
  }
  for (const auto& [path, unused] : spec.last) {
    if (!now.contains(path)) out.deletes.push_back(path);
  }
  spec.last = std::move(now);
}

}  // namespace

SimDriver::SimDriver(DeviceSettings settings, DriverContext context,
                     SimOptions options)
    : settings_(std::move(settings)),
      context_(std::move(context)),
      options_(std::move(options)),
      rng_(Fnv1a(settings_.name)),
      subscribers_(std::make_shared<SubscriberList>()),
      generator_signal_(std::make_shared<GeneratorSignal>()) {}

SimDriver::~SimDriver() { Close(); }

void SimDriver::SetError(const absl::Status& status) {
  std::lock_guard lock(status_mutex_);
  status_.state = ConnectionState::kError;
  status_.last_error = std::string(status.message());
}

absl::Status SimDriver::Connect() {
  {
    std::lock_guard lock(thread_mutex_);
    if (thread_.joinable()) return absl::OkStatus();
  }
  {
    std::lock_guard lock(status_mutex_);
    status_.state = ConnectionState::kConnecting;
  }
  auto fail = [&](absl::Status status) {
    status =
        Annotate(status, absl::StrCat("sim device '", settings_.name, "'"));
    spdlog::warn("{}", std::string(status.message()));
    SetError(status);
    return status;
  };
  if (options_.fail_connect) {
    return fail(absl::UnavailableError("connection refused (fail_connect)"));
  }
  if (context_.schemas == nullptr) {
    return fail(absl::FailedPreconditionError("no schema context cache"));
  }
  auto schema = context_.schemas->Get(options_.modules);
  if (!schema.ok()) return fail(schema.status());

  // A reconnect keeps the data (like a device that stayed up).
  bool reuse = false;
  {
    std::shared_lock lock(tree_mutex_);
    reuse = tree_ != nullptr && schema_ == *schema;
  }
  std::unique_ptr<schema::DataTree> tree;
  if (reuse) {
    // keep tree_
  } else if (!options_.seed.empty()) {
    std::ifstream in(options_.seed);
    if (!in) {
      return fail(absl::NotFoundError(
          absl::StrCat("cannot read seed file ", options_.seed)));
    }
    std::stringstream content;
    content << in.rdbuf();
    auto parsed = schema::DataTree::ParseJsonIetf(
        *schema, content.str(), schema::DataTree::Parse::kValidate);
    if (!parsed.ok()) {
      return fail(
          Annotate(parsed.status(), absl::StrCat("seed file ", options_.seed)));
    }
    tree = std::make_unique<schema::DataTree>(*std::move(parsed));
  } else {
    tree = std::make_unique<schema::DataTree>(*schema);
  }

  {
    std::unique_lock lock(tree_mutex_);
    schema_ = *schema;
    if (!reuse) {
      tree_ = std::move(tree);
      pending_commit_.reset();  // it was about the old data
    }
    connected_ = true;
    has_ietf_system_ = has_oc_system_ = false;
    has_ietf_interfaces_ = has_oc_interfaces_ = false;
    for (const ModelInfo& model : schema_->Models()) {
      if (model.name == "ietf-system") has_ietf_system_ = true;
      if (model.name == "openconfig-system") has_oc_system_ = true;
      if (model.name == "ietf-interfaces") has_ietf_interfaces_ = true;
      if (model.name == "openconfig-interfaces") has_oc_interfaces_ = true;
    }
    boot_time_ = SystemClock::now();
    if (has_ietf_system_) {
      (void)tree_->SetLeaf("/ietf-system:system-state/clock/boot-datetime",
                           Rfc3339(boot_time_));
      (void)tree_->SetLeaf("/ietf-system:system-state/clock/current-datetime",
                           Rfc3339(boot_time_));
    }
    if (has_oc_system_) {
      (void)tree_->SetLeaf("/openconfig-system:system/state/boot-time",
                           absl::StrCat(ToNs(boot_time_)));
      (void)tree_->SetLeaf("/openconfig-system:system/state/current-datetime",
                           Rfc3339(boot_time_));
    }
  }
  if (options_.change_rate > 0) {
    std::unique_lock lock(tree_mutex_);
    if (generated_.empty()) {
      const bool ietf = has_ietf_interfaces_;
      if (ietf || has_oc_interfaces_) {
        static const char* const kIetf[] = {"in-octets", "in-unicast-pkts",
                                            "out-octets", "out-unicast-pkts"};
        static const char* const kOc[] = {"in-octets", "in-pkts", "out-octets",
                                          "out-pkts"};
        for (int64_t i = 0; i < options_.change_leaves; ++i) {
          generated_.push_back(
              ietf
                  ? absl::StrCat(
                        "/ietf-interfaces:interfaces-state/interface[name='gen",
                        i / 4, "']/statistics/", kIetf[i % 4])
                  : absl::StrCat(
                        "/openconfig-interfaces:interfaces/interface[name='gen",
                        i / 4, "']/state/counters/", kOc[i % 4]));
        }
        generated_values_.assign(generated_.size(), 0);
      } else {
        spdlog::warn(
            "sim device '{}': change_rate needs ietf-interfaces or "
            "openconfig-interfaces; no changes generated",
            settings_.name);
      }
    }
  }
  {
    std::lock_guard lock(thread_mutex_);
    stop_ = false;
    thread_ = std::thread([this] { Run(); });
    if (options_.change_rate > 0 && !generated_.empty()) {
      {
        std::lock_guard signal_lock(generator_signal_->mutex);
        generator_signal_->stop = false;
      }
      generator_ = std::thread([this] { GenerateLoop(); });
    }
  }
  {
    std::lock_guard lock(status_mutex_);
    status_.state = ConnectionState::kConnected;
    status_.last_error.clear();
  }
  spdlog::info("sim device '{}' connected ({} modules, seed '{}')",
               settings_.name, options_.modules.size(), options_.seed);
  return absl::OkStatus();
}

void SimDriver::Close() {
  std::thread thread;
  std::thread generator;
  {
    std::lock_guard lock(thread_mutex_);
    stop_ = true;
    thread = std::move(thread_);
    generator = std::move(generator_);
  }
  wake_.notify_all();
  {
    std::lock_guard lock(generator_signal_->mutex);
    generator_signal_->stop = true;
  }
  generator_signal_->wake.notify_all();
  if (thread.joinable()) thread.join();
  if (generator.joinable()) generator.join();

  {
    std::unique_lock lock(tree_mutex_);
    connected_ = false;
  }
  // End every live subscription on the driver's side.
  std::vector<std::shared_ptr<SubscriptionState>> states;
  {
    std::lock_guard lock(subscribers_->mutex);
    states.swap(subscribers_->states);
  }
  for (const auto& state : states) {
    std::lock_guard lock(state->mutex);
    if (state->ended) continue;
    state->ended = true;
    state->sink->OnError(absl::UnavailableError(
        absl::StrCat("sim device '", settings_.name, "' closed")));
    state->sink.reset();
  }
  std::lock_guard lock(status_mutex_);
  if (status_.state != ConnectionState::kError) {
    status_.state = ConnectionState::kDisconnected;
  }
}

DeviceStatus SimDriver::Status() const {
  std::lock_guard lock(status_mutex_);
  return status_;
}

std::shared_ptr<const schema::YangContext> SimDriver::Schema() const {
  std::shared_lock lock(tree_mutex_);
  return schema_;
}

std::vector<ModelInfo> SimDriver::Models() const {
  std::shared_lock lock(tree_mutex_);
  if (schema_ == nullptr) return {};
  return schema_->Models();
}

absl::StatusOr<std::string> SimDriver::Get(
    const std::vector<std::string>& xpaths, DataType type) {
  std::shared_lock lock(tree_mutex_);
  if (tree_ == nullptr || !connected_) {
    return absl::UnavailableError(
        absl::StrCat("sim device '", settings_.name, "' is not connected"));
  }
  static const std::vector<std::string> kEverything = {"/*"};
  ASSIGN_OR_RETURN(schema::DataTree selected,
                   tree_->Select(xpaths.empty() ? kEverything : xpaths, type));
  return selected.ToJsonIetf();
}

absl::Status SimDriver::Set(const Transaction& transaction) {
  bool changed = false;
  absl::Status status;
  {
    std::unique_lock lock(tree_mutex_);
    status = SetLocked(transaction, changed);
  }
  const CommitAction::Kind kind = transaction.commit.kind;
  if (status.ok() && (kind == CommitAction::Kind::kCommit ||
                      kind == CommitAction::Kind::kSetRollbackDuration)) {
    Kick();  // a new rollback deadline
  }
  if (changed) PublishChanges();
  return status;
}

absl::Status SimDriver::SetLocked(const Transaction& transaction,
                                  bool& changed) {
  if (tree_ == nullptr || !connected_) {
    return absl::UnavailableError(
        absl::StrCat("sim device '", settings_.name, "' is not connected"));
  }
  // A rollback that is due happens before the request is judged, so that
  // nothing is decided against a commit that has already expired.
  changed = RollBackIfDueLocked(SteadyClock::now());
  const CommitAction& commit = transaction.commit;
  if (commit.kind != CommitAction::Kind::kNone && commit.id.empty()) {
    return absl::InvalidArgumentError("the commit extension needs an id");
  }
  switch (commit.kind) {
    case CommitAction::Kind::kConfirm:
    case CommitAction::Kind::kCancel:
    case CommitAction::Kind::kSetRollbackDuration:
      RETURN_IF_ERROR(transaction.CheckFollowUpHasNoEdits());
      return FollowUpLocked(commit, changed);
    case CommitAction::Kind::kCommit:
      if (pending_commit_) {
        return absl::FailedPreconditionError(absl::StrCat(
            "commit '", pending_commit_->id,
            "' is waiting for confirmation: confirm or cancel it before a new "
            "commit"));
      }
      if (commit.rollback_duration_ms < 0) {
        return absl::InvalidArgumentError("negative rollback_duration");
      }
      break;
    case CommitAction::Kind::kNone:
      if (pending_commit_) {
        return absl::FailedPreconditionError(absl::StrCat(
            "commit '", pending_commit_->id,
            "' is waiting for confirmation: a Set without the commit "
            "extension has to wait until it is confirmed or cancelled"));
      }
      break;
  }

  schema::DataTree candidate = tree_->Clone();
  for (size_t i = 0; i < transaction.edits.size(); ++i) {
    const Edit& edit = transaction.edits[i];
    absl::Status status = candidate.Apply(edit);
    if (!status.ok()) {
      return Annotate(status,
                      absl::StrCat("edit ", i + 1, " (", OpName(edit.op), " ",
                                   edit.xpath, ")"));
    }
  }
  RETURN_IF_ERROR(candidate.Validate());
  // 0 is a plain commit (no rollback), as the driver API defines it.
  if (commit.kind == CommitAction::Kind::kCommit &&
      commit.rollback_duration_ms > 0) {
    pending_commit_.emplace(PendingCommit{
        commit.id, std::move(*tree_),
        SteadyClock::now() +
            std::chrono::milliseconds(commit.rollback_duration_ms)});
    spdlog::info(
        "sim device '{}': commit '{}' applied, rolled back in {} ms unless "
        "confirmed",
        settings_.name, commit.id, commit.rollback_duration_ms);
  }
  *tree_ = std::move(candidate);
  changed = true;
  return absl::OkStatus();
}

absl::Status SimDriver::FollowUpLocked(const CommitAction& commit,
                                       bool& changed) {
  if (!pending_commit_) {
    return absl::FailedPreconditionError(
        "no commit is waiting for confirmation (it was confirmed, cancelled "
        "or has been rolled back)");
  }
  if (commit.id != pending_commit_->id) {
    return absl::InvalidArgumentError(
        absl::StrCat("the commit waiting for confirmation has id '",
                     pending_commit_->id, "', not '", commit.id, "'"));
  }
  switch (commit.kind) {
    case CommitAction::Kind::kConfirm:
      spdlog::info("sim device '{}': commit '{}' confirmed", settings_.name,
                   commit.id);
      pending_commit_.reset();
      return absl::OkStatus();
    case CommitAction::Kind::kCancel:
      RollBackLocked("cancelled");
      changed = true;
      return absl::OkStatus();
    case CommitAction::Kind::kSetRollbackDuration:
      if (commit.rollback_duration_ms <= 0) {
        return absl::InvalidArgumentError(
            "set_rollback_duration needs a positive rollback_duration");
      }
      pending_commit_->deadline =
          SteadyClock::now() +
          std::chrono::milliseconds(commit.rollback_duration_ms);
      return absl::OkStatus();
    default:
      return absl::InternalError("not a follow-up commit action");
  }
}

namespace {

// `config_source`'s configuration with `state_source`'s state data: a
// rollback restores configuration only (counters do not run backwards).
absl::StatusOr<schema::DataTree> ConfigWithState(
    const schema::DataTree& config_source,
    const schema::DataTree& state_source) {
  static const std::vector<std::string> kEverything = {"/*"};
  ASSIGN_OR_RETURN(schema::DataTree restored,
                   config_source.Select(kEverything, DataType::kConfig));
  ASSIGN_OR_RETURN(schema::DataTree state,
                   state_source.Select(kEverything, DataType::kState));
  Edit merge;
  merge.op = Edit::Op::kUpdate;
  merge.xpath = "/";
  ASSIGN_OR_RETURN(merge.document, state.ToJsonIetf());
  RETURN_IF_ERROR(restored.Apply(merge));
  return restored;
}

}  // namespace

void SimDriver::RollBackLocked(const char* why) {
  PendingCommit pending = std::move(*pending_commit_);
  pending_commit_.reset();
  auto restored = tree_->empty() || pending.before.empty()
                      ? absl::StatusOr<schema::DataTree>(pending.before.Clone())
                      : ConfigWithState(pending.before, *tree_);
  if (restored.ok()) {
    *tree_ = std::move(*restored);
  } else {
    // The data exactly as before the commit, state included.
    spdlog::warn(
        "sim device '{}': cannot keep the current state data in the rollback "
        "({}); restoring the data exactly as before the commit",
        settings_.name, restored.status().ToString());
    *tree_ = std::move(pending.before);
  }
  spdlog::info("sim device '{}': commit '{}' {}, rolled back", settings_.name,
               pending.id, why);
}

bool SimDriver::RollBackIfDueLocked(SteadyClock::time_point now) {
  if (!pending_commit_ || pending_commit_->deadline > now) return false;
  RollBackLocked("not confirmed in time");
  return true;
}

SteadyClock::time_point SimDriver::RollBackDue(SteadyClock::time_point now) {
  bool rolled_back = false;
  auto next = SteadyClock::time_point::max();
  {
    std::unique_lock lock(tree_mutex_);
    if (tree_ != nullptr) rolled_back = RollBackIfDueLocked(now);
    if (pending_commit_) next = pending_commit_->deadline;
  }
  if (rolled_back) PublishChanges();
  return next;
}

void SimDriver::Kick() {
  {
    std::lock_guard lock(thread_mutex_);
    kick_ = true;
  }
  wake_.notify_all();
}

absl::StatusOr<std::unique_ptr<Subscription>> SimDriver::Subscribe(
    const std::vector<SubscriptionSpec>& specs,
    std::shared_ptr<NotificationSink> sink) {
  if (sink == nullptr) return absl::InvalidArgumentError("no sink");
  if (specs.empty()) {
    return absl::InvalidArgumentError("subscription without paths");
  }
  if (options_.change_paced && options_.change_rate > 0) {
    sink->SetDemandCallback([signal = generator_signal_] { signal->Demand(); });
  }
  auto state = std::make_shared<SubscriptionState>();
  state->sink = std::move(sink);
  bool has_sample = false;
  const auto now = SteadyClock::now();
  for (const SubscriptionSpec& spec : specs) {
    SpecState spec_state;
    spec_state.spec = spec;
    if (spec.mode == SubscriptionMode::kSample) {
      has_sample = true;
      spec_state.sample_interval =
          spec.sample_interval_ns > 0
              ? SteadyClock::duration(
                    std::chrono::nanoseconds(spec.sample_interval_ns))
              : SteadyClock::duration(kDefaultSampleInterval);
      spec_state.next_sample = now + spec_state.sample_interval;
    }
    state->specs.push_back(std::move(spec_state));
  }

  // Initial values; the state is registered first (under its own lock) so
  // that no change between the snapshot and registration is lost.
  {
    std::lock_guard state_lock(state->mutex);
    Notification initial;
    {
      std::shared_lock lock(tree_mutex_);
      if (tree_ == nullptr || !connected_) {
        return absl::UnavailableError(
            absl::StrCat("sim device '", settings_.name, "' is not connected"));
      }
      for (SpecState& spec : state->specs) {
        auto leaves = tree_->Leaves(spec.spec.xpath);
        if (!leaves.ok()) {
          return Annotate(leaves.status(),
                          absl::StrCat("subscription path ", spec.spec.xpath));
        }
        Diff(spec, *leaves, /*full=*/true, initial);
      }
      if (!generated_.empty()) {
        std::vector<std::vector<Step>> covering;
        for (const SpecState& spec : state->specs) {
          if (spec.spec.mode == SubscriptionMode::kSample) continue;
          covering.push_back(ParseSteps(spec.spec.xpath));
        }
        if (!covering.empty()) {
          state->generated_cover.assign(generated_.size(), false);
          for (size_t i = 0; i < generated_.size(); ++i) {
            const std::vector<Step> leaf = ParseSteps(generated_[i]);
            for (const auto& spec : covering) {
              if (Covers(spec, 0, leaf, 0)) {
                state->generated_cover[i] = true;
                break;
              }
            }
          }
          if (std::find(state->generated_cover.begin(),
                        state->generated_cover.end(),
                        true) == state->generated_cover.end()) {
            state->generated_cover.clear();
          }
        }
      }
    }
    subscribers_->Add(state);
    if (!initial.updates.empty()) {
      initial.timestamp_ns = NowNs();
      state->sink->OnNotification(std::move(initial));
    }
    state->sink->OnSynced();
  }
  if (has_sample) Kick();
  return std::make_unique<SimSubscription>(subscribers_, std::move(state));
}

void SimDriver::PublishChanges() {
  for (const auto& state : subscribers_->Snapshot()) {
    std::lock_guard state_lock(state->mutex);
    if (state->ended) continue;
    Notification notification;
    {
      std::shared_lock lock(tree_mutex_);
      if (tree_ == nullptr) return;
      for (SpecState& spec : state->specs) {
        if (spec.spec.mode == SubscriptionMode::kSample) continue;
        auto leaves = tree_->Leaves(spec.spec.xpath);
        if (!leaves.ok()) continue;  // checked at Subscribe
        Diff(spec, *leaves, /*full=*/false, notification);
      }
    }
    if (notification.updates.empty() && notification.deletes.empty()) continue;
    notification.timestamp_ns = NowNs();
    state->sink->OnNotification(std::move(notification));
  }
}

SteadyClock::time_point SimDriver::SampleDue(SteadyClock::time_point now) {
  auto next = SteadyClock::time_point::max();
  for (const auto& state : subscribers_->Snapshot()) {
    std::lock_guard state_lock(state->mutex);
    if (state->ended) continue;
    Notification notification;
    for (SpecState& spec : state->specs) {
      if (spec.spec.mode != SubscriptionMode::kSample) continue;
      if (spec.next_sample <= now) {
        std::shared_lock lock(tree_mutex_);
        if (tree_ == nullptr) continue;
        auto leaves = tree_->Leaves(spec.spec.xpath);
        if (leaves.ok()) Diff(spec, *leaves, /*full=*/true, notification);
        spec.next_sample += spec.sample_interval;
        if (spec.next_sample <= now)
          spec.next_sample = now + spec.sample_interval;
      }
      next = std::min(next, spec.next_sample);
    }
    if (notification.updates.empty() && notification.deletes.empty()) continue;
    notification.timestamp_ns = NowNs();
    state->sink->OnNotification(std::move(notification));
  }
  return next;
}

void SimDriver::Run() {
  const bool evolving = options_.update_interval_ms > 0;
  const auto interval = std::chrono::milliseconds(options_.update_interval_ms);
  auto next_evolve = SteadyClock::now() + interval;
  std::unique_lock lock(thread_mutex_);
  while (!stop_) {
    kick_ = false;
    lock.unlock();
    auto now = SteadyClock::now();
    if (evolving && now >= next_evolve) {
      EvolveOnce();
      next_evolve += interval;
      now = SteadyClock::now();
      if (next_evolve <= now) next_evolve = now + interval;
    }
    auto deadline = std::min(RollBackDue(now), SampleDue(now));
    if (evolving) deadline = std::min(deadline, next_evolve);
    lock.lock();
    if (deadline == SteadyClock::time_point::max()) {
      wake_.wait(lock, [this] { return stop_ || kick_; });
    } else {
      wake_.wait_until(lock, deadline, [this] { return stop_ || kick_; });
    }
  }
}

void SimDriver::EvolveOnce() {
  {
    std::unique_lock lock(tree_mutex_);
    if (tree_ == nullptr) return;
    EvolveLocked();
  }
  PublishChanges();
}

void SimDriver::EvolveLocked() {
  const auto now = SystemClock::now();
  std::uniform_real_distribution<double> chance(0.0, 1.0);

  auto add = [&](const std::string& path, uint64_t delta) {
    auto value = tree_->LeafValue(path);
    uint64_t counter = 0;
    if (!value.ok() || !absl::SimpleAtoi(*value, &counter)) return;
    (void)tree_->SetLeaf(path, absl::StrCat(counter + delta));
  };

  for (const InterfaceModel& model : kInterfaceModels) {
    // Only the interface models this device implements (and no libyang
    // error per tick for the others).
    const bool openconfig = &model != &kInterfaceModels[0];
    if (openconfig ? !has_oc_interfaces_ : !has_ietf_interfaces_) continue;
    auto interfaces = tree_->Find(model.list);
    if (!interfaces.ok()) continue;
    for (const std::string& interface : *interfaces) {
      const std::string base = interface + "/";
      auto oper = tree_->LeafValue(base + model.oper_status);
      if (!oper.ok()) continue;
      bool up = *oper == model.up;
      auto admin = tree_->LeafValue(base + model.admin_status);
      const bool admin_up = !admin.ok() || *admin == model.up;
      if (admin_up && options_.flap_probability > 0 &&
          chance(rng_) < options_.flap_probability) {
        up = !up;
        (void)tree_->SetLeaf(base + model.oper_status,
                             up ? model.up : model.down);
        (void)tree_->SetLeaf(
            base + model.last_change,
            model.last_change_is_ns ? absl::StrCat(ToNs(now)) : Rfc3339(now));
      }
      if (!up) continue;
      for (const char* direction : {"in", "out"}) {
        const uint64_t packets = 1 + rng_() % 100;
        const uint64_t octets = packets * (64 + rng_() % 1437);
        const std::string prefix =
            absl::StrCat(base, model.counters, direction, "-");
        add(prefix + "unicast-pkts", packets);
        if (model.has_total_pkts) add(prefix + "pkts", packets);
        add(prefix + "octets", octets);
      }
    }
  }

  if (has_ietf_system_) {
    (void)tree_->SetLeaf("/ietf-system:system-state/clock/current-datetime",
                         Rfc3339(now));
  }
  if (has_oc_system_) {
    (void)tree_->SetLeaf("/openconfig-system:system/state/current-datetime",
                         Rfc3339(now));
    (void)tree_->SetLeaf(
        "/openconfig-system:system/state/up-time",
        absl::StrCat(std::chrono::duration_cast<std::chrono::nanoseconds>(
                         now - boot_time_)
                         .count()));
  }
}

void SimDriver::GenerateLoop() {
  const size_t leaves = generated_.size();
  const int64_t rate = options_.change_rate;
  const size_t batch = static_cast<size_t>(options_.change_batch);
  const bool paced = options_.change_paced;
  GeneratorSignal& signal = *generator_signal_;
  const auto start = SteadyClock::now();
  int64_t emitted = 0;
  size_t cursor = 0;
  std::vector<size_t> changed;
  changed.reserve(batch);
  // Unpaced: ticks of 100 us spread the changes over time (a real device
  // does not change in 1 ms bursts); without subscribers it idles at 1 ms
  // ticks. Paced: one batch per demand, or per millisecond without any.
  bool busy = false;
  std::unique_lock lock(signal.mutex);
  while (!signal.stop) {
    if (paced) {
      if (!signal.demand) {
        signal.sleeping = true;
        signal.wake.wait_for(lock, std::chrono::milliseconds(1), [&signal] {
          return signal.stop || signal.demand;
        });
        signal.sleeping = false;
      }
      signal.demand = false;
    } else {
      signal.wake.wait_for(lock,
                           busy ? std::chrono::microseconds(100)
                                : std::chrono::microseconds(1000),
                           [&signal] { return signal.stop; });
    }
    if (signal.stop) break;
    lock.unlock();
    const double elapsed =
        std::chrono::duration<double>(SteadyClock::now() - start).count();
    int64_t due =
        static_cast<int64_t>(elapsed * static_cast<double>(rate)) - emitted;
    // Behind by more than 5 ms (the machine cannot keep up with the rate):
    // drop the backlog rather than bursting, and keep pausing between ticks
    // so that the threads consuming the changes get their locks too.
    const int64_t max_due = rate / 200 + static_cast<int64_t>(batch);
    if (due > max_due) {
      emitted += due - max_due;
      due = max_due;
    }
    int64_t batches = due / static_cast<int64_t>(batch);
    if (paced) {
      if (batches == 0) {
        // Over the rate: keep the demand and come back in 100 us.
        lock.lock();
        signal.demand = true;
        signal.wake.wait_for(lock, std::chrono::microseconds(100),
                             [&signal] { return signal.stop; });
        continue;
      }
      batches = 1;  // a consumer takes at most one batch's leaves per write
    }
    if (batches > 0) {
      auto states = subscribers_->Snapshot();
      std::erase_if(states, [](const auto& state) {
        return state->generated_cover.empty();
      });
      busy = !states.empty();
      for (int64_t b = 0; b < batches; ++b) {
        changed.clear();
        for (size_t k = 0; k < batch; ++k) {
          changed.push_back(cursor);
          ++generated_values_[cursor];
          cursor = (cursor + 1) % leaves;
        }
        const int64_t now_ns = NowNs();
        for (const auto& state : states) {
          std::lock_guard state_lock(state->mutex);
          if (state->ended) continue;
          Notification notification;
          notification.timestamp_ns = now_ns;
          notification.updates.reserve(changed.size());
          for (size_t index : changed) {
            if (!state->generated_cover[index]) continue;
            notification.updates.push_back(Notification::LeafUpdate{
                generated_[index],
                absl::StrCat("\"", generated_values_[index], "\"")});
          }
          if (notification.updates.empty()) continue;
          state->sink->OnNotification(std::move(notification));
        }
      }
      emitted += batches * static_cast<int64_t>(batch);
    }
    lock.lock();
  }
}

absl::StatusOr<std::unique_ptr<Driver>> CreateSimDriver(
    const DeviceSettings& settings, const DriverContext& context) {
  auto options = ParseSimOptions(settings.options_json);
  if (!options.ok()) {
    return Annotate(options.status(),
                    absl::StrCat("device '", settings.name, "'"));
  }
  return std::make_unique<SimDriver>(settings, context, *std::move(options));
}

}  // namespace southgate::drivers::sim
