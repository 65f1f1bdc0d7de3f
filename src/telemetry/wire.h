// What the telemetry cache holds and how it reaches the wire.
//
// A leaf's value is encoded once per encoding and the bytes are shared by
// every stream that sends it: streams assemble a Notification by
// concatenating pre-serialized Update messages, so fan-out to N clients
// costs N memcpy's, not N protobuf builds.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "github.com/openconfig/gnmi/proto/gnmi/gnmi.pb.h"
#include "schema/gnmi_translator.h"

namespace southgate::telemetry {

// One data path as the cache knows it; shared by every value of the path.
struct PathInfo {
  std::string xpath;       // or NativePathKey for passed-through data
  std::string path_bytes;  // serialized gnmi::Path (no target)
};

// One value of one leaf (or a delete of the path). Immutable once built,
// except for the lazily filled encoded forms.
class Leaf {
 public:
  Leaf(std::shared_ptr<const PathInfo> path, std::string json_value,
       int64_t timestamp_ns, bool deleted)
      : path_(std::move(path)),
        json_(std::move(json_value)),
        timestamp_ns_(timestamp_ns),
        deleted_(deleted) {}
  // A passed-through value (Notification::LeafUpdate::native_update): the
  // device's serialized gnmi.Update, sent on unchanged in every encoding.
  static std::shared_ptr<const Leaf> Native(
      std::shared_ptr<const PathInfo> path, std::string update_bytes,
      int64_t timestamp_ns) {
    auto leaf = std::make_shared<Leaf>(std::move(path), std::move(update_bytes),
                                       timestamp_ns, false);
    leaf->native_ = true;
    return leaf;
  }
  ~Leaf();
  Leaf(const Leaf&) = delete;
  Leaf& operator=(const Leaf&) = delete;

  const PathInfo& path() const { return *path_; }
  const std::shared_ptr<const PathInfo>& path_ptr() const { return path_; }
  // The RFC 7951 value; for a native leaf, the device's Update bytes (so
  // comparing two values still tells a change).
  const std::string& json() const { return json_; }
  bool native() const { return native_; }
  int64_t timestamp_ns() const { return timestamp_ns_; }
  bool deleted() const { return deleted_; }

  // The serialized gnmi::Update (path and value) in `encoding`, built on
  // first use and shared afterwards. Null when the value cannot be encoded
  // (logged once per leaf value).
  const std::string* UpdateBytes(
      gnmi::Encoding encoding, const schema::GnmiTranslator& translator) const;

 private:
  std::shared_ptr<const PathInfo> path_;
  std::string json_;
  int64_t timestamp_ns_;
  bool deleted_;
  bool native_ = false;
  mutable std::array<std::atomic<const std::string*>, 3> encoded_{};
};

using LeafPtr = std::shared_ptr<const Leaf>;

// Minimal protobuf wire writing, for assembling Notifications from parts.
void AppendVarint(std::string& out, uint64_t value);
void AppendTag(std::string& out, int field, int wire_type);
void AppendBytesField(std::string& out, int field, std::string_view bytes);

// A serialized gnmi::Notification under construction.
class NotificationWriter {
 public:
  NotificationWriter(int64_t timestamp_ns, std::string_view prefix_bytes);
  void AddUpdate(const std::string& update_bytes) {
    AppendBytesField(out_, 4, update_bytes);
    ++count_;
  }
  void AddDelete(const std::string& path_bytes) {
    AppendBytesField(out_, 5, path_bytes);
    ++count_;
  }
  size_t count() const { return count_; }
  // Puts the notification into `response` as its `update` field.
  void MoveInto(gnmi::SubscribeResponse& response);

 private:
  std::string out_;
  size_t count_ = 0;
};

}  // namespace southgate::telemetry
