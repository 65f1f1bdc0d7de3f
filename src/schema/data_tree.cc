#include "schema/data_tree.h"

#include <unordered_set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "schema/ly_util.h"
#include "schema/yang_context.h"

namespace southgate::schema {
namespace {

using internal::CString;
using internal::LyError;
using internal::LySet;
using internal::LyTree;

absl::StatusOr<LyTree> ParseDocument(const YangContext& context,
                                     std::string_view json, uint32_t parse,
                                     uint32_t validate) {
  std::string text(json);
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return LyTree();
  lyd_node* tree = nullptr;
  if (lyd_parse_data_mem(context.raw(), text.c_str(), LYD_JSON, parse, validate,
                         &tree) != LY_SUCCESS) {
    lyd_free_all(tree);
    return LyError(context.raw(), absl::StatusCode::kInvalidArgument,
                   "invalid data");
  }
  return LyTree(tree);
}

absl::StatusOr<LyTree> ParseXmlDocument(const YangContext& context,
                                        std::string_view xml) {
  std::string text(xml);
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return LyTree();
  lyd_node* tree = nullptr;
  if (lyd_parse_data_mem(context.raw(), text.c_str(), LYD_XML, LYD_PARSE_ONLY,
                         0, &tree) != LY_SUCCESS) {
    lyd_free_all(tree);
    return LyError(context.raw(), absl::StatusCode::kInvalidArgument,
                   "invalid XML data");
  }
  return LyTree(tree);
}

bool IsKey(const lyd_node* node) {
  return node->schema && (node->schema->flags & LYS_KEY);
}

bool IsConfig(const lyd_node* node) {
  return !node->schema || (node->schema->flags & LYS_CONFIG_W);
}

bool IsPresenceOrList(const lyd_node* node) {
  if (!node->schema) return false;
  if (node->schema->nodetype == LYS_LIST) return true;
  return node->schema->nodetype == LYS_CONTAINER &&
         (node->schema->flags & LYS_PRESENCE);
}

// Removes from the siblings starting at `*first` what `type` excludes (kAll:
// nothing but empty non-presence containers). Returns whether
// anything other than list keys remains.
bool Filter(lyd_node** first, DataType type) {
  bool kept_any = false;
  lyd_node* node = *first;
  while (node) {
    lyd_node* next = node->next;
    bool keep = true;
    if (node->schema && IsKey(node)) {
      keep = true;  // keys stay with their list entry
    } else if (node->schema &&
               (node->schema->nodetype & (LYS_CONTAINER | LYS_LIST))) {
      if (type == DataType::kConfig && !IsConfig(node)) {
        keep = false;
      } else {
        lyd_node* child = lyd_child(node);
        bool children = false;
        if (child) {
          // Filter the children in place; `child` is updated through a local.
          lyd_node* c = child;
          children = Filter(&c, type);
        }
        if (type == DataType::kConfig || type == DataType::kAll) {
          keep = children || IsPresenceOrList(node);
        } else {
          keep = children || (!IsConfig(node) && IsPresenceOrList(node));
        }
      }
    } else if (node->schema && type != DataType::kAll) {  // leaves, anydata
      keep = type == DataType::kConfig ? IsConfig(node) : !IsConfig(node);
    }
    if (!keep) {
      if (node == *first) *first = next;
      lyd_free_tree(node);
    } else if (!IsKey(node)) {
      kept_any = true;
    }
    node = next;
  }
  return kept_any;
}

}  // namespace

DataTree::DataTree(std::shared_ptr<const YangContext> context)
    : context_(std::move(context)) {}

absl::StatusOr<DataTree> DataTree::ParseJsonIetf(
    std::shared_ptr<const YangContext> context, std::string_view json,
    Parse mode) {
  uint32_t parse = LYD_PARSE_STRICT;
  uint32_t validate = LYD_VALIDATE_PRESENT;
  if (mode == Parse::kPartial) {
    parse |= LYD_PARSE_ONLY;
    validate = 0;
  }
  ASSIGN_OR_RETURN(LyTree tree, ParseDocument(*context, json, parse, validate));
  DataTree result(std::move(context));
  result.root_ = tree.release();
  return result;
}

DataTree::~DataTree() {
  if (root_) lyd_free_all(root_);
}

DataTree::DataTree(DataTree&& other) noexcept
    : context_(other.context_), root_(std::exchange(other.root_, nullptr)) {}

DataTree& DataTree::operator=(DataTree&& other) noexcept {
  if (this != &other) {
    if (root_) lyd_free_all(root_);
    context_ = other.context_;
    root_ = std::exchange(other.root_, nullptr);
  }
  return *this;
}

DataTree DataTree::Clone() const {
  DataTree copy(context_);
  if (root_) {
    lyd_node* dup = nullptr;
    if (lyd_dup_siblings(root_, nullptr, LYD_DUP_RECURSIVE | LYD_DUP_WITH_FLAGS,
                         &dup) == LY_SUCCESS) {
      copy.root_ = dup;
    }
  }
  return copy;
}

absl::StatusOr<std::string> DataTree::ToJsonIetf() const {
  if (!root_) return std::string("{}");
  char* out = nullptr;
  if (lyd_print_mem(&out, root_, LYD_JSON,
                    LYD_PRINT_WITHSIBLINGS | LYD_PRINT_SHRINK) != LY_SUCCESS) {
    free(out);
    return LyError(context_->raw(), absl::StatusCode::kInternal,
                   "cannot print data");
  }
  CString holder(out);
  return out && *out ? std::string(out) : std::string("{}");
}

absl::Status DataTree::Apply(const Edit& edit) {
  if (edit.op == Edit::Op::kDelete || edit.op == Edit::Op::kReplace) {
    ASSIGN_OR_RETURN(std::vector<lyd_node*> nodes, Nodes(edit.xpath));
    std::unordered_set<lyd_node*> selected(nodes.begin(), nodes.end());
    std::vector<lyd_node*> to_free;
    for (lyd_node* node : nodes) {
      bool covered = false;
      for (lyd_node* p = lyd_parent(node); p && !covered; p = lyd_parent(p)) {
        covered = selected.count(p) > 0;
      }
      if (!covered) to_free.push_back(node);
    }
    for (lyd_node* node : to_free) {
      if (node == root_) root_ = node->next;
      lyd_free_tree(node);
    }
    if (root_) root_ = lyd_first_sibling(root_);
  }
  if (edit.op == Edit::Op::kDelete) return absl::OkStatus();
  ASSIGN_OR_RETURN(LyTree source,
                   ParseDocument(*context_, edit.document,
                                 LYD_PARSE_ONLY | LYD_PARSE_STRICT, 0));
  if (!source) return absl::OkStatus();
  if (!root_) {
    root_ = source.release();
    return absl::OkStatus();
  }
  if (lyd_merge_siblings(&root_, source.get(), LYD_MERGE_DESTRUCT) !=
      LY_SUCCESS) {
    return LyError(context_->raw(), absl::StatusCode::kInvalidArgument,
                   absl::StrCat("cannot merge edit at ", edit.xpath));
  }
  source.release();  // consumed by LYD_MERGE_DESTRUCT
  root_ = lyd_first_sibling(root_);
  return absl::OkStatus();
}

absl::Status DataTree::Validate() {
  if (lyd_validate_all(&root_, context_->raw(), LYD_VALIDATE_PRESENT,
                       nullptr) != LY_SUCCESS) {
    return LyError(context_->raw(), absl::StatusCode::kInvalidArgument,
                   "validation failed");
  }
  if (root_) root_ = lyd_first_sibling(root_);
  return absl::OkStatus();
}

absl::StatusOr<DataTree> DataTree::ParseXml(
    std::shared_ptr<const YangContext> context, std::string_view xml) {
  ASSIGN_OR_RETURN(LyTree tree, ParseXmlDocument(*context, xml));
  DataTree result(std::move(context));
  result.root_ = tree.release();
  return result;
}

absl::StatusOr<DataTree> DataTree::Select(
    const std::vector<std::string>& xpaths, DataType type) const {
  DataTree result(context_);
  for (const auto& xpath : xpaths) {
    ASSIGN_OR_RETURN(std::vector<lyd_node*> nodes, Nodes(xpath));
    for (lyd_node* node : nodes) {
      lyd_node* dup = nullptr;
      if (lyd_dup_single(
              node, nullptr,
              LYD_DUP_RECURSIVE | LYD_DUP_WITH_PARENTS | LYD_DUP_WITH_FLAGS,
              &dup) != LY_SUCCESS) {
        return LyError(context_->raw(), absl::StatusCode::kInternal,
                       "cannot copy data");
      }
      lyd_node* top = internal::TopLevel(dup);
      if (!result.root_) {
        result.root_ = top;
      } else if (lyd_merge_siblings(&result.root_, top, LYD_MERGE_DESTRUCT) !=
                 LY_SUCCESS) {
        lyd_free_all(top);
        return LyError(context_->raw(), absl::StatusCode::kInternal,
                       "cannot merge selected data");
      }
      result.root_ = lyd_first_sibling(result.root_);
    }
  }
  // Drops what `type` excludes and non-presence containers left empty
  // (including those libyang creates implicitly).
  if (result.root_) {
    Filter(&result.root_, type);
    if (result.root_) result.root_ = lyd_first_sibling(result.root_);
  }
  return result;
}

absl::StatusOr<std::vector<lyd_node*>> DataTree::Nodes(
    std::string_view xpath) const {
  std::lock_guard lock(lookup_mutex_);
  return internal::FindNodes(context_->raw(), root_, xpath);
}

absl::StatusOr<std::vector<std::string>> DataTree::Find(
    std::string_view xpath) const {
  ASSIGN_OR_RETURN(std::vector<lyd_node*> nodes, Nodes(xpath));
  std::vector<std::string> paths;
  paths.reserve(nodes.size());
  for (lyd_node* node : nodes) paths.push_back(internal::NodePath(node));
  return paths;
}

absl::Status DataTree::SetLeaf(std::string_view xpath, std::string_view value) {
  std::string path(xpath);
  std::string text(value);
  lyd_node* node = nullptr;
  if (lyd_new_path(root_, context_->raw(), path.c_str(), text.c_str(),
                   LYD_NEW_PATH_UPDATE, &node) != LY_SUCCESS) {
    return LyError(context_->raw(), absl::StatusCode::kInvalidArgument,
                   absl::StrCat("cannot set ", std::string(xpath)));
  }
  if (!root_) root_ = internal::TopLevel(node);
  if (root_) root_ = lyd_first_sibling(root_);
  return absl::OkStatus();
}

absl::StatusOr<std::string> DataTree::LeafValue(std::string_view xpath) const {
  ASSIGN_OR_RETURN(std::vector<lyd_node*> nodes, Nodes(xpath));
  for (lyd_node* node : nodes) {
    if (node->schema && (node->schema->nodetype & LYD_NODE_TERM)) {
      const char* value = lyd_get_value(node);
      return std::string(value ? value : "");
    }
  }
  return absl::NotFoundError(absl::StrCat("no leaf at ", std::string(xpath)));
}

absl::StatusOr<std::vector<Notification::LeafUpdate>> DataTree::Leaves(
    std::string_view xpath) const {
  ASSIGN_OR_RETURN(std::vector<lyd_node*> nodes, Nodes(xpath));
  std::vector<Notification::LeafUpdate> leaves;
  std::unordered_set<const lyd_node*> seen;
  // Leaf-lists are reported whole: the path without predicate and a JSON
  // array of every entry.
  auto add = [&](const lyd_node* node) {
    if (!node->schema) return;
    if (node->schema->nodetype == LYS_LEAF) {
      leaves.push_back(
          {internal::NodePath(node), internal::TermJson(node).dump()});
    } else if (node->schema->nodetype == LYS_LEAFLIST) {
      const lyd_node* first = node;
      while (first->prev != node && first->prev->next &&
             first->prev->schema == node->schema) {
        first = first->prev;
      }
      if (!seen.insert(first).second) return;
      nlohmann::json array = nlohmann::json::array();
      for (const lyd_node* n = first; n && n->schema == node->schema;
           n = n->next) {
        array.push_back(internal::TermJson(n));
      }
      leaves.push_back({internal::NodePath(first, true), array.dump()});
    }
  };
  for (lyd_node* start : nodes) {
    lyd_node* elem;
    LYD_TREE_DFS_BEGIN(start, elem) {
      add(elem);
      LYD_TREE_DFS_END(start, elem);
    }
  }
  return leaves;
}

}  // namespace southgate::schema
