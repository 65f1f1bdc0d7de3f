#include "drivers/netconf/change_listener.h"

#include <algorithm>
#include <random>

#include "absl/strings/match.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace southgate::drivers::netconf {
namespace {

int64_t WallNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Whether `path` is `prefix` or a node below it.
bool IsAtOrBelow(const std::string& path, const std::string& prefix) {
  if (!absl::StartsWith(path, prefix)) return false;
  if (path.size() == prefix.size()) return true;
  char next = path[prefix.size()];
  return next == '/' || next == '[' || prefix == "/";
}

// The node names of a data path, without module prefixes or predicates
// ("*" stays): what two paths are compared by when keys or prefixes differ.
std::vector<std::string> StepNames(const std::string& path) {
  std::vector<std::string> steps;
  std::string current;
  int depth = 0;
  char quote = 0;
  for (char c : path) {
    if (quote) {
      if (c == quote) quote = 0;
      continue;
    }
    if (depth > 0) {
      if (c == '\'' || c == '"') quote = c;
      if (c == '[') ++depth;
      if (c == ']') --depth;
      continue;
    }
    if (c == '[') {
      ++depth;
    } else if (c == '/') {
      if (!current.empty()) steps.push_back(current);
      current.clear();
    } else if (c == ':') {
      current.clear();  // module prefix
    } else {
      current += c;
    }
  }
  if (!current.empty()) steps.push_back(current);
  return steps;
}

}  // namespace

std::optional<ConfigChange> ParseConfigChange(const std::string& json) {
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, false);
  if (!doc.is_object()) return std::nullopt;
  auto it = doc.find("ietf-netconf-notifications:netconf-config-change");
  if (it == doc.end() || !it->is_object()) return std::nullopt;
  const nlohmann::json& change = *it;
  // RFC 6470: the datastore defaults to running; startup changes do not
  // touch what clients read.
  if (auto ds = change.find("datastore");
      ds != change.end() && ds->is_string() && *ds != "running") {
    return std::nullopt;
  }
  ConfigChange result;
  auto edits = change.find("edit");
  if (edits == change.end() || !edits->is_array() || edits->empty()) {
    result.everything = true;  // a change, place unknown
    return result;
  }
  for (const auto& edit : *edits) {
    auto target = edit.find("target");
    if (target == edit.end() || !target->is_string()) {
      result.everything = true;
      continue;
    }
    result.paths.push_back(target->get<std::string>());
  }
  return result;
}

PathOverlap Overlap(const std::string& subscribed, const std::string& changed) {
  const bool plain = subscribed.find('*') == std::string::npos &&
                     subscribed.find("//") == std::string::npos;
  if (plain && subscribed != "/" && IsAtOrBelow(changed, subscribed)) {
    return PathOverlap::kChangeInside;
  }
  if (subscribed.find("//") != std::string::npos) {
    return PathOverlap::kOverlapping;
  }
  std::vector<std::string> a = StepNames(subscribed);
  std::vector<std::string> b = StepNames(changed);
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    if (a[i] != b[i] && a[i] != "*" && b[i] != "*") return PathOverlap::kNone;
  }
  return PathOverlap::kOverlapping;
}

ChangeListener::ChangeListener(std::string log_name, Opener opener,
                               const NetconfOptions& options)
    : log_name_(std::move(log_name)),
      opener_(std::move(opener)),
      options_(options) {}

ChangeListener::~ChangeListener() { Stop(); }

int ChangeListener::Add(Handler handler) {
  int id;
  {
    std::lock_guard<std::mutex> lock(handlers_mutex_);
    id = next_id_++;
    handlers_[id] = std::move(handler);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (!thread_.joinable() && !stopping_) {
    thread_ = std::thread([this] { Run(); });
  }
  return id;
}

void ChangeListener::Remove(int id) {
  std::lock_guard<std::mutex> lock(handlers_mutex_);
  handlers_.erase(id);
}

void ChangeListener::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool ChangeListener::WaitSubscribed(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return cv_.wait_for(lock, timeout, [this] {
    return stopping_ || subscribed_.load();
  }) && !stopping_;
}

bool ChangeListener::Sleep(std::chrono::milliseconds delay) {
  std::unique_lock<std::mutex> lock(mutex_);
  return !cv_.wait_for(lock, delay, [this] { return stopping_; });
}

bool ChangeListener::Dispatch(const ConfigChange& change) {
  std::lock_guard<std::mutex> lock(handlers_mutex_);
  bool ok = true;
  for (auto& [id, handler] : handlers_) ok = handler(change) && ok;
  return ok;
}

void ChangeListener::Run() {
  std::mt19937_64 random(std::random_device{}());
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  // Short waits so that Stop never waits long for the thread.
  constexpr std::chrono::milliseconds kReceiveSlice(200);
  std::unique_ptr<southgate::netconf::NotificationSession> session;
  auto delay = options_.backoff_initial;
  constexpr auto kNever = std::chrono::steady_clock::time_point::max();
  auto next_resync = kNever;
  // A re-read that failed (the RPC session is reconnecting) is retried.
  auto retry_at = kNever;
  ConfigChange everything;
  everything.everything = true;
  auto dispatch = [&](const ConfigChange& change) {
    if (!Dispatch(change)) {
      retry_at = std::chrono::steady_clock::now() + options_.backoff_initial;
    }
  };
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
    }
    if (!session) {
      auto opened = opener_();
      if (!opened.ok()) {
        auto wait = std::chrono::milliseconds(
            static_cast<int64_t>(delay.count() * jitter(random)));
        spdlog::warn("{}: notification session: {}; retrying in {} ms",
                     log_name_, std::string(opened.status().message()),
                     wait.count());
        if (!Sleep(wait)) return;
        delay = std::min(options_.backoff_max,
                         std::chrono::milliseconds(static_cast<int64_t>(
                             delay.count() * options_.backoff_multiplier)));
        continue;
      }
      session = std::move(opened).value();
      {
        std::lock_guard<std::mutex> lock(mutex_);
        subscribed_ = true;
      }
      cv_.notify_all();
      delay = options_.backoff_initial;
      spdlog::info(
          "{}: notification session {} subscribed to the NETCONF stream",
          log_name_, session->id());
      // Changes made while no session was subscribed went unannounced.
      dispatch(everything);
      if (options_.notification_resync_interval.count() > 0) {
        next_resync = std::chrono::steady_clock::now() +
                      options_.notification_resync_interval;
      }
    }
    auto received = session->Receive(kReceiveSlice);
    if (!received.ok()) {
      if (received.status().code() == absl::StatusCode::kUnavailable) {
        spdlog::warn("{}: {}; re-subscribing", log_name_,
                     std::string(received.status().message()));
        session.reset();
        subscribed_ = false;
        if (!Sleep(delay)) return;
        continue;
      }
      spdlog::warn("{}: {}; re-reading every ON_CHANGE path", log_name_,
                   std::string(received.status().message()));
      dispatch(everything);
    } else if (received->has_value()) {
      spdlog::debug("{}: notification {}", log_name_, **received);
      if (auto change = ParseConfigChange(**received)) {
        ++config_changes_;
        dispatch(*change);
      }
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_resync || now >= retry_at) {
      retry_at = kNever;
      if (now >= next_resync) {
        next_resync = now + options_.notification_resync_interval;
      }
      dispatch(everything);
    }
  }
}

ChangeSubscription::ChangeSubscription(
    std::vector<SubscriptionSpec> specs, std::shared_ptr<NotificationSink> sink,
    Fetcher fetch, std::shared_ptr<ChangeListener> listener,
    std::chrono::milliseconds wait_for_listener)
    : wait_for_listener_(wait_for_listener),
      sink_(std::move(sink)),
      fetch_(std::move(fetch)),
      listener_(std::move(listener)) {
  for (auto& spec : specs) specs_.push_back(Spec{std::move(spec.xpath), {}});
}

ChangeSubscription::~ChangeSubscription() {
  if (handler_id_ != 0) listener_->Remove(handler_id_);
}

absl::Status ChangeSubscription::Start() {
  // Registered before the first read: a change racing with it is read
  // again afterwards instead of being lost.
  std::lock_guard<std::mutex> lock(mutex_);
  handler_id_ = listener_->Add(
      [this](const ConfigChange& change) { return OnChange(change); });
  // Synced means changes from here on are announced: wait (bounded) for the
  // notification session. If it is late, its first re-read catches up.
  if (!listener_->WaitSubscribed(wait_for_listener_)) {
    spdlog::warn(
        "ON_CHANGE: the device's notification session is not up yet; "
        "changes are read once it is");
  }
  Notification initial;
  for (Spec& spec : specs_) {
    absl::Status status = Refresh(spec, spec.xpath, /*full=*/true, initial);
    if (!status.ok()) return status;
  }
  if (!initial.updates.empty()) {
    initial.timestamp_ns = WallNs();
    sink_->OnNotification(std::move(initial));
  }
  sink_->OnSynced();
  return absl::OkStatus();
}

absl::Status ChangeSubscription::Refresh(Spec& spec,
                                         const std::string& read_path,
                                         bool full, Notification& out) {
  auto tree = fetch_({read_path});
  if (!tree.ok()) return tree.status();
  auto leaves = tree->Leaves(read_path);
  if (!leaves.ok()) return leaves.status();
  std::map<std::string, std::string> now;
  for (auto& leaf : *leaves) {
    auto it = spec.last.find(leaf.xpath);
    if (full || it == spec.last.end() || it->second != leaf.json_value) {
      out.updates.push_back(leaf);
    }
    now[leaf.xpath] = leaf.json_value;
  }
  // Leaves under the re-read node that are gone were deleted.
  const bool whole = read_path == spec.xpath;
  for (auto it = spec.last.begin(); it != spec.last.end();) {
    if ((whole || IsAtOrBelow(it->first, read_path)) && !now.count(it->first)) {
      out.deletes.push_back(it->first);
      it = spec.last.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [path, value] : now) spec.last[path] = std::move(value);
  return absl::OkStatus();
}

bool ChangeSubscription::OnChange(const ConfigChange& change) {
  std::lock_guard<std::mutex> lock(mutex_);
  Notification notification;
  bool ok = true;
  for (Spec& spec : specs_) {
    bool whole = change.everything;
    std::vector<std::string> parts;
    for (const std::string& path : change.paths) {
      switch (Overlap(spec.xpath, path)) {
        case PathOverlap::kNone:
          break;
        case PathOverlap::kChangeInside:
          parts.push_back(path);
          break;
        case PathOverlap::kOverlapping:
          whole = true;
          break;
      }
    }
    absl::Status status;
    if (whole) {
      status = Refresh(spec, spec.xpath, false, notification);
    } else {
      for (const std::string& part : parts) {
        status = Refresh(spec, part, false, notification);
        if (!status.ok()) break;
      }
    }
    // The device is away: the listener retries with a full re-read.
    if (!status.ok()) {
      ok = false;
      spdlog::debug("ON_CHANGE re-read of {} failed: {}", spec.xpath,
                    std::string(status.message()));
    }
  }
  if (!notification.updates.empty() || !notification.deletes.empty()) {
    notification.timestamp_ns = WallNs();
    sink_->OnNotification(std::move(notification));
  }
  return ok;
}

}  // namespace southgate::drivers::netconf
