#include "drivers/gnmi/gnmi_convert.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

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

StreamLeafConverter::StreamLeafConverter(
    const schema::GnmiTranslator& translator, size_t max_paths)
    : translator_(translator), max_paths_(std::max<size_t>(1, max_paths)) {}

absl::Status StreamLeafConverter::AppendLeaves(
    const ::gnmi::Path& prefix, const ::gnmi::Update& update,
    std::vector<Notification::LeafUpdate>& out) {
  ::gnmi::TypedValue storage;
  const ::gnmi::TypedValue& value = ValueOf(update, storage);
  key_.clear();
  // Prefix and path elements are joined before resolving, so their
  // concatenation (plus both origins) identifies the resolution.
  const bool memoisable =
      AppendPathKey(prefix, key_) && AppendPathKey(update.path(), key_);
  const std::optional<schema::ConcreteLeaf>* known = nullptr;
  std::optional<schema::ConcreteLeaf> unremembered;
  if (memoisable) {
    if (auto it = memo_.find(key_); it != memo_.end()) known = &it->second;
  }
  if (known == nullptr) {
    ++resolutions_;
    auto leaf = translator_.ResolveLeaf(WithoutTarget(prefix), update.path());
    if (!leaf.ok() &&
        leaf.status().code() != absl::StatusCode::kFailedPrecondition) {
      return leaf.status();  // not remembered: errors stay rare and loud
    }
    std::optional<schema::ConcreteLeaf> resolved;
    if (leaf.ok()) resolved = *std::move(leaf);
    if (memoisable) {
      if (memo_.size() >= max_paths_) memo_.clear();
      known = &memo_.emplace(key_, std::move(resolved)).first->second;
    } else {
      unremembered = std::move(resolved);
      known = &unremembered;
    }
  }
  if (!known->has_value()) {
    ASSIGN_OR_RETURN(auto leaves, TreeLeaves(translator_, WithoutTarget(prefix),
                                             update, value));
    for (auto& one : leaves) out.push_back(std::move(one));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::string json_value,
                   translator_.LeafJson(**known, value));
  out.push_back({(*known)->xpath, std::move(json_value)});
  return absl::OkStatus();
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
