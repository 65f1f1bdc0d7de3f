// gNMI <-> YANG: paths, values and encodings, driven by the schema.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "github.com/openconfig/gnmi/proto/gnmi/gnmi.pb.h"
#include "schema/data_tree.h"
#include "southgate/driver.h"

struct lysc_node;

namespace southgate::schema {

class YangContext;

// A gNMI path resolved against a schema.
struct ResolvedPath {
  std::string xpath;  // module-qualified data XPath, may hold wildcards
  bool has_wildcards = false;
  bool is_leaf = false;  // leaf or leaf-list (no wildcards below it)
};

// One concrete leaf or leaf-list path resolved against a schema
// (GnmiTranslator::ResolveLeaf), to check any number of values for it
// (GnmiTranslator::LeafJson) without resolving the path again. Valid as long
// as the translator that resolved it.
struct ConcreteLeaf {
  std::string xpath;  // module-qualified data XPath, no wildcards
  const lysc_node* node = nullptr;
};

class GnmiTranslator {
 public:
  explicit GnmiTranslator(std::shared_ptr<const YangContext> context);

  // Joins prefix and path (elems, keys, origin; first element prefixed with
  // its module or not; "*" names and key values, "..." for any depth) and
  // resolves it against the schema. INVALID_ARGUMENT for malformed paths,
  // NOT_FOUND for paths the schema does not know (unknown origin, module or
  // element).
  absl::StatusOr<ResolvedPath> ToXPath(const gnmi::Path& prefix,
                                       const gnmi::Path& path) const;

  // A concrete data path ("/mod:a/b[k='v']/mod2:c") back to a gNMI path:
  // elems unprefixed except where the module changes.
  absl::StatusOr<gnmi::Path> ToGnmiPath(std::string_view data_path) const;

  // A Set operation's target and value as a driver Edit. The value is
  // checked against the schema (type, range, pattern, structure);
  // INVALID_ARGUMENT names the path and what is wrong.
  absl::StatusOr<Edit> ToEdit(Edit::Op op, const gnmi::Path& prefix,
                              const gnmi::Path& path,
                              const gnmi::TypedValue* value) const;

  // A device's value for one concrete leaf or leaf-list path as telemetry
  // carries it: the data path and the RFC 7951 JSON value, checked against
  // the leaf's type without building a data tree (the gnmi driver's hot
  // path). FAILED_PRECONDITION when the path is not one concrete leaf
  // (use ToEdit and DataTree::Leaves then); INVALID_ARGUMENT for a value
  // the type rejects.
  absl::StatusOr<Notification::LeafUpdate> ToLeafUpdate(
      const gnmi::Path& prefix, const gnmi::Path& path,
      const gnmi::TypedValue& value) const;

  // ToLeafUpdate in two steps, for callers that see the same paths again
  // and again (an upstream telemetry stream): the path alone (same errors,
  // FAILED_PRECONDITION when not one concrete leaf), then a value for it
  // as RFC 7951 JSON, checked exactly as ToLeafUpdate checks it.
  absl::StatusOr<ConcreteLeaf> ResolveLeaf(const gnmi::Path& prefix,
                                           const gnmi::Path& path) const;
  absl::StatusOr<std::string> LeafJson(const ConcreteLeaf& leaf,
                                       const gnmi::TypedValue& value) const;

  // The nodes `xpath` selects in `tree`, as gNMI updates in `encoding`
  // (JSON, JSON_IETF: one update per node; PROTO: one scalar update per
  // leaf). UNIMPLEMENTED for encodings the daemon does not speak.
  absl::StatusOr<std::vector<gnmi::Update>> ToUpdates(
      const DataTree& tree, const std::string& xpath,
      gnmi::Encoding encoding) const;

  // One leaf value (RFC 7951 JSON) as a TypedValue in `encoding`.
  absl::StatusOr<gnmi::TypedValue> LeafValue(const std::string& data_path,
                                             const std::string& json_value,
                                             gnmi::Encoding encoding) const;

  const std::shared_ptr<const YangContext>& context() const { return context_; }

 private:
  std::shared_ptr<const YangContext> context_;
};

// `path` appended to `prefix`: the elems of both, the path's origin or else
// the prefix's, no target.
gnmi::Path JoinPaths(const gnmi::Path& prefix, const gnmi::Path& path);

// A schema-free key naming a gNMI path ("native:origin:/a/b[k=v]", keys
// sorted) for data passed through without translation (see
// Driver::PassesThroughUnknownPaths). A path below another has the other's
// key as its start followed by '/' or '['.
std::string NativePathKey(const gnmi::Path& path);

}  // namespace southgate::schema
