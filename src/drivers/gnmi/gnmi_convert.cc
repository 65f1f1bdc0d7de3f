#include "drivers/gnmi/gnmi_convert.h"

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

// The deprecated Update.value field, as old devices send it.
::gnmi::TypedValue ValueOf(const ::gnmi::Update& update) {
  if (update.has_val() || !update.has_value()) return update.val();
  ::gnmi::TypedValue value;
  if (update.value().type() == ::gnmi::JSON_IETF) {
    value.set_json_ietf_val(update.value().value());
  } else {
    value.set_json_val(update.value().value());
  }
  return value;
}

}  // namespace

absl::Status MergeUpdate(const schema::GnmiTranslator& translator,
                         const ::gnmi::Path& prefix,
                         const ::gnmi::Update& update, schema::DataTree& tree) {
  const ::gnmi::TypedValue value = ValueOf(update);
  ASSIGN_OR_RETURN(Edit edit, translator.ToEdit(Edit::Op::kUpdate, prefix,
                                                update.path(), &value));
  return tree.Apply(edit);
}

absl::StatusOr<std::vector<Notification::LeafUpdate>> UpdateLeaves(
    const schema::GnmiTranslator& translator, const ::gnmi::Path& prefix,
    const ::gnmi::Update& update) {
  const ::gnmi::TypedValue value = ValueOf(update);
  // Most telemetry is one leaf per update: checked without a data tree.
  auto leaf = translator.ToLeafUpdate(prefix, update.path(), value);
  if (leaf.status().code() != absl::StatusCode::kFailedPrecondition) {
    if (!leaf.ok()) return leaf.status();
    return std::vector<Notification::LeafUpdate>{*std::move(leaf)};
  }
  ASSIGN_OR_RETURN(Edit edit, translator.ToEdit(Edit::Op::kUpdate, prefix,
                                                update.path(), &value));
  ASSIGN_OR_RETURN(
      schema::DataTree tree,
      schema::DataTree::ParseJsonIetf(translator.context(), edit.document,
                                      schema::DataTree::Parse::kPartial));
  return tree.Leaves(edit.xpath);
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
