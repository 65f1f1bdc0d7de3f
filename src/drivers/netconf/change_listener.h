// ON_CHANGE from the device's own notifications (RFC 5277 + RFC 6470):
// ChangeListener keeps one notification session per device (opened on the
// first ON_CHANGE subscription, re-opened with backoff when it dies, closed
// with the last one; one poller thread serves every device) and
// turns each netconf-config-change into the list of changed paths;
// ChangeSubscription re-reads those paths with <get> and pushes what
// changed (updates and deletes) into the sink. No polling: between
// notifications nothing is read, except an optional periodic resync (state
// data never causes netconf-config-change).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "common/executor.h"
#include "drivers/netconf/netconf_options.h"
#include "netconf/notification_session.h"
#include "schema/data_tree.h"
#include "southgate/driver.h"

namespace southgate::drivers::netconf {

// What one notification means for ON_CHANGE.
struct ConfigChange {
  // Module-qualified data paths of the edited nodes (RFC 6470 edit/target).
  std::vector<std::string> paths;
  // The notification says running changed but not where: re-read all.
  bool everything = false;
};

// Reads a notification's RFC 7951 JSON (NotificationSession::Receive):
// a ConfigChange for netconf-config-change on the running datastore,
// nullopt for anything else (session-start, confirmed-commit, ...).
std::optional<ConfigChange> ParseConfigChange(const std::string& json);

// How a changed path relates to a subscribed path.
enum class PathOverlap {
  kNone,          // disjoint: nothing to read
  kChangeInside,  // the change lies under the subscribed node: read it alone
  kOverlapping,   // the change covers the subscription (or wildcards make it
                  // unclear): re-read the subscribed path
};
PathOverlap Overlap(const std::string& subscribed, const std::string& changed);

// One device's notification session and what its notifications mean for
// the ON_CHANGE subscriptions on it. It owns no thread: the process-wide
// NotificationPoller waits for all notification sessions at once (poll(2)
// on their sockets) and calls Service(); sessions are opened on the
// `connects` executor and handlers run on a Strand of `work`, so a device
// with ON_CHANGE subscriptions costs a socket, not a thread.
class ChangeListener : public std::enable_shared_from_this<ChangeListener> {
 public:
  // Opens the notification session; `cancel` abandons it from another
  // thread (Stop, or an open that outlives its timeouts).
  using Opener = std::function<
      absl::StatusOr<std::unique_ptr<southgate::netconf::NotificationSession>>(
          southgate::netconf::ConnectCancel* cancel)>;
  // Runs on the work Strand with the changed paths; `everything` when
  // the whole subscription must be re-read (after (re)subscribing, an
  // unreadable notification, a resync). Returns false when the device
  // could not be read: the listener re-reads everything a little later.
  using Handler = std::function<bool(const ConfigChange& change)>;

  ChangeListener(std::string log_name, Opener opener,
                 const NetconfOptions& options, Executor& work,
                 Executor& connects);
  ~ChangeListener();
  ChangeListener(const ChangeListener&) = delete;
  ChangeListener& operator=(const ChangeListener&) = delete;

  // The first handler joins the poller (which opens the session). The
  // listener must be owned by a shared_ptr.
  int Add(Handler handler);
  // Once this returns, the handler is not running and never runs again.
  // Without handlers the notification session is closed.
  void Remove(int id);
  // Leaves the poller, ends the session, abandons an open in progress
  // (without waiting for it); no handler runs afterwards.
  void Stop();

  // Waits until the notification session is subscribed; false after
  // `timeout` (or once stopped).
  bool WaitSubscribed(std::chrono::milliseconds timeout);

  // netconf-config-change notifications received.
  uint64_t config_changes() const { return config_changes_; }
  bool subscribed() const { return subscribed_; }

  // NotificationPoller only (its thread): the socket to wait for (-1: none)
  // and one turn of work (open, receive when `readable`, timers).
  int PollFd();
  void Service(bool readable);

 private:
  // On the connects executor.
  void Open(std::shared_ptr<southgate::netconf::ConnectCancel> cancel);
  // How long an open may take before the poller abandons it: a set-up
  // waiting for another (bounded by 2 x connect_timeout), its own set-up
  // (connect_timeout) and <create-subscription> (rpc_timeout), plus slack.
  std::chrono::milliseconds OpenDeadline() const;
  void PostDispatch(const ConfigChange& change);
  bool HasHandlers();

  const std::string log_name_;
  const Opener opener_;
  const NetconfOptions options_;
  Executor& connects_;
  Strand dispatch_;

  std::mutex handlers_mutex_;  // held while a handler runs
  std::map<int, Handler> handlers_;
  int next_id_ = 1;

  // Used by the poller thread only (and by Stop once it has left).
  std::unique_ptr<southgate::netconf::NotificationSession> session_;
  std::chrono::steady_clock::time_point next_resync_;
  std::chrono::steady_clock::time_point next_sweep_{};

  std::mutex mutex_;
  std::chrono::milliseconds delay_;  // reconnect backoff
  std::chrono::steady_clock::time_point next_open_{};
  std::condition_variable cv_;
  bool stopped_ = false;
  bool polled_ = false;   // joined the poller
  bool opening_ = false;  // an Open() is queued or running
  // The Open() queued or running: when it was posted, how to abandon it.
  std::chrono::steady_clock::time_point opening_since_{};
  std::shared_ptr<southgate::netconf::ConnectCancel> open_cancel_;
  // A session Open() made, handed to the poller thread.
  std::unique_ptr<southgate::netconf::NotificationSession> opened_;
  // A re-read that failed (the RPC session reconnecting) is retried then.
  std::chrono::steady_clock::time_point retry_at_;

  std::atomic<uint64_t> config_changes_{0};
  std::atomic<bool> subscribed_{false};
};

// An ON_CHANGE (or TARGET_DEFINED) subscription fed by a ChangeListener.
class ChangeSubscription : public Subscription {
 public:
  // Reads the device (get, config and state) narrowed to `xpaths`.
  using Fetcher = std::function<absl::StatusOr<schema::DataTree>(
      const std::vector<std::string>& xpaths)>;

  ChangeSubscription(std::vector<SubscriptionSpec> specs,
                     std::shared_ptr<NotificationSink> sink, Fetcher fetch,
                     std::shared_ptr<ChangeListener> listener,
                     std::chrono::milliseconds wait_for_listener);
  ~ChangeSubscription() override;

  // Registers with the listener, sends the current values and OnSynced.
  absl::Status Start();

 private:
  struct Spec {
    std::string xpath;
    std::map<std::string, std::string> last;  // leaf path -> JSON value
  };
  bool OnChange(const ConfigChange& change);
  // Reads `read_path` and diffs the leaves under it against `spec.last`.
  absl::Status Refresh(Spec& spec, const std::string& read_path, bool full,
                       Notification& out);

  const std::chrono::milliseconds wait_for_listener_;
  std::shared_ptr<NotificationSink> sink_;
  Fetcher fetch_;
  std::shared_ptr<ChangeListener> listener_;
  int handler_id_ = 0;
  std::mutex mutex_;  // specs_ (listener thread vs Start)
  std::vector<Spec> specs_;
};

// Forwards to `inner`, but OnSynced only once every one of `parts`
// subscriptions sharing it has synced (one sync_response per client).
class SyncBarrierSink : public NotificationSink {
 public:
  SyncBarrierSink(std::shared_ptr<NotificationSink> inner, int parts)
      : inner_(std::move(inner)), waiting_(parts) {}
  void OnNotification(Notification notification) override {
    inner_->OnNotification(std::move(notification));
  }
  void OnSynced() override {
    if (--waiting_ == 0) inner_->OnSynced();
  }
  void OnError(absl::Status status) override {
    inner_->OnError(std::move(status));
  }

 private:
  std::shared_ptr<NotificationSink> inner_;
  std::atomic<int> waiting_;
};

// Two subscriptions as one (ON_CHANGE by notifications next to SAMPLE by
// polling in one Subscribe call).
class SubscriptionGroup : public Subscription {
 public:
  void Add(std::unique_ptr<Subscription> part) {
    parts_.push_back(std::move(part));
  }

 private:
  std::vector<std::unique_ptr<Subscription>> parts_;
};

}  // namespace southgate::drivers::netconf
