#include "schema/netconf_xml.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "schema/data_tree.h"
#include "schema/ly_util.h"
#include "schema/yang_context.h"

namespace southgate::schema {
namespace {

using internal::CString;
using internal::LyError;

constexpr char kNetconfNs[] = "urn:ietf:params:xml:ns:netconf:base:1.0";

// A small XML element tree: what libyang cannot express directly (several
// edits merged, an operation attribute per node, skeletons of absent nodes).
struct XmlNode {
  std::string ns;
  std::string name;
  std::string value;
  bool has_value = false;
  // List entries: key name -> value; leaf-list entries: {".", value}.
  std::map<std::string, std::string> keys;
  std::string op;  // nc:operation, empty for none
  // Prefix declarations a value needs (identityref "module:identity").
  std::map<std::string, std::string> prefixes;
  bool whole = false;  // filters: select the whole subtree
  std::vector<std::unique_ptr<XmlNode>> children;

  bool Matches(const XmlNode& other) const {
    return ns == other.ns && name == other.name && keys == other.keys;
  }
  XmlNode* Child(const XmlNode& like) {
    for (auto& child : children)
      if (child->Matches(like)) return child.get();
    return nullptr;
  }
};

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

void Print(const XmlNode& node, const std::string& parent_ns,
           std::string& out) {
  absl::StrAppend(&out, "<", node.name);
  if (node.ns != parent_ns)
    absl::StrAppend(&out, " xmlns=\"", Escape(node.ns), "\"");
  for (const auto& [prefix, ns] : node.prefixes)
    absl::StrAppend(&out, " xmlns:", prefix, "=\"", Escape(ns), "\"");
  if (!node.op.empty()) {
    absl::StrAppend(&out, " xmlns:nc=\"", kNetconfNs, "\" nc:operation=\"",
                    node.op, "\"");
  }
  if (node.children.empty() && (!node.has_value || node.value.empty())) {
    out += "/>";
    return;
  }
  out += ">";
  if (node.has_value) out += Escape(node.value);
  for (const auto& child : node.children) Print(*child, node.ns, out);
  absl::StrAppend(&out, "</", node.name, ">");
}

// Merges `from` into the siblings `into`. A node deleted earlier in the
// transaction and written again becomes a replace: gNMI's delete-then-set of
// one node means "exactly this content".
void Merge(std::vector<std::unique_ptr<XmlNode>>& into,
           std::vector<std::unique_ptr<XmlNode>> from) {
  for (auto& node : from) {
    XmlNode* match = nullptr;
    for (auto& existing : into)
      if (existing->Matches(*node)) match = existing.get();
    if (!match) {
      into.push_back(std::move(node));
      continue;
    }
    if (match->whole || node->whole) {
      match->whole = true;
      match->children.clear();
      continue;
    }
    if (!node->op.empty()) {
      match->op = match->op == "remove" ? "replace" : node->op;
      if (node->op == "replace") match->children.clear();
    } else if (match->op == "remove") {
      match->op = "replace";
    }
    if (node->has_value) {
      match->value = node->value;
      match->has_value = true;
      match->prefixes = node->prefixes;
    }
    Merge(match->children, std::move(node->children));
  }
}

// Converts a libyang data node (and its subtree) to XmlNode; `targets` get
// `op`.
std::unique_ptr<XmlNode> FromLyd(const lyd_node* node,
                                 const std::vector<const lyd_node*>& targets,
                                 const std::string& op) {
  auto out = std::make_unique<XmlNode>();
  out->ns = node->schema->module->ns;
  out->name = node->schema->name;
  if (std::find(targets.begin(), targets.end(), node) != targets.end())
    out->op = op;
  if (node->schema->nodetype & LYD_NODE_TERM) {
    out->has_value = true;
    out->value = lyd_get_value(node);
    const lysc_type* type = internal::ResolveType(
        reinterpret_cast<const lysc_node_leaf*>(node->schema)->type,
        &reinterpret_cast<const lyd_node_term*>(node)->value);
    if (type && type->basetype == LY_TYPE_IDENT) {
      // The canonical value is "module:identity"; XML needs the prefix bound.
      size_t colon = out->value.find(':');
      if (colon != std::string::npos) {
        std::string module = out->value.substr(0, colon);
        const lys_module* mod =
            ly_ctx_get_module_implemented(LYD_CTX(node), module.c_str());
        if (!mod) mod = ly_ctx_get_module_latest(LYD_CTX(node), module.c_str());
        if (mod) out->prefixes[module] = mod->ns;
      }
    }
    if (node->schema->nodetype == LYS_LEAFLIST) out->keys["."] = out->value;
    return out;
  }
  if (node->schema->nodetype & LYD_NODE_ANY) return out;
  for (const lyd_node* child = lyd_child(node); child; child = child->next) {
    if (!child->schema) continue;
    if (child->flags & LYD_DEFAULT) continue;  // implicit defaults: not edits
    if (node->schema->nodetype == LYS_LIST && (child->schema->flags & LYS_KEY))
      out->keys[child->schema->name] = lyd_get_value(child);
    out->children.push_back(FromLyd(child, targets, op));
  }
  return out;
}

// Every leaf value of `tree` checked against its type: a partial parse
// leaves values unchecked, and nothing invalid may reach a device.
absl::Status CheckValues(const ly_ctx* ctx, const lyd_node* tree) {
  for (const lyd_node* top = tree; top; top = top->next) {
    const lyd_node* node;
    LYD_TREE_DFS_BEGIN(top, node) {
      if (node->schema && (node->schema->nodetype & LYD_NODE_TERM)) {
        const char* value = lyd_get_value(node);
        LY_ERR rc = lyd_value_validate(ctx, node->schema, value,
                                       value ? strlen(value) : 0, node, nullptr,
                                       nullptr);
        if (rc != LY_SUCCESS && rc != LY_EINCOMPLETE) {
          return LyError(ctx, absl::StatusCode::kInvalidArgument,
                         absl::StrCat("invalid value '", value ? value : "",
                                      "' for ", internal::NodePath(node)));
        }
      }
      LYD_TREE_DFS_END(top, node);
    }
  }
  return absl::OkStatus();
}

// One step of a data path: [prefix:]name[key='value']...
struct Step {
  std::string module;  // empty: the parent's
  std::string name;
  std::map<std::string, std::string> keys;
  bool simple = true;  // false: wildcard or a predicate that is no key match
};

absl::StatusOr<std::vector<Step>> ParsePath(std::string_view xpath) {
  std::vector<Step> steps;
  size_t i = 0;
  const size_t n = xpath.size();
  while (i < n) {
    if (xpath[i] != '/') {
      return absl::InvalidArgumentError(
          absl::StrCat("unsupported path '", std::string(xpath), "'"));
    }
    ++i;
    Step step;
    size_t start = i;
    while (i < n && xpath[i] != '/' && xpath[i] != '[') ++i;
    std::string name(xpath.substr(start, i - start));
    size_t colon = name.find(':');
    if (colon != std::string::npos) {
      step.module = name.substr(0, colon);
      name = name.substr(colon + 1);
    }
    step.name = name;
    if (name == "*" || name.empty()) step.simple = false;
    while (i < n && xpath[i] == '[') {
      ++i;
      size_t pred_start = i;
      char quote = 0;
      while (i < n && (quote || xpath[i] != ']')) {
        if (quote && xpath[i] == quote)
          quote = 0;
        else if (!quote && (xpath[i] == '\'' || xpath[i] == '"'))
          quote = xpath[i];
        ++i;
      }
      if (i >= n) return absl::InvalidArgumentError("unterminated predicate");
      std::string_view pred = xpath.substr(pred_start, i - pred_start);
      ++i;  // ']'
      size_t eq = pred.find('=');
      if (eq == std::string_view::npos || eq + 2 > pred.size() ||
          (pred[eq + 1] != '\'' && pred[eq + 1] != '"') ||
          pred.back() != pred[eq + 1]) {
        step.simple = false;
        continue;
      }
      std::string key(pred.substr(0, eq));
      while (!key.empty() && key.back() == ' ') key.pop_back();
      size_t key_colon = key.find(':');
      if (key_colon != std::string::npos) key = key.substr(key_colon + 1);
      step.keys[key] = std::string(pred.substr(eq + 2, pred.size() - eq - 3));
    }
    steps.push_back(std::move(step));
  }
  return steps;
}

absl::StatusOr<std::string> Namespace(const ly_ctx* ctx,
                                      const std::string& module) {
  const lys_module* mod = ly_ctx_get_module_implemented(ctx, module.c_str());
  if (!mod) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown YANG module '", module, "'"));
  }
  return std::string(mod->ns);
}

// The chain of elements a path names, as far as its steps are simple; the
// innermost node is returned through `leaf`.
absl::StatusOr<std::unique_ptr<XmlNode>> Chain(const ly_ctx* ctx,
                                               const std::vector<Step>& steps,
                                               bool stop_at_complex,
                                               XmlNode** leaf) {
  std::unique_ptr<XmlNode> root;
  XmlNode* parent = nullptr;
  std::string module;
  std::string schema_path;
  for (const Step& step : steps) {
    if (step.simple && !stop_at_complex && step.keys.empty()) {
      // A list step without keys names every entry: not one node to remove.
      absl::StrAppend(&schema_path, "/",
                      step.module.empty() ? "" : step.module + ":", step.name);
      const lysc_node* snode =
          lys_find_path(ctx, nullptr, schema_path.c_str(), 0);
      if (snode && snode->nodetype == LYS_LIST) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot delete '", schema_path,
                         "' without its keys on a NETCONF device"));
      }
    } else if (!stop_at_complex) {
      absl::StrAppend(&schema_path, "/",
                      step.module.empty() ? "" : step.module + ":", step.name);
    }
    if (!step.simple) {
      if (stop_at_complex) break;
      return absl::InvalidArgumentError(
          "paths with wildcards or non-key predicates cannot be deleted on a "
          "NETCONF device");
    }
    if (!step.module.empty()) module = step.module;
    auto node = std::make_unique<XmlNode>();
    ASSIGN_OR_RETURN(node->ns, Namespace(ctx, module));
    node->name = step.name;
    node->keys = step.keys;
    for (const auto& [key, value] : step.keys) {
      if (key == ".") {
        node->has_value = true;
        node->value = value;
        continue;
      }
      auto key_node = std::make_unique<XmlNode>();
      key_node->ns = node->ns;
      key_node->name = key;
      key_node->has_value = true;
      key_node->value = value;
      node->children.push_back(std::move(key_node));
    }
    XmlNode* raw = node.get();
    if (!parent) {
      root = std::move(node);
    } else {
      parent->children.push_back(std::move(node));
    }
    parent = raw;
  }
  *leaf = parent;
  return root;
}

}  // namespace

absl::StatusOr<std::string> BuildEditConfig(
    const std::shared_ptr<const YangContext>& context,
    const std::vector<Edit>& edits) {
  const ly_ctx* ctx = context->raw();
  std::vector<std::unique_ptr<XmlNode>> top;
  for (const Edit& edit : edits) {
    if (edit.op == Edit::Op::kDelete) {
      if (internal::IsRootXPath(edit.xpath)) {
        return absl::UnimplementedError(
            "deleting the whole configuration of a NETCONF device is not "
            "supported");
      }
      ASSIGN_OR_RETURN(std::vector<Step> steps, ParsePath(edit.xpath));
      XmlNode* leaf = nullptr;
      ASSIGN_OR_RETURN(auto chain, Chain(ctx, steps, false, &leaf));
      if (!chain) continue;
      leaf->op = "remove";
      // The entry's key children only identify it; a leaf-list entry keeps
      // its value.
      std::vector<std::unique_ptr<XmlNode>> one;
      one.push_back(std::move(chain));
      Merge(top, std::move(one));
      continue;
    }
    const std::string op = edit.op == Edit::Op::kReplace ? "replace" : "merge";
    ASSIGN_OR_RETURN(DataTree tree,
                     DataTree::ParseJsonIetf(context, edit.document,
                                             DataTree::Parse::kPartial));
    if (tree.empty()) continue;
    RETURN_IF_ERROR(CheckValues(ctx, tree.raw()));
    std::vector<const lyd_node*> targets;
    if (internal::IsRootXPath(edit.xpath)) {
      for (const lyd_node* n = tree.raw(); n; n = n->next) targets.push_back(n);
    } else {
      ASSIGN_OR_RETURN(std::vector<lyd_node*> found,
                       internal::FindNodes(ctx, tree.raw(), edit.xpath));
      targets.assign(found.begin(), found.end());
    }
    std::vector<std::unique_ptr<XmlNode>> converted;
    for (const lyd_node* n = tree.raw(); n; n = n->next) {
      if (!n->schema) continue;
      converted.push_back(FromLyd(n, targets, op));
    }
    Merge(top, std::move(converted));
  }
  std::string out;
  for (const auto& node : top) Print(*node, "", out);
  return out;
}

absl::StatusOr<std::string> BuildSubtreeFilter(
    const YangContext& context, const std::vector<std::string>& xpaths) {
  std::vector<std::unique_ptr<XmlNode>> top;
  for (const std::string& xpath : xpaths) {
    if (internal::IsRootXPath(xpath)) return std::string();
    ASSIGN_OR_RETURN(std::vector<Step> steps, ParsePath(xpath));
    XmlNode* leaf = nullptr;
    ASSIGN_OR_RETURN(auto chain, Chain(context.raw(), steps, true, &leaf));
    if (!chain) return std::string();  // first step is a wildcard
    // A leaf-list entry selected by value: select the leaf-list.
    if (leaf->has_value) {
      leaf->has_value = false;
      leaf->keys.clear();
    }
    leaf->whole = true;
    std::vector<std::unique_ptr<XmlNode>> one;
    one.push_back(std::move(chain));
    Merge(top, std::move(one));
  }
  std::string out;
  for (const auto& node : top) Print(*node, "", out);
  return out;
}

absl::StatusOr<std::string> BuildXpathFilter(
    const YangContext& context, const std::vector<std::string>& xpaths) {
  std::vector<std::string> parts;
  for (const std::string& xpath : xpaths) {
    if (internal::IsRootXPath(xpath)) return std::string();
    // Checked here: a path libyang cannot resolve would make libnetconf2
    // fail to build the RPC at all.
    ly_set* found = nullptr;
    LY_ERR err =
        lys_find_xpath(context.raw(), nullptr, xpath.c_str(), 0, &found);
    const bool any = err == LY_SUCCESS && found && found->count > 0;
    ly_set_free(found, nullptr);
    if (!any) {
      return absl::InvalidArgumentError(
          absl::StrCat("no schema node matches ", xpath));
    }
    parts.push_back(xpath);
  }
  return absl::StrJoin(parts, " | ");
}

namespace foreign {

std::string PrintXml(const lyd_node* tree) {
  if (!tree) return "";
  char* text = nullptr;
  if (lyd_print_mem(&text, tree, LYD_XML, LYD_PRINT_WITHSIBLINGS) !=
      LY_SUCCESS) {
    free(text);
    return "";
  }
  CString owned(text);
  return text ? std::string(text) : "";
}

std::string PrintJson(const lyd_node* tree) {
  if (!tree) return "";
  char* text = nullptr;
  if (lyd_print_mem(&text, tree, LYD_JSON,
                    LYD_PRINT_WITHSIBLINGS | LYD_PRINT_SHRINK) != LY_SUCCESS) {
    free(text);
    return "";
  }
  CString owned(text);
  return text ? std::string(text) : "";
}

absl::StatusOr<std::string> AnyChildText(const lyd_node* op,
                                         std::string_view name) {
  if (!op) return absl::NotFoundError("no reply data");
  for (const lyd_node* child = lyd_child(op); child; child = child->next) {
    if (std::string_view(LYD_NAME(child)) != name) continue;
    if (!child->schema || !(child->schema->nodetype & LYD_NODE_ANY)) {
      return absl::InternalError(
          absl::StrCat("reply node '", std::string(name), "' is not anydata"));
    }
    const auto* any = reinterpret_cast<const lyd_node_any*>(child);
    switch (any->value_type) {
      case LYD_ANYDATA_DATATREE:
        return PrintXml(any->value.tree);
      case LYD_ANYDATA_STRING:
      case LYD_ANYDATA_XML:
      case LYD_ANYDATA_JSON:
        return std::string(any->value.str ? any->value.str : "");
      default: {
        char* text = nullptr;
        if (lyd_any_value_str(child, &text) != LY_SUCCESS) {
          free(text);
          return absl::InternalError("cannot print reply data");
        }
        CString owned(text);
        return std::string(text ? text : "");
      }
    }
  }
  return absl::NotFoundError(
      absl::StrCat("reply has no '", std::string(name), "'"));
}

void Free(lyd_node* tree) {
  if (tree) lyd_free_all(tree);
}

ly_ctx* NewSessionContext(const std::string& searchdir) {
  ly_ctx* context = nullptr;
  if (ly_ctx_new(searchdir.empty() ? nullptr : searchdir.c_str(),
                 LY_CTX_NO_YANGLIBRARY, &context) != LY_SUCCESS) {
    return nullptr;
  }
  return context;
}

void DestroyContext(ly_ctx* context) {
  if (context) ly_ctx_destroy(context);
}

}  // namespace foreign

}  // namespace southgate::schema
