// An owned libyang data tree (RAII). One writer or many readers at a time:
// callers that share a DataTree between threads lock around writes.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "southgate/driver.h"

struct lyd_node;

namespace southgate::schema {

class YangContext;

class DataTree {
 public:
  enum class Parse {
    kValidate,  // full YANG validation (mandatory, must, leafref, ...)
    kPartial,   // types and structure only: fragments, edits, state data
  };

  explicit DataTree(std::shared_ptr<const YangContext> context);
  static absl::StatusOr<DataTree> ParseJsonIetf(
      std::shared_ptr<const YangContext> context, std::string_view json,
      Parse mode);
  // NETCONF <data> content (XML, several top-level elements), parsed without
  // validation; elements of modules `context` lacks are skipped.
  static absl::StatusOr<DataTree> ParseXml(
      std::shared_ptr<const YangContext> context, std::string_view xml);
  ~DataTree();
  DataTree(DataTree&& other) noexcept;
  DataTree& operator=(DataTree&& other) noexcept;
  DataTree(const DataTree&) = delete;
  DataTree& operator=(const DataTree&) = delete;

  DataTree Clone() const;
  bool empty() const { return root_ == nullptr; }
  const std::shared_ptr<const YangContext>& context() const { return context_; }

  // RFC 7951 JSON of the whole tree ("{}" when empty).
  absl::StatusOr<std::string> ToJsonIetf() const;

  // Applies one edit: kDelete removes every node at the xpath (absent is not
  // an error), kReplace removes then merges the edit's document, kUpdate
  // merges it.
  absl::Status Apply(const Edit& edit);
  // Full validation of the whole tree (what a commit checks).
  absl::Status Validate();

  // A copy holding only the nodes selected by `xpaths` (with ancestors and
  // list keys), restricted to config or state nodes by `type`.
  absl::StatusOr<DataTree> Select(const std::vector<std::string>& xpaths,
                                  DataType type) const;

  // Data paths of the nodes an XPath selects.
  absl::StatusOr<std::vector<std::string>> Find(std::string_view xpath) const;

  // Creates or overwrites a leaf (canonical string value), creating parents.
  absl::Status SetLeaf(std::string_view xpath, std::string_view value);
  // The canonical string value of the leaf at `xpath`.
  absl::StatusOr<std::string> LeafValue(std::string_view xpath) const;

  // Every leaf (and leaf-list entry) under the nodes `xpath` selects, as
  // data path and RFC 7951 JSON value, for telemetry.
  absl::StatusOr<std::vector<Notification::LeafUpdate>> Leaves(
      std::string_view xpath) const;

  // The nodes an XPath selects, for src/schema internals only. Safe to call
  // from several threads reading the same tree (see lookup_mutex_).
  absl::StatusOr<std::vector<lyd_node*>> Nodes(std::string_view xpath) const;

  // For src/schema internals only.
  lyd_node* raw() const { return root_; }

 private:
  std::shared_ptr<const YangContext> context_;
  lyd_node* root_ = nullptr;
  // libyang 2.1 (Debian 12) is not thread-safe for XPath lookups on one tree:
  // lyd_find_xpath reaches lyd_find_sibling_schema, which swaps the compare
  // callback of the parent's children hash table (lyht_set_cb) for the
  // lookup and puts back the one it saw. Two concurrent lookups can leave
  // the schema-only callback installed for good; every keyed lookup in that
  // table (interface[name='eth0']) then finds nothing. Only the lookup is
  // serialized; copying and printing the found nodes stays concurrent. Not
  // moved with the tree: it guards this object's lookups.
  mutable std::mutex lookup_mutex_;
};

}  // namespace southgate::schema
