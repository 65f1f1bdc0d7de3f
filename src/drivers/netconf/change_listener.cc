#include "drivers/netconf/change_listener.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

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

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kNever = Clock::time_point::max();

// The one thread of the process that waits for notifications: poll(2) on
// every listener's socket (and an eventfd to be woken when the set
// changes), then a Service() turn for each. Listeners are held weakly.
class NotificationPoller {
 public:
  static NotificationPoller& Get() {
    static NotificationPoller poller;
    return poller;
  }

  void Add(const std::shared_ptr<ChangeListener>& listener) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      listeners_.push_back({listener.get(), listener});
      if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
    }
    Wake();
  }

  // Once this returns, no Service() of `listener` runs or will run.
  void Remove(const ChangeListener* listener) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      // By address: locking the weak pointers here could make this the
      // last owner of another listener, destroyed under mutex_.
      listeners_.erase(std::remove_if(listeners_.begin(), listeners_.end(),
                                      [&](const Entry& entry) {
                                        return entry.raw == listener ||
                                               entry.weak.expired();
                                      }),
                       listeners_.end());
    }
    if (std::this_thread::get_id() == thread_id_) return;  // in a turn
    std::lock_guard<std::mutex> wait(round_mutex_);
  }

  void Wake() {
    uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof(one));
  }

  ~NotificationPoller() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    Wake();
    if (thread_.joinable()) thread_.join();
    close(wake_fd_);
  }

 private:
  NotificationPoller() : wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

  void Run() {
    thread_id_ = std::this_thread::get_id();
    while (true) {
      std::vector<std::shared_ptr<ChangeListener>> round;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) return;
        for (const Entry& entry : listeners_)
          if (auto strong = entry.weak.lock()) {
            round.push_back(std::move(strong));
          }
      }
      std::vector<pollfd> fds(1 + round.size());
      fds[0] = pollfd{wake_fd_, POLLIN, 0};
      {
        std::lock_guard<std::mutex> turn(round_mutex_);
        for (size_t i = 0; i < round.size(); ++i) {
          fds[1 + i] = pollfd{round[i]->PollFd(), POLLIN, 0};
        }
      }
      // Timers (open, resync, retries) are checked at least this often.
      poll(fds.data(), fds.size(), 100);
      if (fds[0].revents & POLLIN) {
        uint64_t count;
        (void)!read(wake_fd_, &count, sizeof(count));
      }
      {
        std::lock_guard<std::mutex> turn(round_mutex_);
        for (size_t i = 0; i < round.size(); ++i) {
          {
            // Skip listeners removed since the snapshot.
            std::lock_guard<std::mutex> lock(mutex_);
            bool present = false;
            for (const Entry& entry : listeners_)
              if (entry.raw == round[i].get()) present = true;
            if (!present) continue;
          }
          round[i]->Service(
              (fds[1 + i].revents & (POLLIN | POLLHUP | POLLERR)) != 0);
        }
      }
      // `round` is released here, outside round_mutex_: a last reference
      // may run a listener's destructor (which calls Remove).
    }
  }

  const int wake_fd_;
  std::mutex mutex_;
  struct Entry {
    const ChangeListener* raw;
    std::weak_ptr<ChangeListener> weak;
  };
  std::vector<Entry> listeners_;
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<std::thread::id> thread_id_{};
  std::mutex round_mutex_;  // held during a round of Service() calls
};

}  // namespace

ChangeListener::ChangeListener(std::string log_name, Opener opener,
                               const NetconfOptions& options, Executor& work,
                               Executor& connects)
    : log_name_(std::move(log_name)),
      opener_(std::move(opener)),
      options_(options),
      connects_(connects),
      dispatch_(work),
      delay_(options.backoff_initial),
      next_resync_(kNever),
      retry_at_(kNever) {}

ChangeListener::~ChangeListener() { Stop(); }

int ChangeListener::Add(Handler handler) {
  int id;
  {
    std::lock_guard<std::mutex> lock(handlers_mutex_);
    id = next_id_++;
    handlers_[id] = std::move(handler);
  }
  bool join = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!stopped_ && !polled_) join = polled_ = true;
  }
  if (join) {
    NotificationPoller::Get().Add(shared_from_this());
  } else {
    NotificationPoller::Get().Wake();
  }
  return id;
}

void ChangeListener::Remove(int id) {
  std::lock_guard<std::mutex> lock(handlers_mutex_);
  handlers_.erase(id);
}

bool ChangeListener::HasHandlers() {
  std::lock_guard<std::mutex> lock(handlers_mutex_);
  return !handlers_.empty();
}

void ChangeListener::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
  }
  cv_.notify_all();
  // An open in progress ends at once instead of holding a connects thread
  // (and the device's set-up lock) for its full timeouts.
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (open_cancel_) open_cancel_->Cancel();
  }
  NotificationPoller::Get().Remove(this);
  dispatch_.Close();
  std::unique_ptr<southgate::netconf::NotificationSession> opened;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    opened = std::move(opened_);
  }
  session_.reset();
  subscribed_ = false;
}

bool ChangeListener::WaitSubscribed(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return cv_.wait_for(lock, timeout, [this] {
    return stopped_ || subscribed_.load();
  }) && !stopped_;
}

int ChangeListener::PollFd() { return session_ ? session_->socket_fd() : -1; }

std::chrono::milliseconds ChangeListener::OpenDeadline() const {
  return 3 * options_.ssh.connect_timeout + options_.rpc_timeout +
         std::chrono::seconds(1);
}

void ChangeListener::Open(
    std::shared_ptr<southgate::netconf::ConnectCancel> cancel) {
  auto opened = opener_(cancel.get());
  std::unique_ptr<southgate::netconf::NotificationSession> drop;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    opening_ = false;
    if (open_cancel_ == cancel) open_cancel_.reset();
    if (opened.ok()) {
      if (stopped_) {
        drop = std::move(opened).value();
      } else {
        opened_ = std::move(opened).value();
      }
    } else if (!stopped_) {
      static thread_local std::mt19937_64 random(std::random_device{}());
      std::uniform_real_distribution<double> jitter(0.8, 1.2);
      auto wait = std::chrono::milliseconds(
          static_cast<int64_t>(delay_.count() * jitter(random)));
      spdlog::warn("{}: notification session: {}; retrying in {} ms", log_name_,
                   std::string(opened.status().message()), wait.count());
      next_open_ = Clock::now() + wait;
      delay_ = std::min(options_.backoff_max,
                        std::chrono::milliseconds(static_cast<int64_t>(
                            delay_.count() * options_.backoff_multiplier)));
    }
  }
  NotificationPoller::Get().Wake();
}

void ChangeListener::PostDispatch(const ConfigChange& change) {
  dispatch_.Post([this, change] {
    bool ok = true;
    {
      std::lock_guard<std::mutex> lock(handlers_mutex_);
      for (auto& [id, handler] : handlers_) ok = handler(change) && ok;
    }
    if (!ok) {
      std::lock_guard<std::mutex> lock(mutex_);
      retry_at_ = Clock::now() + options_.backoff_initial;
    }
  });
}

void ChangeListener::Service(bool readable) {
  ConfigChange everything;
  everything.everything = true;
  const auto now = Clock::now();
  const bool wanted = HasHandlers();
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (stopped_) return;
    if (opened_) {
      session_ = std::move(opened_);
      delay_ = options_.backoff_initial;
      subscribed_ = true;
      lock.unlock();
      cv_.notify_all();
      spdlog::info(
          "{}: notification session {} subscribed to the NETCONF stream",
          log_name_, session_->id());
      // Changes made while no session was subscribed went unannounced.
      PostDispatch(everything);
      next_resync_ = options_.notification_resync_interval.count() > 0
                         ? now + options_.notification_resync_interval
                         : kNever;
      readable = true;
    } else if (!session_ && wanted && !opening_ && now >= next_open_) {
      opening_ = true;
      opening_since_ = now;
      auto cancel = std::make_shared<southgate::netconf::ConnectCancel>();
      open_cancel_ = cancel;
      std::weak_ptr<ChangeListener> weak = weak_from_this();
      connects_.Post([weak, cancel] {
        if (auto self = weak.lock()) self->Open(cancel);
      });
      return;
    } else if (opening_ && open_cancel_ &&
               now - opening_since_ > OpenDeadline() &&
               !open_cancel_->cancelled()) {
      // Every step of an open has its own timeout; one that still runs
      // is stuck (seen under heavy load): abandon it, Open() then fails
      // and the next attempt follows with backoff.
      spdlog::warn(
          "{}: opening the notification session takes over {} ms; "
          "abandoning it",
          log_name_, OpenDeadline().count());
      open_cancel_->Cancel();
      return;
    }
  }
  if (!session_) return;
  if (!wanted) {
    // The last ON_CHANGE subscription is gone: so is the session.
    spdlog::info("{}: notification session closed (no ON_CHANGE left)",
                 log_name_);
    session_.reset();
    subscribed_ = false;
    return;
  }
  // libssh may hold messages already read from the socket: sweep now and
  // then even without readability.
  if (readable || now >= next_sweep_) {
    next_sweep_ = now + std::chrono::seconds(1);
    // Bounded, so that one chatty device cannot hold the poller.
    for (int i = 0; i < 64; ++i) {
      auto received = session_->Receive(std::chrono::milliseconds(0));
      if (!received.ok()) {
        if (received.status().code() == absl::StatusCode::kUnavailable) {
          spdlog::warn("{}: {}; re-subscribing", log_name_,
                       std::string(received.status().message()));
          session_.reset();
          subscribed_ = false;
          std::lock_guard<std::mutex> lock(mutex_);
          next_open_ = now + delay_;
          return;
        }
        spdlog::warn("{}: {}; re-reading every ON_CHANGE path", log_name_,
                     std::string(received.status().message()));
        PostDispatch(everything);
        continue;
      }
      if (!received->has_value()) break;
      spdlog::debug("{}: notification {}", log_name_, **received);
      if (auto change = ParseConfigChange(**received)) {
        ++config_changes_;
        PostDispatch(*change);
      }
    }
  }
  bool resync = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (now >= retry_at_) {
      retry_at_ = kNever;
      resync = true;
    }
  }
  if (now >= next_resync_) {
    next_resync_ = now + options_.notification_resync_interval;
    resync = true;
  }
  if (resync) PostDispatch(everything);
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
