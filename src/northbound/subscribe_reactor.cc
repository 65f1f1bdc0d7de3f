#include "northbound/subscribe_reactor.h"

#include <algorithm>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "devices/self_driver.h"
#include "ops/metrics.h"
#include "spdlog/spdlog.h"

namespace southgate::northbound {
namespace {

using Clock = std::chrono::steady_clock;
using telemetry::LeafPtr;
using telemetry::PathInfo;

grpc::Status GrpcError(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

absl::Status CheckEncoding(gnmi::Encoding encoding) {
  switch (encoding) {
    case gnmi::JSON:
    case gnmi::JSON_IETF:
    case gnmi::PROTO:
      return absl::OkStatus();
    case gnmi::BYTES:
    case gnmi::ASCII:
      return absl::UnimplementedError(
          absl::StrCat("encoding ", gnmi::Encoding_Name(encoding),
                       " is not supported; use JSON, JSON_IETF or PROTO"));
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("unknown encoding ", static_cast<int>(encoding),
                       "; use JSON, JSON_IETF or PROTO"));
  }
}

class Reactor;
class Stream;

// One (subscription, device) pair of a stream: what the hub calls.
class Entry final : public telemetry::Listener {
 public:
  Entry(Stream* stream, uint32_t slot, gnmi::SubscriptionMode mode)
      : stream_(stream), slot_(slot), mode_(mode) {}
  void OnLeaves(const std::vector<LeafPtr>& leaves) override;
  void OnSynced() override;
  void OnError(const absl::Status& status) override;

  Stream* const stream_;
  const uint32_t slot_;
  const gnmi::SubscriptionMode mode_;
  SubscriptionSpec spec;
  bool suppress_redundant = false;
  Clock::duration sample_interval{};
  Clock::duration heartbeat{};
  // Guarded by the stream's mutex:
  bool synced = false;
  // Asked the hub for more (Membership::AskForMore) since its last delivery.
  bool asked = false;
  std::shared_ptr<telemetry::Membership> membership;
  absl::flat_hash_map<const PathInfo*, std::string> last_sent;
  Clock::time_point last_full{};
};

// Where a device's notifications go: its prefix and translator.
struct Slot {
  std::shared_ptr<devices::Device> device;
  std::shared_ptr<const schema::GnmiTranslator> translator;
  std::string prefix_bytes;
};

struct Item {
  LeafPtr leaf;
  uint32_t slot;
};

// A run of output that is no longer coalesced: leaves, or a sync_response.
struct Chunk {
  bool sync = false;
  std::vector<Item> items;
  size_t next = 0;
};

// Everything a stream owns. Shared by the reactor (until OnDone), the work
// queue and timers; the hub sees its Entries. Lock order: hub, upstream,
// then `mutex_`; nothing here calls into the hub with `mutex_` held.
class Stream final : public std::enable_shared_from_this<Stream> {
 public:
  Stream(Reactor* reactor, grpc::CallbackServerContext* context,
         const SubscribeContext& subscribe);
  ~Stream();

  void Start();
  void OnReadDone(bool ok);
  void OnWriteDone(bool ok);
  void OnCancel();
  void OnDone();

  void Deliver(Entry* entry, const std::vector<LeafPtr>& leaves);
  void EntrySynced(Entry* entry);
  void EntryFailed(const Entry& entry, const absl::Status& status);

 private:
  void Setup(gnmi::SubscriptionList list);
  absl::Status Subscribe(const gnmi::SubscriptionList& list);
  void Poll();
  void SampleTick(Entry* entry);
  void HeartbeatTick(Entry* entry);
  void PollReady(std::unique_lock<std::mutex>& lock);

  // All with `mutex_` held.
  void Enqueue(const LeafPtr& leaf, uint32_t slot);
  void SealLive();
  // Asks the hub for more when at most `below` Notifications wait.
  void AskForMore(size_t below);
  void CheckSlow();
  void Pump(std::unique_lock<std::mutex>& lock);
  // Starts a write soon on a worker thread: the timer thread (shared by
  // every stream) never encodes, and what arrives meanwhile rides in the
  // same Notification.
  void Kick();
  // For the hub's callbacks (a driver thread, under the upstream's lock):
  // when the stream is set up and idle and the next Notification is small,
  // starts that write on this thread, saving the hand-off to a worker and
  // back (StartWrite does not block; the rest follow from OnWriteDone).
  // Otherwise Kick: a big Notification is encoded on a worker, so the
  // driver keeps producing and the upstream's other listeners are not held
  // up meanwhile.
  void WriteNowOrKick(std::unique_lock<std::mutex>& lock);
  void FinishLocked(const grpc::Status& status);
  void FailLocked(const absl::Status& status) {
    FinishLocked(GrpcError(status));
  }
  // Leaves the hub and stops timers; never with a lock held.
  void Release();
  void ReleaseSoon();
  // False when nothing in `batch` could be encoded.
  bool BuildNotification(std::vector<Item>& batch);

  Reactor* reactor_;  // null after OnDone
  grpc::CallbackServerContext* const context_;
  const SubscribeContext ctx_;  // a copy: GnmiService adds per-stream hooks
  CallInfo call_;
  security::Identity identity_;  // set before Subscribe() runs
  // For the per-RPC metrics: a Subscribe's latency is its whole life.
  const std::chrono::steady_clock::time_point started_ =
      std::chrono::steady_clock::now();
  gnmi::SubscribeRequest request_;
  gnmi::SubscribeResponse response_;

  std::mutex mutex_;
  bool got_list_ = false;
  bool setup_done_ = false;
  gnmi::SubscriptionList::Mode mode_ = gnmi::SubscriptionList::STREAM;
  gnmi::Encoding encoding_ = gnmi::JSON;
  bool updates_only_ = false;
  std::vector<Slot> slots_;
  std::vector<std::unique_ptr<Entry>> entries_;
  std::vector<std::shared_ptr<telemetry::TimerService::Timer>> timers_;
  size_t unsynced_ = 0;
  bool synced_ = false;
  int pending_polls_ = 0;

  // Output: `live_` coalesces by path (the latest value wins); `ready_` is
  // what is being written, in order.
  std::vector<Item> live_;
  absl::flat_hash_map<const PathInfo*, size_t> live_index_;
  std::deque<Chunk> ready_;
  bool writing_ = false;
  bool flush_pending_ = false;
  uint32_t stall_checks_ = 0;
  Clock::time_point write_started_{};
  bool finish_after_drain_ = false;
  bool finished_ = false;
  bool released_ = false;
  bool done_ = false;
};

class Reactor final : public grpc::ServerBidiReactor<gnmi::SubscribeRequest,
                                                     gnmi::SubscribeResponse> {
 public:
  Reactor(grpc::CallbackServerContext* context,
          const SubscribeContext& subscribe)
      : stream_(std::make_shared<Stream>(this, context, subscribe)) {
    stream_->Start();
  }
  void OnReadDone(bool ok) override { stream_->OnReadDone(ok); }
  void OnWriteDone(bool ok) override { stream_->OnWriteDone(ok); }
  void OnCancel() override { stream_->OnCancel(); }
  void OnDone() override {
    stream_->OnDone();
    delete this;
  }

 private:
  std::shared_ptr<Stream> stream_;
};

void Entry::OnLeaves(const std::vector<LeafPtr>& leaves) {
  stream_->Deliver(this, leaves);
}
void Entry::OnSynced() { stream_->EntrySynced(this); }
void Entry::OnError(const absl::Status& status) {
  stream_->EntryFailed(*this, status);
}

Stream::Stream(Reactor* reactor, grpc::CallbackServerContext* context,
               const SubscribeContext& subscribe)
    : reactor_(reactor), context_(context), ctx_(subscribe) {
  call_ = ctx_.access->Capture(*context);
  ctx_.hub->StreamOpened();
}

Stream::~Stream() {
  Release();
  ctx_.hub->StreamClosed();
}

void Stream::Start() { reactor_->StartRead(&request_); }

void Stream::OnReadDone(bool ok) {
  std::unique_lock lock(mutex_);
  if (finished_ || reactor_ == nullptr) return;
  if (!ok) {
    // The client half-closed (or went away). A STREAM keeps sending; a POLL
    // can get no more polls; ONCE finishes by itself.
    if (!got_list_) {
      FinishLocked(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                "the stream ended before a SubscriptionList"));
    } else if (mode_ == gnmi::SubscriptionList::POLL && setup_done_) {
      finish_after_drain_ = true;
      Pump(lock);
    }
    return;
  }
  if (request_.extension_size() > 0) {
    FinishLocked(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                              "Subscribe extensions are not supported"));
    return;
  }
  switch (request_.request_case()) {
    case gnmi::SubscribeRequest::kSubscribe: {
      if (got_list_) {
        FinishLocked(grpc::Status(
            grpc::StatusCode::INVALID_ARGUMENT,
            "a stream takes one SubscriptionList; open another Subscribe RPC "
            "for a new subscription"));
        return;
      }
      got_list_ = true;
      mode_ = request_.subscribe().mode();
      auto self = shared_from_this();
      bool posted = ctx_.work->Post(
          [self, list = std::move(*request_.mutable_subscribe())]() mutable {
            self->Setup(std::move(list));
          });
      if (!posted) {
        FinishLocked(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                  "server busy: too many requests in flight"));
      }
      // The next read starts once the subscription is set up, so a Poll
      // never races the set-up.
      return;
    }
    case gnmi::SubscribeRequest::kPoll:
      if (!got_list_) {
        FinishLocked(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                  "Poll before any SubscriptionList"));
        return;
      }
      if (mode_ != gnmi::SubscriptionList::POLL) {
        FinishLocked(grpc::Status(
            grpc::StatusCode::INVALID_ARGUMENT,
            absl::StrCat("Poll on a ", gnmi::SubscriptionList::Mode_Name(mode_),
                         " subscription; only POLL subscriptions take polls")));
        return;
      }
      ++pending_polls_;
      PollReady(lock);
      if (!finished_ && reactor_ != nullptr) reactor_->StartRead(&request_);
      return;
    default:
      FinishLocked(
          grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                       "SubscribeRequest has neither subscribe nor poll"));
      return;
  }
}

void Stream::Setup(gnmi::SubscriptionList list) {
  auto identity = ctx_.access->Authenticate(call_, "Subscribe");
  if (!identity.ok()) {
    if (ctx_.authentication_failed) ctx_.authentication_failed();
    std::lock_guard lock(mutex_);
    FinishLocked(GrpcError(identity.status()));
    return;
  }
  identity_ = *std::move(identity);
  if (ctx_.admit_subscription) {
    absl::Status admitted = ctx_.admit_subscription(identity_.user, list);
    if (!admitted.ok()) {
      std::lock_guard lock(mutex_);
      FinishLocked(GrpcError(admitted));
      return;
    }
  }
  absl::Status status = Subscribe(list);
  if (!status.ok()) {
    spdlog::info("Subscribe by {} from {}: {}", identity_.user, call_.peer,
                 status.ToString());
    std::unique_lock lock(mutex_);
    FailLocked(status);
    lock.unlock();
    Release();
    return;
  }
  std::unique_lock lock(mutex_);
  setup_done_ = true;
  if (finished_ || reactor_ == nullptr) return;
  reactor_->StartRead(&request_);
  Pump(lock);
}

absl::Status Stream::Subscribe(const gnmi::SubscriptionList& list) {
  const auto mode = list.mode();
  if (!gnmi::SubscriptionList::Mode_IsValid(mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown SubscriptionList mode ", static_cast<int>(mode)));
  }
  if (auto status = CheckEncoding(list.encoding()); !status.ok()) return status;
  if (list.subscription_size() == 0) {
    return absl::InvalidArgumentError("SubscriptionList has no subscriptions");
  }
  const auto min_interval = ctx_.limits.min_interval;
  const int64_t min_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(min_interval)
          .count();

  // Targets: one, "*" (every device) or a comma-separated list.
  const std::string& target = list.prefix().target();
  std::vector<std::shared_ptr<devices::Device>> devices;
  if (target == "*") {
    for (const std::string& name : ctx_.devices->Names()) {
      // The daemon's own target has another schema: "*" means the network.
      if (name == devices::kSelfTargetName) continue;
      if (auto device = ctx_.devices->Find(name)) {
        // "*" means devices that can answer now.
        if (device->Translator().ok()) devices.push_back(std::move(device));
      }
    }
    if (devices.empty()) {
      return absl::UnavailableError("no device is connected");
    }
  } else {
    std::vector<std::string> names =
        target.find(',') == std::string::npos
            ? std::vector<std::string>{target}
            : absl::StrSplit(target, ',', absl::SkipEmpty());
    for (const std::string& name : names) {
      auto device = ctx_.handler->ResolveTarget(name);
      if (!device.ok()) return device.status();
      devices.push_back(*std::move(device));
    }
  }

  // Every (device, path) is authorized before any device is joined.
  std::vector<const gnmi::Path*> paths;
  for (const gnmi::Subscription& subscription : list.subscription()) {
    paths.push_back(&subscription.path());
  }
  for (const auto& device : devices) {
    RETURN_IF_ERROR(ctx_.access->Authorize(identity_, call_, "Subscribe",
                                           device->name(), list.prefix(), paths,
                                           security::Access::kRead));
  }

  std::vector<Slot> slots;
  std::vector<std::unique_ptr<Entry>> entries;
  for (auto& device : devices) {
    auto translator = device->Translator();
    if (!translator.ok()) return translator.status();
    Slot slot;
    gnmi::Path prefix;
    prefix.set_target(device->name());
    if (!list.prefix().origin().empty()) {
      prefix.set_origin(list.prefix().origin());
    }
    slot.prefix_bytes = prefix.SerializeAsString();
    slot.device = device;
    slot.translator = *translator;
    const uint32_t slot_index = static_cast<uint32_t>(slots.size());
    for (const gnmi::Subscription& subscription : list.subscription()) {
      gnmi::SubscriptionMode sub_mode = subscription.mode();
      if (!gnmi::SubscriptionMode_IsValid(sub_mode)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "unknown subscription mode ", static_cast<int>(sub_mode)));
      }
      auto entry = std::make_unique<Entry>(this, slot_index, sub_mode);
      auto resolved =
          slot.translator->ToXPath(list.prefix(), subscription.path());
      if (resolved.ok()) {
        entry->spec.xpath = resolved->xpath;
      } else if (resolved.status().code() == absl::StatusCode::kNotFound &&
                 device->driver().PassesThroughUnknownPaths()) {
        // A model southgate lacks: the device gets the path as it is.
        gnmi::Path native =
            schema::JoinPaths(list.prefix(), subscription.path());
        entry->spec.xpath = schema::NativePathKey(native);
        entry->spec.native_path = native.SerializeAsString();
      } else {
        return resolved.status();
      }
      entry->suppress_redundant = subscription.suppress_redundant();
      if (mode == gnmi::SubscriptionList::STREAM) {
        if (subscription.heartbeat_interval() > 0) {
          if (subscription.heartbeat_interval() <
              static_cast<uint64_t>(min_ns)) {
            return absl::InvalidArgumentError(absl::StrCat(
                "heartbeat_interval ", subscription.heartbeat_interval(),
                " ns is below the minimum of ", min_ns, " ns"));
          }
          entry->heartbeat = std::chrono::nanoseconds(
              static_cast<int64_t>(subscription.heartbeat_interval()));
        }
        switch (sub_mode) {
          case gnmi::SAMPLE: {
            uint64_t interval = subscription.sample_interval();
            if (interval == 0) interval = static_cast<uint64_t>(min_ns);
            if (interval < static_cast<uint64_t>(min_ns)) {
              return absl::InvalidArgumentError(absl::StrCat(
                  "sample_interval ", interval, " ns is below the minimum of ",
                  min_ns, " ns (0 asks for the minimum)"));
            }
            entry->spec.mode = SubscriptionMode::kSample;
            entry->spec.sample_interval_ns = static_cast<int64_t>(interval);
            entry->sample_interval =
                std::chrono::nanoseconds(static_cast<int64_t>(interval));
            break;
          }
          case gnmi::ON_CHANGE:
            entry->spec.mode = SubscriptionMode::kOnChange;
            break;
          default:
            entry->spec.mode = SubscriptionMode::kTargetDefined;
            break;
        }
      } else {
        // ONCE and POLL read the cache; an on-change feed keeps it current
        // and is shared with ON_CHANGE streams on the same path.
        entry->spec.mode = SubscriptionMode::kOnChange;
      }
      entries.push_back(std::move(entry));
    }
    slots.push_back(std::move(slot));
  }

  std::vector<Entry*> to_join;
  {
    std::lock_guard lock(mutex_);
    if (finished_) return absl::OkStatus();
    encoding_ = list.encoding();
    updates_only_ = list.updates_only();
    slots_ = std::move(slots);
    entries_ = std::move(entries);
    unsynced_ = entries_.size();
    for (auto& entry : entries_) to_join.push_back(entry.get());
  }
  for (Entry* entry : to_join) {
    const Slot& slot = slots_[entry->slot_];
    auto membership =
        ctx_.hub->Join(slot.device, slot.translator, entry->spec, entry);
    if (!membership.ok()) {
      return absl::Status(
          membership.status().code(),
          absl::StrCat("target '", slot.device->name(), "' path ",
                       entry->spec.xpath, ": ", membership.status().message()));
    }
    std::shared_ptr<telemetry::Membership> shared = *std::move(membership);
    std::unique_lock lock(mutex_);
    if (released_ || finished_) {
      lock.unlock();
      return absl::OkStatus();  // cancelled meanwhile; `shared` leaves now
    }
    entry->membership = std::move(shared);
  }

  if (mode != gnmi::SubscriptionList::STREAM) return absl::OkStatus();
  std::weak_ptr<Stream> weak = weak_from_this();
  std::vector<std::shared_ptr<telemetry::TimerService::Timer>> timers;
  for (Entry* entry : to_join) {
    if (entry->sample_interval > Clock::duration::zero()) {
      timers.push_back(ctx_.timers->Schedule(
          entry->sample_interval, entry->sample_interval, [weak, entry] {
            if (auto self = weak.lock()) self->SampleTick(entry);
          }));
    } else if (entry->heartbeat > Clock::duration::zero()) {
      timers.push_back(ctx_.timers->Schedule(entry->heartbeat, entry->heartbeat,
                                             [weak, entry] {
                                               if (auto self = weak.lock())
                                                 self->HeartbeatTick(entry);
                                             }));
    }
  }
  std::unique_lock lock(mutex_);
  if (released_) {
    lock.unlock();
    for (auto& timer : timers) timer->Cancel();
    return absl::OkStatus();
  }
  timers_ = std::move(timers);
  return absl::OkStatus();
}

void Stream::Deliver(Entry* entry, const std::vector<LeafPtr>& leaves) {
  std::unique_lock lock(mutex_);
  if (finished_ || released_) return;
  entry->asked = false;
  if (!entry->synced) {
    // The subscription's current content.
    if (updates_only_) return;
    for (const LeafPtr& leaf : leaves) {
      if (entry->suppress_redundant && !leaf->deleted()) {
        entry->last_sent[&leaf->path()] = leaf->json();
      }
      Enqueue(leaf, entry->slot_);
    }
  } else {
    if (mode_ != gnmi::SubscriptionList::STREAM) return;  // served on poll
    if (entry->sample_interval > Clock::duration::zero()) {
      // SAMPLE values go out on the stream's own timer; only deletes are
      // passed on as they happen.
      for (const LeafPtr& leaf : leaves) {
        if (!leaf->deleted()) continue;
        entry->last_sent.erase(&leaf->path());
        Enqueue(leaf, entry->slot_);
      }
    } else {
      for (const LeafPtr& leaf : leaves) Enqueue(leaf, entry->slot_);
      // Each delivery its own Notification while the pipeline has room;
      // behind that, changes coalesce in `live_`.
      const size_t pipeline = ctx_.limits.pipeline_notifications;
      if (synced_ && ready_.size() < pipeline) {
        SealLive();
        AskForMore(pipeline);
      }
    }
  }
  CheckSlow();
  WriteNowOrKick(lock);
}

void Stream::EntrySynced(Entry* entry) {
  std::unique_lock lock(mutex_);
  if (entry->synced || finished_) return;
  entry->synced = true;
  if (--unsynced_ > 0) return;
  // Every subscription of the stream has its initial content queued: it
  // goes out, then the sync_response (first, with updates_only).
  synced_ = true;
  SealLive();
  Chunk sync;
  sync.sync = true;
  ready_.push_back(std::move(sync));
  if (mode_ == gnmi::SubscriptionList::ONCE) finish_after_drain_ = true;
  if (pending_polls_ > 0) {
    // Answering reads the hub's caches, which must not happen here: this
    // runs under an upstream's lock.
    auto self = shared_from_this();
    ctx_.timers->Post([self] {
      std::unique_lock lock(self->mutex_);
      self->PollReady(lock);
    });
  }
  WriteNowOrKick(lock);
}

void Stream::EntryFailed(const Entry& entry, const absl::Status& status) {
  // One behaviour for a target that goes away: the stream ends, with a
  // code that says whether subscribing again can work.
  const std::shared_ptr<devices::Device>& device = slots_[entry.slot_].device;
  const std::string& name = device->name();
  auto current = ctx_.devices->Find(name);
  absl::Status why;
  if (current == nullptr) {
    why = absl::NotFoundError(
        absl::StrCat("target '", name,
                     "' was removed from the configuration; its "
                     "subscriptions ended (",
                     status.message(), ")"));
  } else if (current != device) {
    why = absl::UnavailableError(
        absl::StrCat("target '", name, "' was reconfigured; subscribe again (",
                     status.message(), ")"));
  } else {
    why = absl::UnavailableError(
        absl::StrCat("subscription to target '", name,
                     "' ended by the device: ", status.message()));
  }
  std::unique_lock lock(mutex_);
  if (finished_) return;
  FailLocked(why);
  lock.unlock();
  ReleaseSoon();
}

void Stream::PollReady(std::unique_lock<std::mutex>& lock) {
  // Polls wait for the initial sync; each answers from the cache with the
  // data then a sync_response.
  if (!synced_ || pending_polls_ == 0 || finished_) return;
  std::vector<std::pair<std::shared_ptr<telemetry::Membership>, uint32_t>>
      members;
  for (auto& entry : entries_) {
    if (entry->membership)
      members.emplace_back(entry->membership, entry->slot_);
  }
  while (pending_polls_ > 0) {
    --pending_polls_;
    lock.unlock();
    Chunk data;
    for (auto& [membership, slot] : members) {
      for (LeafPtr& leaf : membership->Snapshot()) {
        data.items.push_back(Item{std::move(leaf), slot});
      }
    }
    if (slots_.size() > 1) {
      std::stable_sort(
          data.items.begin(), data.items.end(),
          [](const Item& a, const Item& b) { return a.slot < b.slot; });
    }
    lock.lock();
    if (finished_) return;
    ready_.push_back(std::move(data));
    Chunk sync;
    sync.sync = true;
    ready_.push_back(std::move(sync));
  }
  Kick();
}

void Stream::SampleTick(Entry* entry) {
  std::unique_lock lock(mutex_);
  if (finished_ || released_ || !entry->membership) return;
  auto membership = entry->membership;
  lock.unlock();
  std::vector<LeafPtr> leaves = membership->Snapshot();
  const auto now = Clock::now();
  lock.lock();
  if (finished_ || released_) return;
  bool heartbeat = false;
  if (entry->suppress_redundant && entry->heartbeat > Clock::duration::zero() &&
      now - entry->last_full >= entry->heartbeat) {
    heartbeat = true;
    entry->last_full = now;
  }
  for (const LeafPtr& leaf : leaves) {
    if (entry->suppress_redundant) {
      auto [it, inserted] = entry->last_sent.try_emplace(&leaf->path());
      if (!inserted && it->second == leaf->json() && !heartbeat) continue;
      it->second = leaf->json();
    }
    Enqueue(leaf, entry->slot_);
  }
  CheckSlow();
  Kick();
}

void Stream::HeartbeatTick(Entry* entry) {
  std::unique_lock lock(mutex_);
  if (finished_ || released_ || !entry->membership) return;
  auto membership = entry->membership;
  lock.unlock();
  std::vector<LeafPtr> leaves = membership->Snapshot();
  lock.lock();
  if (finished_ || released_) return;
  for (const LeafPtr& leaf : leaves) Enqueue(leaf, entry->slot_);
  CheckSlow();
  Kick();
}

void Stream::Enqueue(const LeafPtr& leaf, uint32_t slot) {
  auto [it, inserted] = live_index_.try_emplace(&leaf->path(), live_.size());
  if (inserted) {
    live_.push_back(Item{leaf, slot});
  } else {
    live_[it->second].leaf = leaf;
  }
}

void Stream::SealLive() {
  if (live_.empty()) return;
  Chunk chunk;
  chunk.items = std::move(live_);
  live_.clear();
  live_index_.clear();
  if (slots_.size() > 1) {
    std::stable_sort(
        chunk.items.begin(), chunk.items.end(),
        [](const Item& a, const Item& b) { return a.slot < b.slot; });
  }
  ready_.push_back(std::move(chunk));
}

void Stream::AskForMore(size_t below) {
  if (mode_ != gnmi::SubscriptionList::STREAM || !synced_ ||
      ready_.size() >= below) {
    return;
  }
  for (auto& entry : entries_) {
    if (entry->asked || !entry->membership) continue;
    entry->asked = true;
    entry->membership->AskForMore();
  }
}

void Stream::CheckSlow() {
  if (finished_) return;
  const bool too_many = live_.size() > ctx_.limits.max_pending;
  // The clock is read once per 64 checks: a stall is measured in seconds.
  const bool stalled = writing_ && !live_.empty() &&
                       (++stall_checks_ & 63) == 0 &&
                       Clock::now() - write_started_ > ctx_.limits.stall;
  if (!too_many && !stalled) return;
  std::string message =
      too_many
          ? absl::StrCat("client too slow: more than ", ctx_.limits.max_pending,
                         " distinct updates waiting")
          : absl::StrCat("client too slow: no message accepted for ",
                         ctx_.limits.stall.count(), " ms while ", live_.size(),
                         " updates wait");
  spdlog::warn("Subscribe by {} from {}: {}; ending the stream", identity_.user,
               call_.peer, message);
  ctx_.hub->SlowClientCut();
  FinishLocked(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, message));
  // Leave the hub off this thread (it may be a driver's, inside the hub).
  ReleaseSoon();
  // Its unread messages stay buffered until the client reads or leaves; do
  // not wait forever for that.
  std::weak_ptr<Stream> weak = weak_from_this();
  ctx_.timers->Schedule(ctx_.limits.cancel_grace, Clock::duration::zero(),
                        [weak] {
                          auto self = weak.lock();
                          if (!self) return;
                          std::lock_guard lock(self->mutex_);
                          if (!self->done_) self->context_->TryCancel();
                        });
}

void Stream::Kick() {
  if (writing_ || flush_pending_ || finished_ || reactor_ == nullptr) return;
  if (ready_.empty() && (live_.empty() || !synced_) && !finish_after_drain_) {
    return;
  }
  flush_pending_ = true;
  auto self = shared_from_this();
  auto flush = [self] {
    std::unique_lock lock(self->mutex_);
    self->flush_pending_ = false;
    self->Pump(lock);
  };
  if (!ctx_.work->Post(flush)) ctx_.timers->Post(flush);
}

void Stream::WriteNowOrKick(std::unique_lock<std::mutex>& lock) {
  // Before set-up ends the caller may be Hub::Join (the hub's lock held):
  // no encoding there. A flush already queued will write; leave it to it.
  if (!setup_done_ || flush_pending_ || writing_) {
    Kick();
    return;
  }
  // The leaves the next write would take (Pump's choice, roughly): the
  // first unsent chunk, else what coalesced. Measured: inline writes of
  // 100-leaf Notifications cost a producer-bound stream a third of its
  // throughput (docs/performance.md, 2026-11-26 hand-offs).
  constexpr size_t kMaxInlineLeaves = 32;
  size_t leaves = 0;
  bool found = false;
  for (const Chunk& chunk : ready_) {
    leaves = chunk.sync ? 0 : chunk.items.size() - chunk.next;
    found = chunk.sync || leaves > 0;
    if (found) break;
  }
  if (!found && synced_) leaves = live_.size();
  if (leaves > kMaxInlineLeaves) {
    Kick();
    return;
  }
  Pump(lock);
}

void Stream::Pump(std::unique_lock<std::mutex>& lock) {
  for (;;) {
    if (writing_ || finished_ || reactor_ == nullptr) return;
    // Next chunk: what is ready, else whatever coalesced meanwhile (not
    // before the initial sync: that content goes out with the sync).
    while (!ready_.empty() && !ready_.front().sync &&
           ready_.front().next >= ready_.front().items.size()) {
      ready_.pop_front();
    }
    if (ready_.empty() && synced_) SealLive();
    AskForMore(ctx_.limits.pipeline_notifications / 2 + 1);
    if (ready_.empty()) {
      if (finish_after_drain_) FinishLocked(grpc::Status::OK);
      return;
    }
    Chunk& chunk = ready_.front();
    writing_ = true;
    write_started_ = Clock::now();
    if (chunk.sync) {
      ready_.pop_front();
      response_.Clear();
      response_.set_sync_response(true);
      reactor_->StartWrite(&response_);
      return;
    }
    // One notification: consecutive leaves of one device, bounded.
    std::vector<Item> batch;
    const uint32_t slot = chunk.items[chunk.next].slot;
    const size_t max = ctx_.limits.max_updates_per_notification;
    while (chunk.next < chunk.items.size() && batch.size() < max &&
           chunk.items[chunk.next].slot == slot) {
      batch.push_back(std::move(chunk.items[chunk.next++]));
    }
    // Encoding happens outside the lock so that the hub's fan-out never
    // waits for it; `writing_` keeps anyone else from writing meanwhile.
    lock.unlock();
    const bool built = BuildNotification(batch);
    batch.clear();
    lock.lock();
    if (finished_ || reactor_ == nullptr) {
      writing_ = false;
      return;
    }
    if (!built) {
      writing_ = false;  // nothing encodable in this batch
      continue;
    }
    reactor_->StartWrite(&response_);
    return;
  }
}

bool Stream::BuildNotification(std::vector<Item>& batch) {
  response_.Clear();
  if (batch.empty()) return false;
  const Slot& slot = slots_[batch.front().slot];
  int64_t timestamp = 0;
  for (const Item& item : batch) {
    timestamp = std::max(timestamp, item.leaf->timestamp_ns());
  }
  telemetry::NotificationWriter writer(timestamp, slot.prefix_bytes);
  for (const Item& item : batch) {
    if (item.leaf->deleted()) {
      writer.AddDelete(item.leaf->path().path_bytes);
    } else if (const std::string* bytes =
                   item.leaf->UpdateBytes(encoding_, *slot.translator)) {
      writer.AddUpdate(*bytes);
    }
  }
  if (writer.count() == 0) return false;
  writer.MoveInto(response_);
  return true;
}

void Stream::OnWriteDone(bool ok) {
  std::unique_lock lock(mutex_);
  writing_ = false;
  if (!ok) return;  // the call is ending; OnDone follows
  Pump(lock);
}

// Subscribe counts and durations by final code, beside the unary RPCs'.
ops::RpcRecorder& SubscribeRecorder() {
  static ops::RpcRecorder recorder(ops::Metrics::Default(), "Subscribe");
  return recorder;
}

void Stream::FinishLocked(const grpc::Status& status) {
  if (finished_ || reactor_ == nullptr) return;
  finished_ = true;
  SubscribeRecorder().Record(status.error_code(), started_);
  live_.clear();
  live_index_.clear();
  ready_.clear();
  reactor_->Finish(status);
}

void Stream::OnCancel() {
  {
    std::lock_guard lock(mutex_);
    FinishLocked(grpc::Status::CANCELLED);
  }
  ReleaseSoon();
}

void Stream::OnDone() {
  Release();
  std::lock_guard lock(mutex_);
  reactor_ = nullptr;
  done_ = true;
}

void Stream::ReleaseSoon() {
  auto self = shared_from_this();
  ctx_.timers->Post([self] { self->Release(); });
}

void Stream::Release() {
  std::vector<std::shared_ptr<telemetry::Membership>> memberships;
  std::vector<std::shared_ptr<telemetry::TimerService::Timer>> timers;
  {
    std::lock_guard lock(mutex_);
    if (released_) return;
    released_ = true;
    for (auto& entry : entries_) {
      if (entry->membership)
        memberships.push_back(std::move(entry->membership));
    }
    timers.swap(timers_);
    live_.clear();
    live_index_.clear();
  }
  for (auto& timer : timers) timer->Cancel();
  memberships.clear();  // leaves the hub; the last one out unsubscribes
}

}  // namespace

grpc::ServerBidiReactor<gnmi::SubscribeRequest, gnmi::SubscribeResponse>*
NewSubscribeReactor(grpc::CallbackServerContext* context,
                    const SubscribeContext& subscribe) {
  return new Reactor(context, subscribe);
}

}  // namespace southgate::northbound
