// NETCONF XML on the schema side: what the NETCONF driver needs from libyang,
// kept here because src/schema is the only code that calls libyang.
//  - edit-config content built from gNMI Edits, one nc:operation per node;
//  - subtree filters built from XPaths;
//  - helpers for the trees libnetconf2 hands out (its replies live in its own
//    libyang context; they are printed to text here and parsed again into
//    the device's shared YangContext by DataTree::ParseXml).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "southgate/driver.h"

struct lyd_node;
struct ly_ctx;

namespace southgate::schema {

class YangContext;

// The children of an <edit-config>'s <config>: one XML document for the whole
// transaction, edits merged under their common ancestors. Deletes become
// operation="remove" (deleting what is absent succeeds, as gNMI requires),
// replaces operation="replace", updates operation="merge". Values are checked
// against `context` (INVALID_ARGUMENT) before anything is built.
absl::StatusOr<std::string> BuildEditConfig(
    const std::shared_ptr<const YangContext>& context,
    const std::vector<Edit>& edits);

// A subtree filter (the children of <filter type="subtree">) selecting at
// least what `xpaths` select; the caller narrows the reply with
// DataTree::Select. Empty when a path selects the whole tree (no filter).
// Steps with wildcards or non-key predicates end the filter at their parent.
absl::StatusOr<std::string> BuildSubtreeFilter(
    const YangContext& context, const std::vector<std::string>& xpaths);

// An XPath filter (the select of <filter type="xpath">, RFC 6241 :xpath)
// selecting what `xpaths` select: their union, module-qualified as in
// RFC 7951 (libnetconf2's libyang turns the module names into XML prefixes
// with namespace declarations when it prints the RPC). Every path must
// select schema nodes of `context` (INVALID_ARGUMENT otherwise). Empty when
// a path selects the whole tree (no filter).
absl::StatusOr<std::string> BuildXpathFilter(
    const YangContext& context, const std::vector<std::string>& xpaths);

// Trees owned by libnetconf2 (its own libyang context).
namespace foreign {
// XML of `tree` and its following siblings ("" for null).
std::string PrintXml(const lyd_node* tree);
// RFC 7951 JSON of `tree` and its following siblings ("" for null):
// instance-identifiers come out module-qualified, as gNMI paths use them.
std::string PrintJson(const lyd_node* tree);
// The content of `op`'s anydata/anyxml child `name` (e.g. the <data> of a
// get-config or get-schema reply) as text: XML for data trees, the text
// itself for strings. NOT_FOUND without such a child.
absl::StatusOr<std::string> AnyChildText(const lyd_node* op,
                                         std::string_view name);
void Free(lyd_node* tree);
// An empty context for libnetconf2 sessions to fill with a server's modules
// (searching `searchdir` first, as libnetconf2's own default context does);
// null on failure. Freed with DestroyContext after its last session.
ly_ctx* NewSessionContext(const std::string& searchdir);
void DestroyContext(ly_ctx* context);
}  // namespace foreign

}  // namespace southgate::schema
