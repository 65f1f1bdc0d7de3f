#include "drivers/gnmi/gnmi_subscription.h"

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "drivers/gnmi/gnmi_convert.h"
#include "google/protobuf/arena.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/sync_stream.h"
#include "spdlog/spdlog.h"

namespace southgate::drivers::gnmi_driver {
namespace {

// The reused block each upstream response is parsed into (more is
// allocated for a larger response and freed after it).
constexpr size_t kResponseArenaBytes = 256 * 1024;

// gnmi.gNMI/Subscribe, as the generated stub names it.
constexpr char kSubscribeMethod[] = "/gnmi.gNMI/Subscribe";

int64_t WallNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Errors that are the request's fault, not the connection's: re-opening
// the stream would get the same answer.
bool IsPermanent(absl::StatusCode code, bool synced_once) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kUnimplemented:
      return true;
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      // Before the first sync the client hears about it; later (the
      // device came back with other rules) the stream waits for a fix
      // while the device state says why.
      return !synced_once;
    default:
      return false;
  }
}

// `path` is `ancestor` or lies below it.
bool IsAtOrBelow(const std::string& path, const std::string& ancestor) {
  if (!path.starts_with(ancestor)) return false;
  if (path.size() == ancestor.size()) return true;
  const char next = path[ancestor.size()];
  return next == '/' || next == '[';
}

}  // namespace

absl::StatusOr<::gnmi::SubscribeRequest> BuildSubscribeRequest(
    const GnmiDriver& driver, const schema::GnmiTranslator& translator,
    const std::vector<SubscriptionSpec>& specs) {
  ::gnmi::SubscribeRequest request;
  ::gnmi::SubscriptionList* list = request.mutable_subscribe();
  list->set_mode(::gnmi::SubscriptionList::STREAM);
  if (driver.options().target) {
    list->mutable_prefix()->set_target(*driver.options().target);
  }
  for (const SubscriptionSpec& spec : specs) {
    ::gnmi::Subscription* subscription = list->add_subscription();
    if (!spec.native_path.empty()) {
      if (!subscription->mutable_path()->ParseFromString(spec.native_path)) {
        return absl::InvalidArgumentError("unreadable native path");
      }
    } else {
      ASSIGN_OR_RETURN(*subscription->mutable_path(),
                       translator.ToGnmiPath(spec.xpath));
    }
    switch (spec.mode) {
      case SubscriptionMode::kTargetDefined:
        subscription->set_mode(::gnmi::TARGET_DEFINED);
        break;
      case SubscriptionMode::kOnChange:
        subscription->set_mode(::gnmi::ON_CHANGE);
        break;
      case SubscriptionMode::kSample:
        subscription->set_mode(::gnmi::SAMPLE);
        subscription->set_sample_interval(
            static_cast<uint64_t>(spec.sample_interval_ns));
        break;
    }
  }
  return request;
}

absl::StatusOr<std::unique_ptr<Subscription>> GnmiSubscription::Start(
    GnmiDriver* driver, ::gnmi::SubscribeRequest request,
    const std::vector<SubscriptionSpec>& specs,
    std::shared_ptr<NotificationSink> sink) {
  bool sample_only = true;
  bool native = true;
  for (const auto& spec : specs) {
    if (spec.mode != SubscriptionMode::kSample) sample_only = false;
    if (spec.native_path.empty()) native = false;
  }
  std::unique_ptr<GnmiSubscription> subscription(new GnmiSubscription(
      driver, std::move(request), sample_only, native, std::move(sink)));
  GnmiSubscription* self = subscription.get();
  self->thread_ = std::thread([self] { self->Run(); });
  return subscription;
}

GnmiSubscription::GnmiSubscription(GnmiDriver* driver,
                                   ::gnmi::SubscribeRequest request,
                                   bool sample_only, bool native,
                                   std::shared_ptr<NotificationSink> sink)
    : driver_(driver),
      request_(std::move(request)),
      sample_only_(sample_only),
      native_(native),
      sink_(std::move(sink)) {}

GnmiSubscription::~GnmiSubscription() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    if (active_) active_->TryCancel();
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool GnmiSubscription::Sleep(std::chrono::milliseconds delay) {
  std::unique_lock<std::mutex> lock(mutex_);
  return !stop_cv_.wait_for(lock, delay, [this] { return stopping_; });
}

void GnmiSubscription::Run() {
  const GnmiOptions& options = driver_->options();
  std::mt19937_64 random(static_cast<uint64_t>(WallNs()));
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  auto delay = options.backoff_initial;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
    }
    auto session = driver_->CurrentSession();
    auto translator = driver_->Translator();
    if (!session || !translator) {
      if (driver_->closed()) {
        // Removed or replaced by a reload: nothing will reconnect.
        sink_->OnError(
            absl::UnavailableError(driver_->log_name() + " was closed"));
        return;
      }
      // The driver's worker reconnects; wait for it (in slices, to stop).
      driver_->WaitSession(0, std::chrono::milliseconds(250));
      continue;
    }
    const bool was_synced = synced_once_;
    absl::Status status = RunStream(*session, *translator);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
    }
    if (IsPermanent(status.code(), synced_once_)) {
      spdlog::warn("{}: upstream Subscribe refused: {}", driver_->log_name(),
                   std::string(status.message()));
      sink_->OnError(status);
      return;
    }
    // A stream that had synced ran fine: start the backoff over.
    if (synced_once_ && !was_synced) delay = options.backoff_initial;
    auto wait = std::chrono::milliseconds(
        static_cast<int64_t>(delay.count() * jitter(random)));
    spdlog::info(
        "{}: upstream Subscribe ended ({}); re-subscribing in {} ms, "
        "northbound streams stay open",
        driver_->log_name(), std::string(status.message()), wait.count());
    if (!Sleep(wait)) return;
    delay = std::min(options.backoff_max,
                     std::chrono::milliseconds(static_cast<int64_t>(
                         delay.count() * options.backoff_multiplier)));
  }
}

absl::Status GnmiSubscription::RunStream(
    const Session& session, const schema::GnmiTranslator& translator) {
  grpc::ClientContext context;
  driver_->PrepareContext(context, std::chrono::milliseconds(0));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return absl::CancelledError("subscription closed");
    active_ = &context;
  }
  auto& streams = driver_->upstream_streams_counter();
  streams.fetch_add(1);
  // The stub's Subscribe with the responses left in wire form: the common
  // Notification is converted straight from its bytes (see
  // ScanSubscribeResponse), anything else is parsed as usual.
  const grpc::internal::RpcMethod method(
      kSubscribeMethod, grpc::internal::RpcMethod::BIDI_STREAMING,
      session.channel);
  using RawStreams =
      grpc::internal::ClientReaderWriterFactory<::gnmi::SubscribeRequest,
                                                grpc::ByteBuffer>;
  std::unique_ptr<
      grpc::ClientReaderWriter<::gnmi::SubscribeRequest, grpc::ByteBuffer>>
      stream(RawStreams::Create(session.channel.get(), method, &context));
  ::gnmi::SubscribeRequest request = request_;
  request.mutable_subscribe()->set_encoding(ToProtoEncoding(session.encoding));
  // Every stream after the first synced one is a resync of the cache.
  syncing_ = true;
  resyncing_ = synced_once_;
  seen_.clear();
  // Resolved paths are remembered for this stream and translator only: a
  // reconnect may bring other models.
  StreamLeafConverter converter(translator);
  ForgetSlots();
  slot_epoch_ = converter.epoch();
  absl::Status unreadable;
  if (stream->Write(request)) {
    // A response that is not a plain Notification is parsed into an arena
    // over one reused block and dropped with it.
    std::vector<char> arena_block(kResponseArenaBytes);
    google::protobuf::ArenaOptions arena_options;
    arena_options.initial_block = arena_block.data();
    arena_options.initial_block_size = arena_block.size();
    google::protobuf::Arena arena(arena_options);
    grpc::ByteBuffer buffer;
    grpc::Slice single;
    std::vector<grpc::Slice> slices;
    std::string joined;
    WireNotification wire;
    while (stream->Read(&buffer)) {
      std::string_view bytes;
      if (buffer.TrySingleSlice(&single).ok()) {
        bytes = std::string_view(reinterpret_cast<const char*>(single.begin()),
                                 single.size());
      } else {
        slices.clear();
        joined.clear();
        if (!buffer.Dump(&slices).ok()) slices.clear();
        for (const grpc::Slice& slice : slices) {
          joined.append(reinterpret_cast<const char*>(slice.begin()),
                        slice.size());
        }
        bytes = joined;
      }
      // Passed-through data is forwarded as parsed messages, never
      // converted: only translated streams take the wire fast path.
      switch (native_ ? WireResponse::kOther
                      : ScanSubscribeResponse(bytes, wire)) {
        case WireResponse::kNotification:
          OnWireNotification(wire, converter);
          break;
        case WireResponse::kSyncResponse:
          OnSyncResponse();
          break;
        case WireResponse::kOther: {
          auto* response =
              google::protobuf::Arena::CreateMessage<::gnmi::SubscribeResponse>(
                  &arena);
          if (!response->ParseFromArray(bytes.data(),
                                        static_cast<int>(bytes.size()))) {
            unreadable = absl::InternalError(
                driver_->log_name() +
                ": Subscribe: a response that does not parse");
            break;
          }
          if (response->has_update()) {
            OnUpdate(response->update(), translator, converter);
          } else if (response->sync_response()) {
            OnSyncResponse();
          }
          arena.Reset();
          break;
        }
      }
      if (!unreadable.ok()) {
        context.TryCancel();
        break;
      }
    }
  }
  grpc::Status finished = stream->Finish();
  streams.fetch_sub(1);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    active_ = nullptr;
  }
  if (!unreadable.ok()) return unreadable;
  if (finished.ok()) {
    return absl::UnavailableError("the device ended the stream");
  }
  return FromGrpc(finished, driver_->log_name() + ": Subscribe");
}

void GnmiSubscription::OnUpdate(const ::gnmi::Notification& notification,
                                const schema::GnmiTranslator& translator,
                                StreamLeafConverter& converter) {
  if (native_) {
    OnNativeUpdate(notification);
    return;
  }
  Notification out;
  out.timestamp_ns =
      notification.timestamp() > 0 ? notification.timestamp() : WallNs();
  out.updates.reserve(static_cast<size_t>(notification.update_size()));
  for (const ::gnmi::Update& update : notification.update()) {
    const size_t first = out.updates.size();
    absl::Status converted =
        converter.AppendLeaves(notification.prefix(), update, out.updates);
    if (!converted.ok()) {
      spdlog::debug("{}: skipped an update: {}", driver_->log_name(),
                    std::string(converted.message()));
      continue;
    }
    KeepChanged(out.updates, first);
  }
  if (notification.delete__size() > 0) {
    const ::gnmi::Path prefix = WithoutTarget(notification.prefix());
    for (const ::gnmi::Path& path : notification.delete_()) {
      auto resolved = translator.ToXPath(prefix, path);
      if (!resolved.ok()) continue;
      // A deleted subtree takes every leaf below it out of the cache.
      const size_t first = out.deletes.size();
      for (auto it = known_.begin(); it != known_.end();) {
        if (IsAtOrBelow(it->first, resolved->xpath)) {
          out.deletes.push_back(it->first);
          ForgetSlots();
          known_.erase(it++);
        } else {
          ++it;
        }
      }
      if (out.deletes.size() == first) {
        out.deletes.push_back(resolved->xpath);
      } else {
        // In path order, whatever order the hash map holds them in.
        std::sort(out.deletes.begin() + static_cast<ptrdiff_t>(first),
                  out.deletes.end());
      }
    }
  }
  if (out.updates.empty() && out.deletes.empty()) return;
  sink_->OnNotification(std::move(out));
}

void GnmiSubscription::OnWireNotification(const WireNotification& notification,
                                          StreamLeafConverter& converter) {
  Notification out;
  out.timestamp_ns =
      notification.timestamp > 0 ? notification.timestamp : WallNs();
  out.updates.reserve(notification.updates.size());
  for (const WireUpdate& update : notification.updates) {
    const size_t first = out.updates.size();
    uint32_t slot = StreamLeafConverter::kNoSlot;
    absl::Status converted = converter.AppendWireLeaves(
        notification.prefix, update, out.updates, &slot);
    if (!converted.ok()) {
      spdlog::debug("{}: skipped an update: {}", driver_->log_name(),
                    std::string(converted.message()));
      continue;
    }
    if (converter.epoch() != slot_epoch_) {
      ForgetSlots();
      slot_epoch_ = converter.epoch();
    }
    KeepChanged(out.updates, first, slot);
  }
  if (out.updates.empty()) return;
  sink_->OnNotification(std::move(out));
}

void GnmiSubscription::KeepChanged(
    std::vector<Notification::LeafUpdate>& updates, size_t first,
    uint32_t slot) {
  const bool suppress_unchanged = resyncing_ && syncing_ && !sample_only_;
  if (updates.size() - first != 1) slot = StreamLeafConverter::kNoSlot;
  size_t kept = first;
  for (size_t i = first; i < updates.size(); ++i) {
    Notification::LeafUpdate& leaf = updates[i];
    // What tells a change: the value, or a passed-through update's bytes.
    const std::string& value =
        leaf.native_update.empty() ? leaf.json_value : leaf.native_update;
    if (syncing_) seen_.insert(leaf.xpath);
    // The leaf's known value: through its slot, else the map (a new leaf
    // is recorded and kept as it is).
    std::string* known_value =
        slot < slot_values_.size() ? slot_values_[slot] : nullptr;
    if (known_value == nullptr) {
      auto [it, inserted] = known_.try_emplace(leaf.xpath, value);
      if (slot != StreamLeafConverter::kNoSlot) {
        if (slot >= slot_values_.size()) slot_values_.resize(slot + 1);
        slot_values_[slot] = &it->second;
      }
      if (!inserted) known_value = &it->second;
    }
    if (known_value != nullptr) {
      if (suppress_unchanged && *known_value == value) continue;
      *known_value = value;
    }
    if (kept != i) updates[kept] = std::move(leaf);
    ++kept;
  }
  updates.resize(kept);
}

void GnmiSubscription::OnNativeUpdate(
    const ::gnmi::Notification& notification) {
  Notification out;
  out.timestamp_ns =
      notification.timestamp() > 0 ? notification.timestamp() : WallNs();
  for (const ::gnmi::Update& update : notification.update()) {
    // The full path, without the device's target, and the value untouched.
    ::gnmi::Update full;
    *full.mutable_path() =
        schema::JoinPaths(notification.prefix(), update.path());
    *full.mutable_val() = update.val();
    if (update.duplicates() != 0) full.set_duplicates(update.duplicates());
    Notification::LeafUpdate leaf;
    leaf.xpath = schema::NativePathKey(full.path());
    leaf.native_update = full.SerializeAsString();
    out.updates.push_back(std::move(leaf));
  }
  KeepChanged(out.updates, 0);
  for (const ::gnmi::Path& path : notification.delete_()) {
    const ::gnmi::Path full = schema::JoinPaths(notification.prefix(), path);
    const std::string key = schema::NativePathKey(full);
    bool matched = false;
    for (auto it = known_.begin(); it != known_.end();) {
      if (key.ends_with("/") ? it->first.starts_with(key)
                             : IsAtOrBelow(it->first, key)) {
        out.native_deletes.push_back(NativeDeleteOf(it->first, it->second));
        ForgetSlots();
        known_.erase(it++);
        matched = true;
      } else {
        ++it;
      }
    }
    if (!matched) {
      out.native_deletes.push_back({key, full.SerializeAsString()});
    }
  }
  if (out.updates.empty() && out.native_deletes.empty()) return;
  sink_->OnNotification(std::move(out));
}

Notification::NativeDelete GnmiSubscription::NativeDeleteOf(
    const std::string& key, const std::string& update_bytes) {
  ::gnmi::Update update;
  update.ParseFromString(update_bytes);
  return {key, update.path().SerializeAsString()};
}

void GnmiSubscription::OnSyncResponse() {
  if (syncing_ && resyncing_) {
    // What the device no longer has after the reconnect was deleted while
    // we were away.
    Notification gone;
    gone.timestamp_ns = WallNs();
    for (auto it = known_.begin(); it != known_.end();) {
      if (!seen_.contains(it->first)) {
        if (native_) {
          gone.native_deletes.push_back(NativeDeleteOf(it->first, it->second));
        } else {
          gone.deletes.push_back(it->first);
        }
        ForgetSlots();
        known_.erase(it++);
      } else {
        ++it;
      }
    }
    std::sort(gone.deletes.begin(), gone.deletes.end());
    if (!gone.deletes.empty() || !gone.native_deletes.empty()) {
      spdlog::info("{}: resync after reconnect: {} leaves vanished",
                   driver_->log_name(),
                   gone.deletes.size() + gone.native_deletes.size());
      sink_->OnNotification(std::move(gone));
    }
  }
  syncing_ = false;
  resyncing_ = false;
  seen_.clear();
  if (!synced_once_) {
    synced_once_ = true;
    sink_->OnSynced();
  }
}

}  // namespace southgate::drivers::gnmi_driver
