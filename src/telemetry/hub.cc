#include "telemetry/hub.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/time.h"
#include "schema/data_tree.h"
#include "spdlog/spdlog.h"

namespace southgate::telemetry {

class Upstream {
 public:
  Upstream(Hub* hub, Hub::Key key,
           std::shared_ptr<const schema::GnmiTranslator> translator)
      : hub(hub), key(std::move(key)), translator(std::move(translator)) {}

  void OnNotification(Notification notification);
  void OnSynced();
  void OnError(const absl::Status& status);
  // Drops the cache (the upstream is leaving); caller holds `mutex`.
  void ClearLocked() {
    hub->cached_leaves_.fetch_sub(static_cast<int64_t>(cache.size()),
                                  std::memory_order_relaxed);
    cache.clear();
  }

  Hub* const hub;
  const Hub::Key key;
  const std::shared_ptr<const schema::GnmiTranslator> translator;

  // Demand (NotificationSink::SetDemandCallback): listeners that asked for
  // more since the last notification; when half of them have (at least
  // one), the driver's `wake` is called.
  void ListenerHungry() {
    const int now = hungry.fetch_add(1, std::memory_order_acq_rel) + 1;
    if (now != hungry_needed.load(std::memory_order_relaxed)) return;
    std::lock_guard lock(wake_mutex);
    if (wake) wake();
  }
  void SetWake(std::function<void()> callback) {
    std::lock_guard lock(wake_mutex);
    wake = std::move(callback);
  }
  // Caller holds `mutex`.
  void ListenersChangedLocked() {
    hungry_needed.store(
        std::max<int>(1, static_cast<int>(listeners.size() + 1) / 2),
        std::memory_order_relaxed);
  }

  std::mutex mutex;
  std::vector<Listener*> listeners;
  std::atomic<int> hungry{0};
  std::atomic<int> hungry_needed{1};
  std::mutex wake_mutex;
  std::function<void()> wake;
  // The leaf cache of this subscription: data path -> latest value.
  absl::flat_hash_map<std::string, LeafPtr> cache;
  bool synced = false;
  bool dead = false;
  std::unique_ptr<Subscription> subscription;
  // Set when the driver cannot push and the hub polls it instead.
  std::shared_ptr<devices::Device> polled_device;
  std::chrono::steady_clock::duration poll_every{};
  std::chrono::steady_clock::time_point next_poll{};

 private:
  // A passed-through value; 1 when it adds a leaf to the cache.
  int64_t AddNative(Notification::LeafUpdate& update, int64_t timestamp,
                    std::vector<LeafPtr>& out) {
    auto it = cache.find(update.xpath);
    if (it != cache.end()) {
      auto leaf = Leaf::Native(it->second->path_ptr(),
                               std::move(update.native_update), timestamp);
      it->second = leaf;
      out.push_back(std::move(leaf));
      return 0;
    }
    gnmi::Update parsed;
    if (!parsed.ParseFromString(update.native_update)) {
      spdlog::debug("telemetry: ignoring an unparsable native update");
      return 0;
    }
    auto info = std::make_shared<PathInfo>();
    info->xpath = update.xpath;
    info->path_bytes = parsed.path().SerializeAsString();
    auto leaf = Leaf::Native(std::move(info), std::move(update.native_update),
                             timestamp);
    cache.emplace(std::move(update.xpath), leaf);
    out.push_back(std::move(leaf));
    return 1;
  }

  std::shared_ptr<const PathInfo> MakePath(std::string xpath) {
    auto path = translator->ToGnmiPath(xpath);
    if (!path.ok()) {
      spdlog::debug("telemetry: ignoring {}: {}", xpath,
                    std::string(path.status().message()));
      return nullptr;
    }
    auto info = std::make_shared<PathInfo>();
    info->xpath = std::move(xpath);
    info->path_bytes = path->SerializeAsString();
    return info;
  }
};

namespace {

// The driver's view of an Upstream. Weak: the driver may keep its sink a
// little longer than the upstream lives.
class UpstreamSink final : public NotificationSink {
 public:
  explicit UpstreamSink(std::weak_ptr<Upstream> upstream)
      : upstream_(std::move(upstream)) {}
  void OnNotification(Notification notification) override {
    if (auto upstream = upstream_.lock()) {
      upstream->OnNotification(std::move(notification));
    }
  }
  void OnSynced() override {
    if (auto upstream = upstream_.lock()) upstream->OnSynced();
  }
  void OnError(absl::Status status) override {
    if (auto upstream = upstream_.lock()) upstream->OnError(status);
  }
  void SetDemandCallback(std::function<void()> wake) override {
    if (auto upstream = upstream_.lock()) upstream->SetWake(std::move(wake));
  }

 private:
  std::weak_ptr<Upstream> upstream_;
};

// What a polled upstream holds instead of a driver subscription.
class PolledSubscription final : public Subscription {};

}  // namespace

void Upstream::OnNotification(Notification notification) {
  const int64_t timestamp =
      notification.timestamp_ns > 0 ? notification.timestamp_ns : NowNanos();
  std::lock_guard lock(mutex);
  if (dead) return;
  std::vector<LeafPtr> out;
  out.reserve(notification.updates.size() + notification.deletes.size());
  int64_t added = 0;
  for (Notification::LeafUpdate& update : notification.updates) {
    if (!update.native_update.empty()) {
      added += AddNative(update, timestamp, out);
      continue;
    }
    auto it = cache.find(update.xpath);
    if (it != cache.end()) {
      auto leaf = std::make_shared<const Leaf>(it->second->path_ptr(),
                                               std::move(update.json_value),
                                               timestamp, false);
      it->second = leaf;
      out.push_back(std::move(leaf));
      continue;
    }
    auto path = MakePath(update.xpath);
    if (path == nullptr) continue;
    auto leaf = std::make_shared<const Leaf>(
        std::move(path), std::move(update.json_value), timestamp, false);
    cache.emplace(std::move(update.xpath), leaf);
    out.push_back(std::move(leaf));
    ++added;
  }
  for (std::string& xpath : notification.deletes) {
    std::shared_ptr<const PathInfo> path;
    if (auto it = cache.find(xpath); it != cache.end()) {
      path = it->second->path_ptr();
      cache.erase(it);
      --added;
    } else {
      path = MakePath(std::move(xpath));
      if (path == nullptr) continue;
    }
    out.push_back(std::make_shared<const Leaf>(std::move(path), std::string(),
                                               timestamp, true));
  }
  for (Notification::NativeDelete& gone : notification.native_deletes) {
    std::shared_ptr<const PathInfo> path;
    if (auto it = cache.find(gone.key); it != cache.end()) {
      path = it->second->path_ptr();
      cache.erase(it);
      --added;
    } else {
      auto info = std::make_shared<PathInfo>();
      info->xpath = std::move(gone.key);
      info->path_bytes = std::move(gone.path);
      path = std::move(info);
    }
    out.push_back(std::make_shared<const Leaf>(std::move(path), std::string(),
                                               timestamp, true));
  }
  if (added != 0) {
    hub->cached_leaves_.fetch_add(added, std::memory_order_relaxed);
  }
  if (out.empty()) return;
  // Before delivering: a listener may take these and ask again at once.
  hungry.store(0, std::memory_order_release);
  for (Listener* listener : listeners) listener->OnLeaves(out);
}

void Upstream::OnSynced() {
  std::lock_guard lock(mutex);
  if (dead || synced) return;
  synced = true;
  for (Listener* listener : listeners) listener->OnSynced();
}

void Upstream::OnError(const absl::Status& status) {
  hub->Forget(this);
  std::lock_guard lock(mutex);
  if (dead) return;
  dead = true;
  ClearLocked();
  spdlog::info("telemetry: subscription {} on '{}' ended by the driver: {}",
               std::get<1>(key), std::get<0>(key),
               std::string(status.message()));
  for (Listener* listener : listeners) listener->OnError(status);
}

Membership::~Membership() { upstream_->hub->Leave(upstream_, listener_); }

void Membership::AskForMore() { upstream_->ListenerHungry(); }

std::vector<LeafPtr> Membership::Snapshot() const {
  std::lock_guard lock(upstream_->mutex);
  std::vector<LeafPtr> leaves;
  leaves.reserve(upstream_->cache.size());
  for (const auto& [unused, leaf] : upstream_->cache) leaves.push_back(leaf);
  return leaves;
}

Hub::Hub(HubOptions options)
    : options_(options),
      reaper_([this] { ReapLoop(); }),
      poller_([this] { PollLoop(); }) {}

absl::Status Hub::PollOnce(Upstream& upstream) {
  const std::string& xpath = std::get<1>(upstream.key);
  auto document = upstream.polled_device->driver().Get({xpath}, DataType::kAll);
  absl::StatusOr<std::vector<Notification::LeafUpdate>> leaves;
  if (document.ok()) {
    auto tree = schema::DataTree::ParseJsonIetf(
        upstream.translator->context(), *document,
        schema::DataTree::Parse::kPartial);
    leaves = tree.ok() ? tree->Leaves(xpath) : tree.status();
  } else {
    leaves = document.status();
  }
  if (!leaves.ok()) {
    spdlog::debug("telemetry: polling {} on '{}': {}", xpath,
                  std::get<0>(upstream.key),
                  std::string(leaves.status().message()));
    return leaves.status();  // keep the last values; try again next time
  }
  // The difference from what the cache holds is the change.
  Notification changes;
  changes.timestamp_ns = NowNanos();
  {
    std::lock_guard lock(upstream.mutex);
    if (upstream.dead) return absl::OkStatus();
    absl::flat_hash_map<std::string_view, bool> present;
    for (Notification::LeafUpdate& leaf : *leaves) {
      auto it = upstream.cache.find(leaf.xpath);
      if (it == upstream.cache.end() || it->second->json() != leaf.json_value) {
        changes.updates.push_back(leaf);
      }
    }
    for (const auto& leaf : *leaves) present[leaf.xpath] = true;
    for (const auto& [path, unused] : upstream.cache) {
      if (!present.contains(path)) changes.deletes.push_back(path);
    }
  }
  if (!changes.updates.empty() || !changes.deletes.empty()) {
    upstream.OnNotification(std::move(changes));
  }
  upstream.OnSynced();
  return absl::OkStatus();
}

void Hub::PollLoop() {
  std::unique_lock lock(poll_mutex_);
  while (!poll_stop_) {
    poll_wake_.wait_for(lock, std::chrono::milliseconds(10));
    if (poll_stop_) break;
    const auto now = std::chrono::steady_clock::now();
    std::vector<std::shared_ptr<Upstream>> due;
    std::erase_if(polled_, [&](const std::weak_ptr<Upstream>& weak) {
      auto upstream = weak.lock();
      if (!upstream) return true;
      std::lock_guard upstream_lock(upstream->mutex);
      if (upstream->dead) return true;
      if (upstream->next_poll <= now) {
        upstream->next_poll = now + upstream->poll_every;
        due.push_back(std::move(upstream));
      }
      return false;
    });
    lock.unlock();
    // Get may block on the device: only this thread waits for it.
    for (const auto& upstream : due) (void)PollOnce(*upstream);
    lock.lock();
  }
}

Hub::~Hub() {
  std::vector<std::unique_ptr<Subscription>> subscriptions;
  {
    std::lock_guard lock(mutex_);
    for (auto& [key, upstream] : upstreams_) {
      std::lock_guard upstream_lock(upstream->mutex);
      upstream->dead = true;
      if (upstream->subscription) {
        subscriptions.push_back(std::move(upstream->subscription));
      }
    }
    upstreams_.clear();
  }
  subscriptions.clear();
  {
    std::lock_guard lock(poll_mutex_);
    poll_stop_ = true;
  }
  poll_wake_.notify_all();
  poller_.join();
  {
    std::lock_guard lock(reap_mutex_);
    reap_stop_ = true;
  }
  reap_wake_.notify_all();
  reaper_.join();
}

absl::StatusOr<std::unique_ptr<Membership>> Hub::Join(
    std::shared_ptr<devices::Device> device,
    std::shared_ptr<const schema::GnmiTranslator> translator,
    const SubscriptionSpec& spec, Listener* listener) {
  Key key{device->name(), spec.xpath, static_cast<int>(spec.mode),
          spec.mode == SubscriptionMode::kSample ? spec.sample_interval_ns : 0};
  std::shared_ptr<Upstream> upstream;
  bool create = false;
  {
    std::lock_guard lock(mutex_);
    auto it = upstreams_.find(key);
    if (it != upstreams_.end()) {
      upstream = it->second;
    } else {
      upstream = std::make_shared<Upstream>(this, key, translator);
      upstreams_.emplace(key, upstream);
      create = true;
    }
    std::lock_guard upstream_lock(upstream->mutex);
    upstream->listeners.push_back(listener);
    upstream->ListenersChangedLocked();
    if (!create) {
      std::vector<LeafPtr> cached;
      cached.reserve(upstream->cache.size());
      for (const auto& [unused, leaf] : upstream->cache) cached.push_back(leaf);
      if (!cached.empty()) listener->OnLeaves(cached);
      if (upstream->synced) listener->OnSynced();
    }
  }
  if (create) {
    auto subscription = device->driver().Subscribe(
        {spec}, std::make_shared<UpstreamSink>(upstream));
    if (!subscription.ok() &&
        subscription.status().code() == absl::StatusCode::kUnimplemented) {
      // The driver cannot push: read it with Get and diff the reads.
      spdlog::info("telemetry: '{}' cannot subscribe ({}); polling {} instead",
                   device->name(), std::string(subscription.status().message()),
                   spec.xpath);
      {
        std::lock_guard upstream_lock(upstream->mutex);
        upstream->polled_device = device;
        upstream->poll_every =
            spec.mode == SubscriptionMode::kSample &&
                    spec.sample_interval_ns > 0
                ? std::chrono::steady_clock::duration(
                      std::chrono::nanoseconds(spec.sample_interval_ns))
                : std::chrono::steady_clock::duration(options_.poll_interval);
        upstream->next_poll =
            std::chrono::steady_clock::now() + upstream->poll_every;
      }
      // The initial content and the sync; a device that cannot be read
      // fails the subscription as a refused Subscribe would.
      if (absl::Status first = PollOnce(*upstream); !first.ok()) {
        subscription = first;
      } else {
        {
          std::lock_guard lock(poll_mutex_);
          polled_.push_back(upstream);
        }
        subscription = std::unique_ptr<Subscription>(new PolledSubscription());
      }
    }
    if (!subscription.ok()) {
      Forget(upstream.get());
      std::lock_guard upstream_lock(upstream->mutex);
      upstream->dead = true;
      upstream->ClearLocked();
      std::erase(upstream->listeners, listener);
      for (Listener* other : upstream->listeners) {
        other->OnError(subscription.status());
      }
      return subscription.status();
    }
    live_upstreams_.fetch_add(1, std::memory_order_relaxed);
    LogStats("subscribed");
    std::lock_guard upstream_lock(upstream->mutex);
    upstream->subscription = *std::move(subscription);
  }
  return std::unique_ptr<Membership>(new Membership(upstream, listener));
}

void Hub::Forget(Upstream* upstream) {
  std::lock_guard lock(mutex_);
  auto it = upstreams_.find(upstream->key);
  if (it != upstreams_.end() && it->second.get() == upstream) {
    upstreams_.erase(it);
  }
}

void Hub::Leave(const std::shared_ptr<Upstream>& upstream, Listener* listener) {
  std::unique_ptr<Subscription> subscription;
  {
    std::lock_guard lock(mutex_);
    std::lock_guard upstream_lock(upstream->mutex);
    std::erase(upstream->listeners, listener);
    upstream->ListenersChangedLocked();
    if (!upstream->listeners.empty()) return;
    auto it = upstreams_.find(upstream->key);
    if (it != upstreams_.end() && it->second == upstream) upstreams_.erase(it);
    upstream->dead = true;
    upstream->ClearLocked();
    subscription = std::move(upstream->subscription);
  }
  if (subscription) Reap(std::move(subscription));
}

void Hub::Reap(std::unique_ptr<Subscription> subscription) {
  {
    std::lock_guard lock(reap_mutex_);
    reap_queue_.push_back(std::move(subscription));
  }
  reap_wake_.notify_one();
}

void Hub::ReapLoop() {
  std::unique_lock lock(reap_mutex_);
  for (;;) {
    reap_wake_.wait(lock,
                    [this] { return reap_stop_ || !reap_queue_.empty(); });
    if (reap_queue_.empty()) return;
    auto batch = std::move(reap_queue_);
    reap_queue_.clear();
    lock.unlock();
    const size_t ended = batch.size();
    batch.clear();  // ends the driver subscriptions
    live_upstreams_.fetch_sub(ended, std::memory_order_relaxed);
    LogStats("unsubscribed");
    lock.lock();
  }
}

TelemetryStats Hub::Stats() const {
  TelemetryStats stats;
  stats.upstream_subscriptions =
      live_upstreams_.load(std::memory_order_relaxed);
  stats.client_streams = streams_.load(std::memory_order_relaxed);
  stats.cached_leaves = static_cast<uint64_t>(
      std::max<int64_t>(0, cached_leaves_.load(std::memory_order_relaxed)));
  stats.slow_clients_cut = slow_cut_.load(std::memory_order_relaxed);
  return stats;
}

void Hub::StreamOpened() {
  streams_.fetch_add(1, std::memory_order_relaxed);
  LogStats("stream opened");
}

void Hub::StreamClosed() {
  streams_.fetch_sub(1, std::memory_order_relaxed);
  LogStats("stream closed");
}

void Hub::LogStats(const char* why) const {
  TelemetryStats stats = Stats();
  spdlog::debug(
      "telemetry: upstream_subscriptions={} client_streams={} cached_leaves={} "
      "slow_clients_cut={} ({})",
      stats.upstream_subscriptions, stats.client_streams, stats.cached_leaves,
      stats.slow_clients_cut, why);
}

}  // namespace southgate::telemetry
