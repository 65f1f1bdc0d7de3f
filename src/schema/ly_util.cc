#include "schema/ly_util.h"

#include <mutex>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace southgate::schema::internal {
namespace {

void LogCallback(LY_LOG_LEVEL level, const char* msg, const char* path) {
  if (level == LY_LLERR || level == LY_LLWRN) {
    spdlog::debug("libyang: {} ({})", msg ? msg : "", path ? path : "");
  }
}

}  // namespace

void SetUpLogging() {
  static std::once_flag once;
  std::call_once(once, [] {
    ly_log_options(LY_LOLOG | LY_LOSTORE_LAST);
    ly_set_log_clb(LogCallback, 1);
    ly_log_level(LY_LLWRN);
  });
}

absl::Status LyError(const ly_ctx* ctx, absl::StatusCode code,
                     std::string_view what) {
  std::string message(what);
  const ly_err_item* err = ctx ? ly_err_last(ctx) : nullptr;
  if (err && err->msg) {
    absl::StrAppend(&message, ": ", err->msg);
    if (err->path && *err->path)
      absl::StrAppend(&message, " (", err->path, ")");
  }
  if (ctx) ly_err_clean(const_cast<ly_ctx*>(ctx), nullptr);
  return absl::Status(code, message);
}

const lysc_type* ResolveType(const lysc_type* type, const lyd_value* value) {
  if (value) {
    const lyd_value* v = value;
    while (v->realtype && v->realtype->basetype == LY_TYPE_UNION &&
           v->subvalue) {
      v = &v->subvalue->value;
    }
    if (v->realtype) type = v->realtype;
  }
  while (type && type->basetype == LY_TYPE_LEAFREF) {
    type = reinterpret_cast<const lysc_type_leafref*>(type)->realtype;
  }
  return type;
}

nlohmann::json TermJson(const lyd_node* node) {
  const auto* term = reinterpret_cast<const lyd_node_term*>(node);
  const char* canonical = lyd_get_value(node);
  std::string text = canonical ? canonical : "";
  const lysc_type* type =
      ResolveType(reinterpret_cast<const lysc_node_leaf*>(node->schema)->type,
                  &term->value);
  if (!type) return text;
  switch (type->basetype) {
    case LY_TYPE_INT8:
    case LY_TYPE_INT16:
    case LY_TYPE_INT32:
      try {
        return std::stoll(text);
      } catch (...) {
        return text;
      }
    case LY_TYPE_UINT8:
    case LY_TYPE_UINT16:
    case LY_TYPE_UINT32:
      try {
        return std::stoull(text);
      } catch (...) {
        return text;
      }
    case LY_TYPE_BOOL:
      return text == "true";
    case LY_TYPE_EMPTY:
      return nlohmann::json::array({nullptr});
    default:
      return text;
  }
}

std::string NodePath(const lyd_node* node, bool no_last_pred) {
  CString path(lyd_path(node,
                        no_last_pred ? LYD_PATH_STD_NO_LAST_PRED : LYD_PATH_STD,
                        nullptr, 0));
  return path ? std::string(path.get()) : std::string();
}

lyd_node* TopLevel(lyd_node* node) {
  while (node && lyd_parent(node)) node = lyd_parent(node);
  return node;
}

bool IsRootXPath(std::string_view xpath) {
  return xpath.empty() || xpath == "/" || xpath == "/*";
}

absl::StatusOr<std::vector<lyd_node*>> FindNodes(const ly_ctx* ctx,
                                                 lyd_node* root,
                                                 std::string_view xpath) {
  std::vector<lyd_node*> nodes;
  if (!root) return nodes;
  if (IsRootXPath(xpath)) {
    for (lyd_node* node = lyd_first_sibling(root); node; node = node->next) {
      nodes.push_back(node);
    }
    return nodes;
  }
  std::string text(xpath);
  ly_set* raw = nullptr;
  if (lyd_find_xpath(root, text.c_str(), &raw) != LY_SUCCESS) {
    return LyError(ctx, absl::StatusCode::kInvalidArgument,
                   absl::StrCat("invalid XPath ", text));
  }
  LySet set(raw);
  for (uint32_t i = 0; i < set->count; ++i) nodes.push_back(set->dnodes[i]);
  return nodes;
}

}  // namespace southgate::schema::internal
