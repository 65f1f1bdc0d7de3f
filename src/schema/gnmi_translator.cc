#include "schema/gnmi_translator.h"

#include "schema/ly_util.h"
#include "schema/yang_context.h"

namespace southgate::schema {

GnmiTranslator::GnmiTranslator(std::shared_ptr<const YangContext> context)
    : context_(std::move(context)) {}

absl::StatusOr<ResolvedPath> GnmiTranslator::ToXPath(
    const gnmi::Path& prefix, const gnmi::Path& path) const {
  return absl::UnimplementedError("todo");
}
absl::StatusOr<gnmi::Path> GnmiTranslator::ToGnmiPath(
    std::string_view data_path) const {
  return absl::UnimplementedError("todo");
}
absl::StatusOr<Edit> GnmiTranslator::ToEdit(
    Edit::Op op, const gnmi::Path& prefix, const gnmi::Path& path,
    const gnmi::TypedValue* value) const {
  return absl::UnimplementedError("todo");
}
absl::StatusOr<std::vector<gnmi::Update>> GnmiTranslator::ToUpdates(
    const DataTree& tree, const std::string& xpath,
    gnmi::Encoding encoding) const {
  return absl::UnimplementedError("todo");
}
absl::StatusOr<gnmi::TypedValue> GnmiTranslator::LeafValue(
    const std::string& data_path, const std::string& json_value,
    gnmi::Encoding encoding) const {
  return absl::UnimplementedError("todo");
}

}  // namespace southgate::schema
