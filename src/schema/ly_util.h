// Internal helpers shared by the src/schema implementation files. This is the
// only place (with the .cc files next to it) that includes libyang.
#pragma once

#include <libyang/libyang.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace southgate::schema::internal {

// Turns libyang's stderr logging off (messages go to spdlog at debug level)
// and stores errors so that LyError can report them. Idempotent.
void SetUpLogging();

// An absl::Status of `code` with `what`, libyang's errors for this thread
// and `ctx` (message and path) appended, then clears those errors.
absl::Status LyError(const ly_ctx* ctx, absl::StatusCode code,
                     std::string_view what);

struct FreeDeleter {
  void operator()(void* p) const { free(p); }
};
using CString = std::unique_ptr<char, FreeDeleter>;

struct SetDeleter {
  void operator()(ly_set* set) const { ly_set_free(set, nullptr); }
};
using LySet = std::unique_ptr<ly_set, SetDeleter>;

struct TreeDeleter {
  void operator()(lyd_node* node) const { lyd_free_all(node); }
};
using LyTree = std::unique_ptr<lyd_node, TreeDeleter>;

// The concrete type of a type: leafrefs followed, unions resolved through the
// stored value when `value` is given.
const lysc_type* ResolveType(const lysc_type* type,
                             const lyd_value* value = nullptr);

// RFC 7951 JSON value of a leaf or leaf-list entry.
nlohmann::json TermJson(const lyd_node* node);

// The data path of a node (LYD_PATH_STD, or without the last predicate).
std::string NodePath(const lyd_node* node, bool no_last_pred = false);

// The top-level ancestor of `node`.
lyd_node* TopLevel(lyd_node* node);

// Whether `xpath` means "the whole tree".
bool IsRootXPath(std::string_view xpath);

// Nodes `xpath` selects in the tree holding `root` (every top-level node
// for the root path); empty when `root` is null.
absl::StatusOr<std::vector<lyd_node*>> FindNodes(const ly_ctx* ctx,
                                                 lyd_node* root,
                                                 std::string_view xpath);

}  // namespace southgate::schema::internal
