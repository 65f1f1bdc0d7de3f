// Conversions between the driver API (XPath, RFC 7951 JSON) and the gNMI
// messages a device speaks, through the device's schema (GnmiTranslator).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "drivers/gnmi/gnmi_options.h"
#include "github.com/openconfig/gnmi/proto/gnmi/gnmi.pb.h"
#include "grpcpp/support/status.h"
#include "schema/data_tree.h"
#include "schema/gnmi_translator.h"
#include "southgate/driver.h"

namespace southgate::drivers::gnmi_driver {

::gnmi::Encoding ToProtoEncoding(WireEncoding encoding);

// A device's answer as an absl::Status with the device's code; the message
// names the device and the operation.
absl::Status FromGrpc(const grpc::Status& status, const std::string& what);

// The device's prefix without its target: paths are resolved against the
// schema, the target is the device's own name for itself.
::gnmi::Path WithoutTarget(const ::gnmi::Path& prefix);

// Merges one device update (any of JSON_IETF, JSON, scalar or leaf-list
// values) into `tree`, checked against the schema.
absl::Status MergeUpdate(const schema::GnmiTranslator& translator,
                         const ::gnmi::Path& prefix,
                         const ::gnmi::Update& update, schema::DataTree& tree);

// The leaves one device update carries, as data paths and RFC 7951 values
// (a container-valued JSON update yields every leaf under it).
absl::StatusOr<std::vector<Notification::LeafUpdate>> UpdateLeaves(
    const schema::GnmiTranslator& translator, const ::gnmi::Path& prefix,
    const ::gnmi::Update& update);

// An upstream SubscribeResponse in wire form, read without building its
// messages: the common telemetry case (a Notification of updates that each
// carry a path and a `val`) is converted straight from the bytes.
struct WireUpdate {
  std::string_view path;  // a serialized gnmi.Path
  std::string_view val;   // a serialized gnmi.TypedValue
};
struct WireNotification {
  int64_t timestamp = 0;
  std::string_view prefix;  // a serialized gnmi.Path (may be empty)
  std::vector<WireUpdate> updates;
};
enum class WireResponse {
  kNotification,  // `notification` filled in
  kSyncResponse,
  kOther,  // anything else (deletes, deprecated fields, errors, unknown
           // fields, malformed bytes): parse the message in full instead
};
// Scans `bytes` (a serialized gnmi.SubscribeResponse); views point into it.
// Only the envelope (response, notification, updates) is checked here; each
// path and value is parsed when used (AppendWireLeaves), so a damaged one
// costs its update (skipped like a value the schema refuses), where the
// full parse would refuse the whole response.
WireResponse ScanSubscribeResponse(std::string_view bytes,
                                   WireNotification& notification);

// UpdateLeaves for one upstream telemetry stream, which repeats the same
// leaves over and over: each path's resolution against the schema (its data
// path and schema node) is remembered, keyed by the path (its elements, or
// its bytes for an update in wire form), so a repeated leaf costs a hash
// lookup instead of a schema walk. Every value is
// still checked against the leaf's type, each time. At most `max_paths`
// paths are remembered (then it starts over). Holds `translator` by
// reference: one converter per stream and translator; one thread at a time.
class StreamLeafConverter {
 public:
  static constexpr size_t kDefaultMaxPaths = 1 << 16;
  explicit StreamLeafConverter(const schema::GnmiTranslator& translator,
                               size_t max_paths = kDefaultMaxPaths);

  // Appends the leaves `update` carries under the Notification's `prefix`
  // (its target ignored) to `out`; on error `out` is left as it was.
  absl::Status AppendLeaves(const ::gnmi::Path& prefix,
                            const ::gnmi::Update& update,
                            std::vector<Notification::LeafUpdate>& out);

  // The same for an update in wire form (ScanSubscribeResponse): the
  // serialized prefix and path are the memo key as they are, and are
  // parsed only for a path not remembered yet. `slot`, when given, is set
  // to the path's slot (below) when the update was one remembered leaf,
  // else to kNoSlot.
  absl::Status AppendWireLeaves(std::string_view prefix,
                                const WireUpdate& update,
                                std::vector<Notification::LeafUpdate>& out,
                                uint32_t* slot = nullptr);

  // Each remembered leaf path has a slot: a small number, dense from 0, for
  // the caller to keep per-leaf state in a vector instead of a map. Slots
  // are reassigned when epoch() changes (the memo started over).
  static constexpr uint32_t kNoSlot = UINT32_MAX;
  uint64_t epoch() const { return epoch_; }

  size_t remembered_paths() const { return memo_.size(); }
  // Paths resolved against the schema so far (misses of the memo).
  size_t resolutions() const { return resolutions_; }

 private:
  const schema::GnmiTranslator& translator_;
  const size_t max_paths_;
  struct Remembered {
    // The path's one concrete leaf, or nullopt when it names a container,
    // list or several nodes (converted through a data tree).
    std::optional<schema::ConcreteLeaf> leaf;
    uint32_t slot = kNoSlot;
  };
  absl::flat_hash_map<std::string, Remembered> memo_;  // key_ -> entry
  // The memo entry for the path in key_ (remembered only if `memoisable`),
  // calling `resolve` (-> StatusOr<ConcreteLeaf>) on a miss; nullptr with
  // `status` set when the path does not resolve (not remembered).
  template <typename ResolvePath>
  const Remembered* Lookup(bool memoisable, ResolvePath resolve,
                           absl::Status& status);
  absl::Status Append(const std::optional<schema::ConcreteLeaf>& known,
                      const ::gnmi::Path& prefix, const ::gnmi::Update& update,
                      const ::gnmi::TypedValue& value,
                      std::vector<Notification::LeafUpdate>& out);

  std::string key_;  // reused between updates
  Remembered unremembered_;
  uint32_t next_slot_ = 0;
  uint64_t epoch_ = 0;
  ::gnmi::TypedValue wire_value_;  // reused between wire updates
  size_t resolutions_ = 0;
};

// A driver Edit (kReplace/kUpdate) as the gNMI updates that carry it in
// `encoding`. Never empty: a replace with nothing below the node sends "{}".
absl::StatusOr<std::vector<::gnmi::Update>> EditToUpdates(
    const schema::GnmiTranslator& translator, const Edit& edit,
    WireEncoding encoding);

}  // namespace southgate::drivers::gnmi_driver
