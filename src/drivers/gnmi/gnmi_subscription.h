// One upstream gNMI Subscribe stream (mode STREAM) per driver subscription,
// i.e. per (device, path set) the telemetry hub shares between all its
// northbound clients. The stream outlives connections: when it ends for a
// transport reason it is re-opened (with backoff) once the driver is
// connected again, the device's full state is read again up to its
// sync_response, unchanged values are not repeated, and leaves that
// vanished meanwhile are sent as deletes. The northbound streams never see
// the reconnect except as those changes.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "drivers/gnmi/gnmi_convert.h"
#include "drivers/gnmi/gnmi_driver.h"

namespace southgate::drivers::gnmi_driver {

// The SubscriptionList for `specs` (encoding filled in per stream).
absl::StatusOr<::gnmi::SubscribeRequest> BuildSubscribeRequest(
    const GnmiDriver& driver, const schema::GnmiTranslator& translator,
    const std::vector<SubscriptionSpec>& specs);

class GnmiSubscription : public Subscription {
 public:
  static absl::StatusOr<std::unique_ptr<Subscription>> Start(
      GnmiDriver* driver, ::gnmi::SubscribeRequest request,
      const std::vector<SubscriptionSpec>& specs,
      std::shared_ptr<NotificationSink> sink);
  ~GnmiSubscription() override;

 private:
  GnmiSubscription(GnmiDriver* driver, ::gnmi::SubscribeRequest request,
                   bool sample_only, bool native,
                   std::shared_ptr<NotificationSink> sink);
  void Run();
  // One upstream stream, until it ends; its final status.
  absl::Status RunStream(const Session& session,
                         const schema::GnmiTranslator& translator);
  void OnUpdate(const ::gnmi::Notification& notification,
                const schema::GnmiTranslator& translator,
                StreamLeafConverter& converter);
  void OnWireNotification(const WireNotification& notification,
                          StreamLeafConverter& converter);
  // Drops the leaves from `first` on that are known with the same value
  // during a resync; records the rest as known (and seen while syncing).
  // `slot` (StreamLeafConverter) finds the known value of a single leaf
  // without a map lookup.
  void KeepChanged(std::vector<Notification::LeafUpdate>& updates, size_t first,
                   uint32_t slot = StreamLeafConverter::kNoSlot);
  // Forgets every slot's value pointer (after known_ lost entries).
  void ForgetSlots() { slot_values_.clear(); }
  // Pass-through (every path outside the loaded models): updates go on as
  // the device sent them, keyed by NativePathKey.
  void OnNativeUpdate(const ::gnmi::Notification& notification);
  static Notification::NativeDelete NativeDeleteOf(
      const std::string& key, const std::string& update_bytes);
  void OnSyncResponse();
  // Waits `delay` unless stopped; false when stopped.
  bool Sleep(std::chrono::milliseconds delay);

  GnmiDriver* const driver_;
  ::gnmi::SubscribeRequest request_;
  const bool sample_only_;  // SAMPLE repeats values: never suppress them
  const bool native_;       // passed through untranslated
  const std::shared_ptr<NotificationSink> sink_;

  std::mutex mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  grpc::ClientContext* active_ = nullptr;  // the open stream, to cancel it
  std::thread thread_;

  // Reader thread only.
  // Data path -> JSON value (native: key -> the device's Update bytes);
  // nodes, as slot_values_ points into them.
  absl::node_hash_map<std::string, std::string> known_;
  // The converter's slot -> that leaf's value in known_ (or null); for the
  // converter's current epoch only.
  std::vector<std::string*> slot_values_;
  uint64_t slot_epoch_ = 0;
  absl::flat_hash_set<std::string> seen_;  // during a (re)sync
  bool syncing_ = false;
  bool resyncing_ = false;
  bool synced_once_ = false;
};

}  // namespace southgate::drivers::gnmi_driver
