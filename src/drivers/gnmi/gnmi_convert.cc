#include "drivers/gnmi/gnmi_convert.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

namespace southgate::drivers::gnmi_driver {

::gnmi::Encoding ToProtoEncoding(WireEncoding encoding) {
  switch (encoding) {
    case WireEncoding::kJsonIetf:
      return ::gnmi::JSON_IETF;
    case WireEncoding::kJson:
      return ::gnmi::JSON;
    case WireEncoding::kProto:
      return ::gnmi::PROTO;
  }
  return ::gnmi::JSON_IETF;
}

absl::Status FromGrpc(const grpc::Status& status, const std::string& what) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(what, ": ", status.error_message()));
}

::gnmi::Path WithoutTarget(const ::gnmi::Path& prefix) {
  ::gnmi::Path out = prefix;
  out.clear_target();
  return out;
}

namespace {

// The update's value; the deprecated Update.value field, as old devices
// send it, is converted into `storage`.
const ::gnmi::TypedValue& ValueOf(const ::gnmi::Update& update,
                                  ::gnmi::TypedValue& storage) {
  if (update.has_val() || !update.has_value()) return update.val();
  if (update.value().type() == ::gnmi::JSON_IETF) {
    storage.set_json_ietf_val(update.value().value());
  } else {
    storage.set_json_val(update.value().value());
  }
  return storage;
}

void AppendSized(std::string_view text, std::string& key) {
  const auto size = static_cast<uint32_t>(text.size());
  key.append(reinterpret_cast<const char*>(&size), sizeof(size));
  key.append(text);
}

// Appends an unambiguous key for `path`'s origin and elements (every
// string length-prefixed, keys in name order, the target left out) to
// `key`; false when the path uses the deprecated `element` field, which
// the key does not cover.
bool AppendPathKey(const ::gnmi::Path& path, std::string& key) {
  if (path.element_size() > 0) return false;
  AppendSized(path.origin(), key);
  const auto elems = static_cast<uint32_t>(path.elem_size());
  key.append(reinterpret_cast<const char*>(&elems), sizeof(elems));
  for (const ::gnmi::PathElem& elem : path.elem()) {
    AppendSized(elem.name(), key);
    const auto keys = static_cast<uint32_t>(elem.key_size());
    key.append(reinterpret_cast<const char*>(&keys), sizeof(keys));
    if (keys == 0) continue;
    // A protobuf map's iteration order is unspecified: sort by key name.
    absl::InlinedVector<std::pair<const std::string*, const std::string*>, 2>
        sorted;
    for (const auto& [name, value] : elem.key()) {
      sorted.emplace_back(&name, &value);
    }
    std::sort(sorted.begin(), sorted.end(),
              [](const auto& a, const auto& b) { return *a.first < *b.first; });
    for (const auto& [name, value] : sorted) {
      AppendSized(*name, key);
      AppendSized(*value, key);
    }
  }
  return true;
}

// The leaves of a container, list entry or several nodes: through a tree.
absl::StatusOr<std::vector<Notification::LeafUpdate>> TreeLeaves(
    const schema::GnmiTranslator& translator, const ::gnmi::Path& prefix,
    const ::gnmi::Update& update, const ::gnmi::TypedValue& value) {
  ASSIGN_OR_RETURN(Edit edit, translator.ToEdit(Edit::Op::kUpdate, prefix,
                                                update.path(), &value));
  ASSIGN_OR_RETURN(
      schema::DataTree tree,
      schema::DataTree::ParseJsonIetf(translator.context(), edit.document,
                                      schema::DataTree::Parse::kPartial));
  return tree.Leaves(edit.xpath);
}

}  // namespace

absl::Status MergeUpdate(const schema::GnmiTranslator& translator,
                         const ::gnmi::Path& prefix,
                         const ::gnmi::Update& update, schema::DataTree& tree) {
  ::gnmi::TypedValue storage;
  const ::gnmi::TypedValue& value = ValueOf(update, storage);
  ASSIGN_OR_RETURN(Edit edit, translator.ToEdit(Edit::Op::kUpdate, prefix,
                                                update.path(), &value));
  return tree.Apply(edit);
}

absl::StatusOr<std::vector<Notification::LeafUpdate>> UpdateLeaves(
    const schema::GnmiTranslator& translator, const ::gnmi::Path& prefix,
    const ::gnmi::Update& update) {
  ::gnmi::TypedValue storage;
  const ::gnmi::TypedValue& value = ValueOf(update, storage);
  // Most telemetry is one leaf per update: checked without a data tree.
  auto leaf = translator.ToLeafUpdate(prefix, update.path(), value);
  if (leaf.status().code() != absl::StatusCode::kFailedPrecondition) {
    if (!leaf.ok()) return leaf.status();
    return std::vector<Notification::LeafUpdate>{*std::move(leaf)};
  }
  return TreeLeaves(translator, prefix, update, value);
}

namespace {

using google::protobuf::io::CodedInputStream;
using WireFormat = google::protobuf::internal::WireFormatLite;

constexpr uint32_t Tag(int field, WireFormat::WireType type) {
  return (static_cast<uint32_t>(field) << 3) | static_cast<uint32_t>(type);
}
constexpr uint32_t kBytes(int field) {
  return Tag(field, WireFormat::WIRETYPE_LENGTH_DELIMITED);
}
constexpr uint32_t kVarint(int field) {
  return Tag(field, WireFormat::WIRETYPE_VARINT);
}

// The length-delimited field `in` is at (its tag read) as a view of
// `whole`, the bytes `in` reads.
bool ReadView(CodedInputStream& in, std::string_view whole,
              std::string_view& out) {
  uint32_t size = 0;
  if (!in.ReadVarint32(&size)) return false;
  const auto at = static_cast<size_t>(in.CurrentPosition());
  if (at > whole.size() || size > whole.size() - at) return false;
  out = whole.substr(at, size);
  return in.Skip(static_cast<int>(size));
}

CodedInputStream Reader(std::string_view bytes) {
  return CodedInputStream(reinterpret_cast<const uint8_t*>(bytes.data()),
                          static_cast<int>(bytes.size()));
}

bool ReadToEnd(CodedInputStream& in, std::string_view bytes) {
  return static_cast<size_t>(in.CurrentPosition()) == bytes.size();
}

// One Update: exactly one path and one val, optionally `duplicates`.
bool ScanUpdate(std::string_view bytes, WireUpdate& update) {
  CodedInputStream in = Reader(bytes);
  bool has_path = false, has_val = false;
  while (const uint32_t tag = in.ReadTag()) {
    if (tag == kBytes(1) && !has_path) {
      if (!ReadView(in, bytes, update.path)) return false;
      has_path = true;
    } else if (tag == kBytes(3) && !has_val) {
      if (!ReadView(in, bytes, update.val)) return false;
      has_val = true;
    } else if (tag == kVarint(4)) {  // duplicates: not used
      uint64_t ignored;
      if (!in.ReadVarint64(&ignored)) return false;
    } else {
      return false;
    }
  }
  return ReadToEnd(in, bytes) && has_path && has_val;
}

// A Notification of timestamp, prefix and updates only.
bool ScanNotification(std::string_view bytes, WireNotification& out) {
  CodedInputStream in = Reader(bytes);
  bool has_prefix = false;
  while (const uint32_t tag = in.ReadTag()) {
    if (tag == kVarint(1)) {
      uint64_t timestamp;
      if (!in.ReadVarint64(&timestamp)) return false;
      out.timestamp = static_cast<int64_t>(timestamp);
    } else if (tag == kBytes(2) && !has_prefix) {
      if (!ReadView(in, bytes, out.prefix)) return false;
      has_prefix = true;
    } else if (tag == kBytes(4)) {
      std::string_view update_bytes;
      if (!ReadView(in, bytes, update_bytes)) return false;
      WireUpdate update;
      if (!ScanUpdate(update_bytes, update)) return false;
      out.updates.push_back(update);
    } else {
      return false;  // alias, delete, atomic, unknown fields
    }
  }
  return ReadToEnd(in, bytes);
}

}  // namespace

WireResponse ScanSubscribeResponse(std::string_view bytes,
                                   WireNotification& notification) {
  notification.timestamp = 0;
  notification.prefix = {};
  notification.updates.clear();
  CodedInputStream in = Reader(bytes);
  std::string_view update;
  bool has_update = false, sync_response = false;
  while (const uint32_t tag = in.ReadTag()) {
    if (tag == kBytes(1) && !has_update) {
      if (!ReadView(in, bytes, update)) return WireResponse::kOther;
      has_update = true;
    } else if (tag == kVarint(3)) {
      uint64_t value;
      if (!in.ReadVarint64(&value)) return WireResponse::kOther;
      sync_response = value != 0;
    } else {
      return WireResponse::kOther;  // error, extensions, unknown fields
    }
  }
  if (!ReadToEnd(in, bytes) || (has_update && sync_response)) {
    return WireResponse::kOther;
  }
  if (sync_response) return WireResponse::kSyncResponse;
  if (!has_update || !ScanNotification(update, notification)) {
    return WireResponse::kOther;
  }
  return WireResponse::kNotification;
}

StreamLeafConverter::StreamLeafConverter(
    const schema::GnmiTranslator& translator, size_t max_paths)
    : translator_(translator), max_paths_(std::max<size_t>(1, max_paths)) {}

template <typename ResolvePath>
const StreamLeafConverter::Remembered* StreamLeafConverter::Lookup(
    bool memoisable, ResolvePath resolve, absl::Status& status) {
  if (memoisable) {
    if (auto it = memo_.find(key_); it != memo_.end()) return &it->second;
  }
  ++resolutions_;
  absl::StatusOr<schema::ConcreteLeaf> leaf = resolve();
  if (!leaf.ok() &&
      leaf.status().code() != absl::StatusCode::kFailedPrecondition) {
    status = leaf.status();  // not remembered: errors stay rare and loud
    return nullptr;
  }
  Remembered resolved;
  if (leaf.ok()) resolved.leaf = *std::move(leaf);
  if (!memoisable) {
    unremembered_ = std::move(resolved);
    return &unremembered_;
  }
  if (memo_.size() >= max_paths_) {
    memo_.clear();
    next_slot_ = 0;
    ++epoch_;
  }
  if (resolved.leaf) resolved.slot = next_slot_++;
  return &memo_.emplace(key_, std::move(resolved)).first->second;
}

absl::Status StreamLeafConverter::Append(
    const std::optional<schema::ConcreteLeaf>& known,
    const ::gnmi::Path& prefix, const ::gnmi::Update& update,
    const ::gnmi::TypedValue& value,
    std::vector<Notification::LeafUpdate>& out) {
  if (!known.has_value()) {
    ASSIGN_OR_RETURN(auto leaves, TreeLeaves(translator_, WithoutTarget(prefix),
                                             update, value));
    for (auto& one : leaves) out.push_back(std::move(one));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::string json_value, translator_.LeafJson(*known, value));
  out.push_back({known->xpath, std::move(json_value)});
  return absl::OkStatus();
}

absl::Status StreamLeafConverter::AppendLeaves(
    const ::gnmi::Path& prefix, const ::gnmi::Update& update,
    std::vector<Notification::LeafUpdate>& out) {
  ::gnmi::TypedValue storage;
  const ::gnmi::TypedValue& value = ValueOf(update, storage);
  // Prefix and path elements are joined before resolving, so their
  // concatenation (plus both origins) identifies the resolution.
  key_.assign(1, 'S');
  const bool memoisable =
      AppendPathKey(prefix, key_) && AppendPathKey(update.path(), key_);
  absl::Status status;
  const auto* known = Lookup(
      memoisable,
      [&] {
        return translator_.ResolveLeaf(WithoutTarget(prefix), update.path());
      },
      status);
  if (known == nullptr) return status;
  return Append(known->leaf, prefix, update, value, out);
}

absl::Status StreamLeafConverter::AppendWireLeaves(
    std::string_view prefix, const WireUpdate& update,
    std::vector<Notification::LeafUpdate>& out, uint32_t* slot) {
  if (slot) *slot = kNoSlot;
  if (!wire_value_.ParseFromArray(update.val.data(),
                                  static_cast<int>(update.val.size()))) {
    return absl::InvalidArgumentError("a value that does not parse");
  }
  // The serialized paths are the key: the same bytes are the same paths
  // (other bytes for the same path only cost a resolution more).
  key_.assign(1, 'W');
  AppendSized(prefix, key_);
  key_.append(update.path);
  ::gnmi::Path prefix_path;
  ::gnmi::Update parsed;
  bool have_paths = false;
  auto parse_paths = [&]() -> absl::Status {
    if (have_paths) return absl::OkStatus();
    if (!prefix_path.ParseFromArray(prefix.data(),
                                    static_cast<int>(prefix.size())) ||
        !parsed.mutable_path()->ParseFromArray(
            update.path.data(), static_cast<int>(update.path.size()))) {
      return absl::InvalidArgumentError("a path that does not parse");
    }
    have_paths = true;
    return absl::OkStatus();
  };
  absl::Status status;
  const auto* known = Lookup(
      true,
      [&]() -> absl::StatusOr<schema::ConcreteLeaf> {
        RETURN_IF_ERROR(parse_paths());
        return translator_.ResolveLeaf(WithoutTarget(prefix_path),
                                       parsed.path());
      },
      status);
  if (known == nullptr) return status;
  if (known->leaf.has_value()) {
    ASSIGN_OR_RETURN(std::string json_value,
                     translator_.LeafJson(*known->leaf, wire_value_));
    out.push_back({known->leaf->xpath, std::move(json_value)});
    if (slot) *slot = known->slot;
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(parse_paths());
  *parsed.mutable_val() = wire_value_;
  return Append(known->leaf, prefix_path, parsed, wire_value_, out);
}

absl::StatusOr<std::vector<::gnmi::Update>> EditToUpdates(
    const schema::GnmiTranslator& translator, const Edit& edit,
    WireEncoding encoding) {
  ASSIGN_OR_RETURN(
      schema::DataTree tree,
      schema::DataTree::ParseJsonIetf(translator.context(), edit.document,
                                      schema::DataTree::Parse::kPartial));
  ASSIGN_OR_RETURN(
      std::vector<::gnmi::Update> updates,
      translator.ToUpdates(tree, edit.xpath, ToProtoEncoding(encoding)));
  if (updates.empty()) {
    // Nothing below the node (an empty container or list entry): a JSON
    // empty object still replaces or creates it on the device.
    ::gnmi::Update update;
    ASSIGN_OR_RETURN(*update.mutable_path(), translator.ToGnmiPath(edit.xpath));
    if (encoding == WireEncoding::kJson) {
      update.mutable_val()->set_json_val("{}");
    } else {
      update.mutable_val()->set_json_ietf_val("{}");
    }
    updates.push_back(std::move(update));
  }
  return updates;
}

}  // namespace southgate::drivers::gnmi_driver
