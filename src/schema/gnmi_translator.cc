#include "schema/gnmi_translator.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <unordered_set>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "schema/ly_util.h"
#include "schema/yang_context.h"

namespace southgate::schema {
namespace {

using internal::LyError;
using internal::ResolveType;
using internal::TermJson;
using json = nlohmann::json;

using KeyList = std::vector<std::pair<std::string, std::string>>;

// A gNMI path resolved against the schema.
struct Resolution {
  ResolvedPath path;
  bool root = false;
  // Schema node and key values of each element (first candidate when a
  // wildcard matched several).
  std::vector<const lysc_node*> chain;
  std::vector<KeyList> keys;
};

absl::Status Invalid(const std::string& message) {
  return absl::InvalidArgumentError(message);
}

const char* TypeName(LY_DATA_TYPE type) {
  switch (type) {
    case LY_TYPE_BINARY:
      return "binary";
    case LY_TYPE_UINT8:
      return "uint8";
    case LY_TYPE_UINT16:
      return "uint16";
    case LY_TYPE_UINT32:
      return "uint32";
    case LY_TYPE_UINT64:
      return "uint64";
    case LY_TYPE_STRING:
      return "string";
    case LY_TYPE_BITS:
      return "bits";
    case LY_TYPE_BOOL:
      return "boolean";
    case LY_TYPE_DEC64:
      return "decimal64";
    case LY_TYPE_EMPTY:
      return "empty";
    case LY_TYPE_ENUM:
      return "enumeration";
    case LY_TYPE_IDENT:
      return "identityref";
    case LY_TYPE_INST:
      return "instance-identifier";
    case LY_TYPE_LEAFREF:
      return "leafref";
    case LY_TYPE_UNION:
      return "union";
    case LY_TYPE_INT8:
      return "int8";
    case LY_TYPE_INT16:
      return "int16";
    case LY_TYPE_INT32:
      return "int32";
    case LY_TYPE_INT64:
      return "int64";
    default:
      return "unknown";
  }
}

bool IsSmallInt(LY_DATA_TYPE t) {
  return t == LY_TYPE_INT8 || t == LY_TYPE_INT16 || t == LY_TYPE_INT32 ||
         t == LY_TYPE_UINT8 || t == LY_TYPE_UINT16 || t == LY_TYPE_UINT32;
}
bool IsSigned(LY_DATA_TYPE t) {
  return t == LY_TYPE_INT8 || t == LY_TYPE_INT16 || t == LY_TYPE_INT32 ||
         t == LY_TYPE_INT64;
}
bool IsUnsigned(LY_DATA_TYPE t) {
  return t == LY_TYPE_UINT8 || t == LY_TYPE_UINT16 || t == LY_TYPE_UINT32 ||
         t == LY_TYPE_UINT64;
}
bool IsInteger(LY_DATA_TYPE t) { return IsSigned(t) || IsUnsigned(t); }

const lysc_type* LeafType(const lysc_node* node) {
  if (node->nodetype == LYS_LEAF) {
    return reinterpret_cast<const lysc_node_leaf*>(node)->type;
  }
  return reinterpret_cast<const lysc_node_leaflist*>(node)->type;
}

// The member types of a union (leafrefs followed, nested unions flattened).
void UnionMembers(const lysc_type* type, std::vector<const lysc_type*>* out) {
  type = ResolveType(type);
  if (!type) return;
  if (type->basetype != LY_TYPE_UNION) {
    out->push_back(type);
    return;
  }
  const auto* u = reinterpret_cast<const lysc_type_union*>(type);
  LY_ARRAY_COUNT_TYPE i;
  LY_ARRAY_FOR(u->types, i) UnionMembers(u->types[i], out);
}

bool ParseInt(const std::string& s, int64_t* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno || *end) return false;
  *out = v;
  return true;
}

bool ParseUint(const std::string& s, uint64_t* out) {
  if (s.empty() || s[0] == '-') return false;
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (errno || *end) return false;
  *out = v;
  return true;
}

std::string FormatDouble(double value, int fraction_digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f", fraction_digits, value);
  return buffer;
}

std::string DecimalString(int64_t digits, uint32_t precision) {
  bool negative = digits < 0;
  std::string text = std::to_string(negative ? -static_cast<uint64_t>(digits)
                                             : static_cast<uint64_t>(digits));
  if (precision > 0) {
    if (text.size() <= precision) {
      text.insert(0, precision + 1 - text.size(), '0');
    }
    text.insert(text.size() - precision, ".");
  }
  return negative ? "-" + text : text;
}

// Finds an identity derived (directly or not) from `base` by name.
const lysc_ident* FindIdentity(const lysc_ident* base, const std::string& name,
                               const std::string& prefix) {
  LY_ARRAY_COUNT_TYPE i;
  LY_ARRAY_FOR(base->derived, i) {
    const lysc_ident* ident = base->derived[i];
    if (name == ident->name &&
        (prefix.empty() || prefix == ident->module->name ||
         prefix == ident->module->prefix)) {
      return ident;
    }
    if (const lysc_ident* found = FindIdentity(ident, name, prefix)) {
      return found;
    }
  }
  return nullptr;
}

// An RFC 7951 value for a leaf of (non-union, resolved) `type` from a
// scalar TypedValue; nullopt-like error status on type mismatch.
absl::StatusOr<json> ScalarForType(const lysc_type* type,
                                   const gnmi::TypedValue& value) {
  const LY_DATA_TYPE t = type->basetype;
  auto mismatch = [&]() {
    // No field for VALUE_NOT_SET (an empty element of a leaflist_val).
    const auto* field =
        gnmi::TypedValue::descriptor()->FindFieldByNumber(value.value_case());
    return Invalid(
        absl::StrCat("type mismatch: ", field ? field->name() : "no value",
                     " for a leaf of type ", TypeName(t)));
  };
  switch (value.value_case()) {
    case gnmi::TypedValue::kStringVal:
    case gnmi::TypedValue::kAsciiVal: {
      const std::string& s = value.value_case() == gnmi::TypedValue::kStringVal
                                 ? value.string_val()
                                 : value.ascii_val();
      if (IsSmallInt(t)) {
        int64_t v;
        if (!ParseInt(s, &v)) return mismatch();
        return json(v);
      }
      if (t == LY_TYPE_BOOL) {
        if (s == "true") return json(true);
        if (s == "false") return json(false);
        return mismatch();
      }
      if (t == LY_TYPE_EMPTY) {
        if (s.empty() || s == "true") return json::array({nullptr});
        return mismatch();
      }
      return json(s);
    }
    case gnmi::TypedValue::kIntVal: {
      int64_t v = value.int_val();
      if (IsSmallInt(t)) return json(v);
      if (IsInteger(t) || t == LY_TYPE_DEC64) return json(std::to_string(v));
      return mismatch();
    }
    case gnmi::TypedValue::kUintVal: {
      uint64_t v = value.uint_val();
      if (IsSmallInt(t)) return json(v);
      if (IsInteger(t) || t == LY_TYPE_DEC64) return json(std::to_string(v));
      return mismatch();
    }
    case gnmi::TypedValue::kBoolVal:
      if (t == LY_TYPE_BOOL) return json(value.bool_val());
      if (t == LY_TYPE_EMPTY && value.bool_val()) {
        return json::array({nullptr});
      }
      return mismatch();
    case gnmi::TypedValue::kDoubleVal:
    case gnmi::TypedValue::kFloatVal: {
      double v = value.value_case() == gnmi::TypedValue::kDoubleVal
                     ? value.double_val()
                     : value.float_val();
      if (t == LY_TYPE_DEC64) {
        return json(FormatDouble(
            v, reinterpret_cast<const lysc_type_dec*>(type)->fraction_digits));
      }
      if (IsInteger(t) && std::isfinite(v) && v == std::floor(v)) {
        if (IsSmallInt(t)) return json(static_cast<int64_t>(v));
        return json(FormatDouble(v, 0));
      }
      return mismatch();
    }
    case gnmi::TypedValue::kDecimalVal: {
      if (t != LY_TYPE_DEC64) return mismatch();
      // A decimal64 has at most 18 fraction digits and int64 digits at most
      // 19 significant ones: a larger precision names no value a leaf can
      // hold (and would make DecimalString write that many zeros).
      if (value.decimal_val().precision() > 37) {
        return Invalid(absl::StrCat("decimal_val precision ",
                                    value.decimal_val().precision(),
                                    " is out of range (at most 37)"));
      }
      return json(DecimalString(value.decimal_val().digits(),
                                value.decimal_val().precision()));
    }
    case gnmi::TypedValue::kBytesVal:
      if (t != LY_TYPE_BINARY) return mismatch();
      {
        std::string encoded;
        absl::Base64Escape(value.bytes_val(), &encoded);
        return json(encoded);
      }
    default:
      return mismatch();
  }
}

// Same for any leaf type: union members are tried in order.
absl::StatusOr<json> ScalarJson(const lysc_type* type,
                                const gnmi::TypedValue& value) {
  std::vector<const lysc_type*> members;
  UnionMembers(type, &members);
  absl::Status first = Invalid("leaf has no usable type");
  for (const lysc_type* member : members) {
    auto result = ScalarForType(member, value);
    if (result.ok()) return result;
    if (member == members.front()) first = result.status();
  }
  if (members.size() > 1) {
    return Invalid(
        absl::StrCat("type mismatch: no member of the union accepts ",
                     value.ShortDebugString()));
  }
  return first;
}

// An RFC 7951 key value from its string form in a path.
json KeyJson(const lysc_node* key, const std::string& text) {
  gnmi::TypedValue value;
  value.set_string_val(text);
  auto result = ScalarJson(LeafType(key), value);
  return result.ok() ? *result : json(text);
}

// Turns a leaf value given as gNMI JSON (or lenient RFC 7951) into RFC 7951.
json NormalizeLeaf(const lysc_type* type, const json& in, bool plain) {
  std::vector<const lysc_type*> members;
  UnionMembers(type, &members);
  if (members.empty()) return in;
  if (members.size() > 1) {
    if (in.is_number()) {
      for (const lysc_type* m : members) {
        if (IsSmallInt(m->basetype)) return in;
      }
      for (const lysc_type* m : members) {
        if (IsInteger(m->basetype) || m->basetype == LY_TYPE_DEC64) {
          return json(in.dump());
        }
      }
    }
    if (plain && in.is_string()) {
      for (const lysc_type* m : members) {
        if (m->basetype != LY_TYPE_IDENT) continue;
        json converted = NormalizeLeaf(m, in, plain);
        if (converted != in) return converted;
      }
    }
    return in;
  }
  const lysc_type* t = members.front();
  switch (t->basetype) {
    case LY_TYPE_INT8:
    case LY_TYPE_INT16:
    case LY_TYPE_INT32:
    case LY_TYPE_UINT8:
    case LY_TYPE_UINT16:
    case LY_TYPE_UINT32:
      if (in.is_string()) {
        int64_t v;
        if (ParseInt(in.get<std::string>(), &v)) return json(v);
      }
      return in;
    case LY_TYPE_INT64:
    case LY_TYPE_UINT64:
    case LY_TYPE_DEC64:
      if (in.is_number()) {
        if (in.is_number_float() && t->basetype == LY_TYPE_DEC64) {
          return json(FormatDouble(
              in.get<double>(),
              reinterpret_cast<const lysc_type_dec*>(t)->fraction_digits));
        }
        return json(in.dump());
      }
      return in;
    case LY_TYPE_BOOL:
      if (in.is_string() && in == "true") return json(true);
      if (in.is_string() && in == "false") return json(false);
      return in;
    case LY_TYPE_EMPTY:
      if (in.is_null() || (in.is_boolean() && in.get<bool>())) {
        return json::array({nullptr});
      }
      return in;
    case LY_TYPE_IDENT:
      if (plain && in.is_string()) {
        std::string text = in.get<std::string>();
        std::string prefix, name = text;
        if (size_t colon = text.find(':'); colon != std::string::npos) {
          prefix = text.substr(0, colon);
          name = text.substr(colon + 1);
        }
        const auto* ident = reinterpret_cast<const lysc_type_identityref*>(t);
        LY_ARRAY_COUNT_TYPE i;
        LY_ARRAY_FOR(ident->bases, i) {
          const lysc_ident* found = FindIdentity(ident->bases[i], name, prefix);
          if (!found && !prefix.empty()) {
            found = FindIdentity(ident->bases[i], name, "");
          }
          if (found) return json(absl::StrCat(found->module->name, ":", name));
        }
      }
      return in;
    default:
      return in;
  }
}

// RFC 7951 value of a leaf as gNMI JSON: no module prefixes on identities,
// 64-bit integers and decimal64 as JSON numbers.
json PlainLeaf(const lysc_type* type, const json& ietf) {
  if (!type || !ietf.is_string()) return ietf;
  const std::string text = ietf.get<std::string>();
  switch (type->basetype) {
    case LY_TYPE_INT64: {
      int64_t v;
      return ParseInt(text, &v) ? json(v) : ietf;
    }
    case LY_TYPE_UINT64: {
      uint64_t v;
      return ParseUint(text, &v) ? json(v) : ietf;
    }
    case LY_TYPE_DEC64:
      try {
        return json(std::stod(text));
      } catch (...) {
        return ietf;
      }
    case LY_TYPE_IDENT: {
      size_t colon = text.find(':');
      return colon == std::string::npos ? ietf : json(text.substr(colon + 1));
    }
    default:
      return ietf;
  }
}

const lysc_type* TermType(const lyd_node* node) {
  const auto* term = reinterpret_cast<const lyd_node_term*>(node);
  return ResolveType(LeafType(node->schema), &term->value);
}

json LeafOut(const lyd_node* node, bool plain) {
  json value = TermJson(node);
  return plain ? PlainLeaf(TermType(node), value) : value;
}

// A scalar TypedValue from an RFC 7951 value of (resolved) `type`; `type`
// may be a union (or null) when the stored type is unknown.
gnmi::TypedValue TypedFromJson(const lysc_type* type, const json& value) {
  gnmi::TypedValue out;
  LY_DATA_TYPE t = type ? type->basetype : LY_TYPE_UNKNOWN;
  if (value.is_array() && value.size() == 1 && value[0].is_null()) {
    out.set_bool_val(true);  // empty
    return out;
  }
  if (value.is_boolean()) {
    out.set_bool_val(value.get<bool>());
    return out;
  }
  std::string text =
      value.is_string() ? value.get<std::string>() : value.dump();
  int64_t i;
  uint64_t u;
  if (IsUnsigned(t) && ParseUint(text, &u)) {
    out.set_uint_val(u);
  } else if (IsSigned(t) && ParseInt(text, &i)) {
    out.set_int_val(i);
  } else if (t == LY_TYPE_DEC64) {
    try {
      out.set_double_val(std::stod(text));
    } catch (...) {
      out.set_string_val(text);
    }
  } else if (t == LY_TYPE_BINARY) {
    std::string decoded;
    if (absl::Base64Unescape(text, &decoded)) {
      out.set_bytes_val(decoded);
    } else {
      out.set_string_val(text);
    }
  } else if (value.is_number_unsigned()) {
    out.set_uint_val(value.get<uint64_t>());
  } else if (value.is_number_integer()) {
    out.set_int_val(value.get<int64_t>());
  } else if (value.is_number_float()) {
    out.set_double_val(value.get<double>());
  } else {
    out.set_string_val(text);
  }
  return out;
}

// Member name of `node` inside an object whose node is of `parent_module`
// (null: top level, always qualified).
std::string MemberName(const lysc_node* node, const lys_module* parent_module,
                       bool plain = false) {
  if (plain || parent_module == node->module) return node->name;
  return absl::StrCat(node->module->name, ":", node->name);
}

// The content of an inner data node as a JSON object.
json ChildrenJson(const lyd_node* parent, const lys_module* parent_module,
                  bool plain) {
  json out = json::object();
  for (const lyd_node* child = lyd_child(parent); child; child = child->next) {
    if (!child->schema) continue;
    const std::string member = MemberName(child->schema, parent_module, plain);
    switch (child->schema->nodetype) {
      case LYS_LEAF:
        out[member] = LeafOut(child, plain);
        break;
      case LYS_LEAFLIST:
        out[member].push_back(LeafOut(child, plain));
        break;
      case LYS_LIST:
        out[member].push_back(
            ChildrenJson(child, child->schema->module, plain));
        break;
      case LYS_CONTAINER:
        out[member] = ChildrenJson(child, child->schema->module, plain);
        break;
      case LYS_ANYDATA:
      case LYS_ANYXML: {
        char* text = nullptr;
        if (lyd_any_value_str(child, &text) == LY_SUCCESS && text) {
          internal::CString holder(text);
          json parsed = json::parse(text, nullptr, false);
          out[member] = parsed.is_discarded() ? json(text) : parsed;
        } else {
          out[member] = json::object();
        }
        break;
      }
      default:
        break;
    }
  }
  return out;
}

bool IsInner(const lysc_node* node) {
  return node && (node->nodetype & (LYS_CONTAINER | LYS_LIST));
}

// Schema children of `parent` (top-level nodes of every implemented module,
// or only of `only`, when parent is null).
std::vector<const lysc_node*> Children(const ly_ctx* ctx,
                                       const lysc_node* parent,
                                       const lys_module* only = nullptr) {
  std::vector<const lysc_node*> out;
  if (parent) {
    if (!IsInner(parent)) return out;
    const lysc_node* child = nullptr;
    while ((child = lys_getnext(child, parent, nullptr, 0))) {
      out.push_back(child);
    }
    return out;
  }
  uint32_t index = 0;
  const lys_module* module;
  while ((module = ly_ctx_get_module_iter(ctx, &index))) {
    if (!module->implemented || !module->compiled) continue;
    if (only && module != only) continue;
    const lysc_node* child = nullptr;
    while ((child = lys_getnext(child, nullptr, module->compiled, 0))) {
      out.push_back(child);
    }
  }
  return out;
}

// `node` and its inner descendants, each once: a subtree already in `seen`
// is skipped whole, so "..." after "..." stays linear in the schema size
// instead of multiplying the candidates at every step.
void Descendants(const ly_ctx* ctx, const lysc_node* node,
                 std::vector<const lysc_node*>* out,
                 std::unordered_set<const lysc_node*>* seen) {
  if (!seen->insert(node).second) return;
  out->push_back(node);
  for (const lysc_node* child : Children(ctx, node)) {
    if (IsInner(child)) Descendants(ctx, child, out, seen);
  }
}

void SplitPrefix(const std::string& name, std::string* prefix,
                 std::string* local) {
  size_t colon = name.find(':');
  if (colon == std::string::npos) {
    prefix->clear();
    *local = name;
  } else {
    *prefix = name.substr(0, colon);
    *local = name.substr(colon + 1);
  }
}

bool ModuleMatches(const lys_module* module, const std::string& prefix) {
  return prefix.empty() || prefix == module->name || prefix == module->prefix;
}

// Children of `parent` named `name` ("module:local" or "local"); when
// unprefixed and several modules match, `preferred` wins.
absl::StatusOr<const lysc_node*> FindChild(const ly_ctx* ctx,
                                           const lysc_node* parent,
                                           const std::string& name,
                                           const std::string& where) {
  std::string prefix, local;
  SplitPrefix(name, &prefix, &local);
  std::vector<const lysc_node*> found;
  for (const lysc_node* child : Children(ctx, parent)) {
    if (local == child->name && ModuleMatches(child->module, prefix)) {
      found.push_back(child);
    }
  }
  if (found.empty()) {
    return Invalid(absl::StrCat("unknown element '", name, "' in ", where));
  }
  if (found.size() > 1) {
    if (parent) {
      for (const lysc_node* node : found) {
        if (node->module == parent->module) return node;
      }
    }
    std::vector<std::string> modules;
    for (const lysc_node* node : found) modules.push_back(node->module->name);
    return Invalid(absl::StrCat("ambiguous element '", name, "' in ", where,
                                ": defined in modules ",
                                absl::StrJoin(modules, ", ")));
  }
  return found.front();
}

absl::StatusOr<json> Normalize(const ly_ctx* ctx, const lysc_node* snode,
                               bool whole_list, const json& in, bool plain,
                               const std::string& where);

absl::StatusOr<json> NormalizeObject(const ly_ctx* ctx, const lysc_node* snode,
                                     const json& in, bool plain,
                                     const std::string& where) {
  if (!in.is_object()) {
    return Invalid(absl::StrCat("expected a JSON object for ", where));
  }
  json out = json::object();
  for (const auto& [name, value] : in.items()) {
    if (!name.empty() && name[0] == '@') continue;  // metadata
    ASSIGN_OR_RETURN(const lysc_node* child,
                     FindChild(ctx, snode, name, where));
    const std::string child_where =
        absl::StrCat(where == "/" ? "" : where, "/", child->name);
    ASSIGN_OR_RETURN(json converted,
                     Normalize(ctx, child, true, value, plain, child_where));
    out[MemberName(child, snode ? snode->module : nullptr)] =
        std::move(converted);
  }
  return out;
}

absl::StatusOr<json> Normalize(const ly_ctx* ctx, const lysc_node* snode,
                               bool whole_list, const json& in, bool plain,
                               const std::string& where) {
  if (!snode) return NormalizeObject(ctx, nullptr, in, plain, where);
  switch (snode->nodetype) {
    case LYS_CONTAINER:
      return NormalizeObject(ctx, snode, in, plain, where);
    case LYS_LIST: {
      if (!whole_list) return NormalizeObject(ctx, snode, in, plain, where);
      json entries = in.is_array() ? in : json::array({in});
      json out = json::array();
      for (const auto& entry : entries) {
        ASSIGN_OR_RETURN(json converted,
                         NormalizeObject(ctx, snode, entry, plain, where));
        out.push_back(std::move(converted));
      }
      return out;
    }
    case LYS_LEAF:
      if (in.is_object()) {
        return Invalid(absl::StrCat("expected a scalar for leaf ", where));
      }
      return NormalizeLeaf(LeafType(snode), in, plain);
    case LYS_LEAFLIST: {
      json entries = in.is_array() ? in : json::array({in});
      json out = json::array();
      for (const auto& entry : entries) {
        out.push_back(NormalizeLeaf(LeafType(snode), entry, plain));
      }
      return out;
    }
    default:
      return in;
  }
}

std::string QuoteKey(const std::string& value) {
  if (value.find('\'') == std::string::npos) return "'" + value + "'";
  return "\"" + value + "\"";
}

bool BadName(const std::string& name) {
  return name.find_first_of("/[]'\"= \t\n") != std::string::npos;
}

// Top-level nodes of every implemented module named `name`.
std::vector<const lysc_node*> TopLevelNamed(const ly_ctx* ctx,
                                            const std::string& name) {
  std::vector<const lysc_node*> out;
  for (const lysc_node* node : Children(ctx, nullptr)) {
    if (name == node->name) out.push_back(node);
  }
  return out;
}

}  // namespace

GnmiTranslator::GnmiTranslator(std::shared_ptr<const YangContext> context)
    : context_(std::move(context)) {}

namespace {

absl::StatusOr<Resolution> Resolve(const ly_ctx* ctx, const gnmi::Path& prefix,
                                   const gnmi::Path& path) {
  Resolution res;
  // Origin.
  std::string origin = prefix.origin();
  if (!path.origin().empty()) {
    if (!origin.empty() && origin != path.origin()) {
      return Invalid(absl::StrCat("conflicting origins '", origin, "' and '",
                                  path.origin(), "'"));
    }
    origin = path.origin();
  }
  const lys_module* origin_module = nullptr;
  if (!origin.empty() && origin != "openconfig" && origin != "rfc7951") {
    origin_module = ly_ctx_get_module_implemented(ctx, origin.c_str());
    if (!origin_module) {
      // Unknown to this schema, like an unknown element: NOT_FOUND, so a
      // gNMI device's driver may still pass it through.
      return absl::NotFoundError(absl::StrCat("unknown origin '", origin, "'"));
    }
  }
  if ((prefix.elem_size() == 0 && prefix.element_size() > 0) ||
      (path.elem_size() == 0 && path.element_size() > 0)) {
    return Invalid("the deprecated 'element' path field is not supported");
  }
  std::vector<const gnmi::PathElem*> elems;
  for (const auto& e : prefix.elem()) elems.push_back(&e);
  for (const auto& e : path.elem()) elems.push_back(&e);

  std::vector<const lysc_node*> current = {nullptr};
  const lys_module* prev_module = nullptr;
  bool prev_ambiguous = true;
  bool descendant = false;
  std::string xpath;
  bool wildcards = false;
  for (size_t i = 0; i < elems.size(); ++i) {
    const gnmi::PathElem& elem = *elems[i];
    const std::string& name = elem.name();
    const bool last = i + 1 == elems.size();
    const std::string where = xpath.empty() ? "/" : xpath;
    if (name.empty()) {
      return Invalid(
          absl::StrCat("empty element name at position ", i, " of the path"));
    }
    if (BadName(name)) {
      return Invalid(absl::StrCat("invalid element name '", name, "'"));
    }
    if (name == "...") {
      if (elem.key_size() > 0) return Invalid("keys on '...' element");
      wildcards = true;
      if (last) break;
      std::vector<const lysc_node*> all;
      std::unordered_set<const lysc_node*> seen_all;
      for (const lysc_node* node : current) {
        if (node) {
          Descendants(ctx, node, &all, &seen_all);
        } else if (seen_all.insert(nullptr).second) {
          all.push_back(nullptr);
          for (const lysc_node* top : Children(ctx, nullptr, origin_module)) {
            if (IsInner(top)) Descendants(ctx, top, &all, &seen_all);
          }
        }
      }
      current = std::move(all);
      descendant = true;
      prev_ambiguous = true;
      continue;
    }
    std::vector<const lysc_node*> next;
    std::string segment;
    std::unordered_set<const lysc_node*> seen;
    if (name == "*") {
      wildcards = true;
      for (const lysc_node* node : current) {
        for (const lysc_node* child :
             Children(ctx, node, node ? nullptr : origin_module)) {
          if (seen.insert(child).second) next.push_back(child);
        }
      }
      if (next.empty()) {
        return absl::NotFoundError(
            absl::StrCat("no element matches '*' under ", where));
      }
      segment = "*";
      prev_ambiguous = true;
    } else {
      std::string mod, local;
      SplitPrefix(name, &mod, &local);
      if (local.empty() ||
          (name.find(':') != std::string::npos && mod.empty())) {
        return Invalid(absl::StrCat("invalid element name '", name, "'"));
      }
      for (const lysc_node* node : current) {
        for (const lysc_node* child :
             Children(ctx, node, node ? nullptr : origin_module)) {
          if (local == child->name && ModuleMatches(child->module, mod) &&
              seen.insert(child).second) {
            next.push_back(child);
          }
        }
      }
      if (next.empty()) {
        return absl::NotFoundError(absl::StrCat(
            "unknown element '", name, "' under ", where,
            origin_module ? absl::StrCat(" (origin ", origin, ")") : ""));
      }
      if (i == 0 && mod.empty() && origin == "openconfig") {
        // The openconfig origin prefers OpenConfig's own modules.
        std::vector<const lysc_node*> oc;
        for (const lysc_node* node : next) {
          if (std::string_view(node->module->name).starts_with("openconfig-")) {
            oc.push_back(node);
          }
        }
        if (!oc.empty()) next = std::move(oc);
      }
      std::set<std::string> modules;
      for (const lysc_node* node : next) modules.insert(node->module->name);
      if (modules.size() > 1) {
        return Invalid(absl::StrCat("ambiguous element '", name, "' under ",
                                    where, ": defined in modules ",
                                    absl::StrJoin(modules, ", "),
                                    "; qualify it as module:", local));
      }
      const lys_module* module = next.front()->module;
      const bool qualify = prev_ambiguous || module != prev_module;
      segment = qualify ? absl::StrCat(module->name, ":", local) : local;
      prev_module = module;
      prev_ambiguous = false;
    }
    // Keys.
    KeyList keys;
    const lysc_node* first = next.front();
    if (elem.key_size() > 0) {
      for (const lysc_node* node : next) {
        if (node->nodetype != LYS_LIST) {
          return Invalid(absl::StrCat("element '", name, "' under ", where,
                                      " is not a list: keys are not allowed"));
        }
      }
      for (const auto& [key, value] : elem.key()) {
        std::string kmod, klocal;
        SplitPrefix(key, &kmod, &klocal);
        for (const lysc_node* node : next) {
          bool known = false;
          for (const lysc_node* child = lysc_node_child(node);
               child && (child->flags & LYS_KEY); child = child->next) {
            if (klocal == child->name) known = true;
          }
          if (!known) {
            return Invalid(absl::StrCat("unknown key '", key, "' for list '",
                                        node->name, "' under ", where));
          }
        }
      }
      // Predicates in schema key order.
      for (const lysc_node* child = lysc_node_child(first);
           child && (child->flags & LYS_KEY); child = child->next) {
        const std::string* value = nullptr;
        for (const auto& [key, v] : elem.key()) {
          std::string kmod, klocal;
          SplitPrefix(key, &kmod, &klocal);
          if (klocal == child->name) value = &v;
        }
        if (!value || *value == "*") continue;
        if (value->find('\'') != std::string::npos &&
            value->find('"') != std::string::npos) {
          return Invalid(absl::StrCat(
              "key value of '", child->name,
              "' holds both quote characters, which XPath cannot express"));
        }
        absl::StrAppend(&segment, "[", child->name, "=", QuoteKey(*value), "]");
        keys.emplace_back(child->name, *value);
      }
    }
    if (first->nodetype == LYS_LIST) {
      size_t key_count = 0;
      for (const lysc_node* child = lysc_node_child(first);
           child && (child->flags & LYS_KEY); child = child->next) {
        ++key_count;
      }
      if (keys.size() < key_count &&
          (!last || !keys.empty() || elem.key_size() > 0)) {
        wildcards = true;
      }
    }
    absl::StrAppend(&xpath, descendant ? "//" : "/", segment);
    descendant = false;
    res.chain.push_back(first);
    res.keys.push_back(std::move(keys));
    current = std::move(next);
  }
  if (xpath.empty()) {
    res.root = true;
    xpath = "/*";
  }
  res.path.xpath = std::move(xpath);
  res.path.has_wildcards = wildcards;
  res.path.is_leaf = !res.root && !current.empty();
  for (const lysc_node* node : current) {
    if (!node || !(node->nodetype & (LYS_LEAF | LYS_LEAFLIST))) {
      res.path.is_leaf = false;
    }
  }
  return res;
}

}  // namespace

absl::StatusOr<ResolvedPath> GnmiTranslator::ToXPath(
    const gnmi::Path& prefix, const gnmi::Path& path) const {
  ASSIGN_OR_RETURN(Resolution res, Resolve(context_->raw(), prefix, path));
  return res.path;
}

absl::StatusOr<gnmi::Path> GnmiTranslator::ToGnmiPath(
    std::string_view data_path) const {
  gnmi::Path out;
  const std::string s(data_path);
  if (internal::IsRootXPath(s)) return out;
  if (s[0] != '/') {
    return Invalid(absl::StrCat("not an absolute data path: ", s));
  }
  std::string module;
  size_t i = 0;
  const size_t n = s.size();
  bool first = true;
  while (i < n) {
    if (s[i] != '/') return Invalid(absl::StrCat("malformed data path: ", s));
    ++i;
    if (i < n && s[i] == '/') {
      out.add_elem()->set_name("...");
      ++i;
    }
    size_t start = i;
    while (i < n && s[i] != '/' && s[i] != '[') ++i;
    std::string name = s.substr(start, i - start);
    if (name.empty()) return Invalid(absl::StrCat("malformed data path: ", s));
    std::string mod, local;
    SplitPrefix(name, &mod, &local);
    gnmi::PathElem* elem = out.add_elem();
    if (first) {
      if (!mod.empty() && TopLevelNamed(context_->raw(), local).size() > 1) {
        elem->set_name(name);
      } else {
        elem->set_name(local);
      }
      module = mod;
      first = false;
    } else if (!mod.empty() && mod != module) {
      elem->set_name(name);
      module = mod;
    } else {
      elem->set_name(local);
    }
    while (i < n && s[i] == '[') {
      ++i;
      size_t key_start = i;
      while (i < n && s[i] != '=' && s[i] != ']') ++i;
      if (i >= n) return Invalid(absl::StrCat("malformed predicate in ", s));
      std::string key = s.substr(key_start, i - key_start);
      std::string value;
      bool positional = i < n && s[i] == ']';
      if (!positional) {
        ++i;  // '='
        if (i < n && (s[i] == '\'' || s[i] == '"')) {
          char quote = s[i++];
          size_t value_start = i;
          while (i < n && s[i] != quote) ++i;
          if (i >= n) return Invalid(absl::StrCat("unterminated quote: ", s));
          value = s.substr(value_start, i - value_start);
          ++i;
        } else {
          size_t value_start = i;
          while (i < n && s[i] != ']') ++i;
          value = s.substr(value_start, i - value_start);
        }
      }
      if (i >= n || s[i] != ']') {
        return Invalid(absl::StrCat("malformed predicate in ", s));
      }
      ++i;
      std::string kmod, klocal;
      SplitPrefix(key, &kmod, &klocal);
      if (positional || klocal == ".") continue;
      (*elem->mutable_key())[klocal] = value;
    }
  }
  return out;
}

absl::StatusOr<Edit> GnmiTranslator::ToEdit(
    Edit::Op op, const gnmi::Path& prefix, const gnmi::Path& path,
    const gnmi::TypedValue* value) const {
  const ly_ctx* ctx = context_->raw();
  ASSIGN_OR_RETURN(Resolution res, Resolve(ctx, prefix, path));
  Edit edit;
  edit.op = op;
  edit.xpath = res.path.xpath;
  if (res.path.has_wildcards) {
    return Invalid(absl::StrCat("wildcards are not allowed in Set paths: ",
                                res.path.xpath));
  }
  if (op == Edit::Op::kDelete) return edit;
  if (!value || value->value_case() == gnmi::TypedValue::VALUE_NOT_SET) {
    return Invalid(absl::StrCat("missing value for ", res.path.xpath));
  }
  const lysc_node* target = res.root ? nullptr : res.chain.back();
  const bool whole_list =
      target && target->nodetype == LYS_LIST && res.keys.back().empty();
  json content;
  switch (value->value_case()) {
    case gnmi::TypedValue::kJsonVal:
    case gnmi::TypedValue::kJsonIetfVal: {
      const bool plain = value->value_case() == gnmi::TypedValue::kJsonVal;
      const std::string& text =
          plain ? value->json_val() : value->json_ietf_val();
      json parsed = json::parse(text, nullptr, false);
      if (parsed.is_discarded()) {
        return Invalid(absl::StrCat("invalid JSON value for ", edit.xpath));
      }
      ASSIGN_OR_RETURN(content, Normalize(ctx, target, whole_list, parsed,
                                          plain, res.root ? "/" : edit.xpath));
      break;
    }
    case gnmi::TypedValue::kLeaflistVal: {
      if (!target || target->nodetype != LYS_LEAFLIST) {
        return Invalid(absl::StrCat("leaflist_val for ", edit.xpath,
                                    ", which is not a leaf-list"));
      }
      content = json::array();
      for (const auto& element : value->leaflist_val().element()) {
        auto converted = ScalarJson(LeafType(target), element);
        if (!converted.ok()) {
          return Invalid(
              absl::StrCat(converted.status().message(), " at ", edit.xpath));
        }
        content.push_back(*converted);
      }
      break;
    }
    case gnmi::TypedValue::kAnyVal:
    case gnmi::TypedValue::kProtoBytes:
      return Invalid("any_val and proto_bytes values are not supported");
    default: {
      if (!target || !(target->nodetype & (LYS_LEAF | LYS_LEAFLIST))) {
        return Invalid(
            absl::StrCat("a scalar value needs a leaf path; ", edit.xpath,
                         " is not a leaf (use json_val or json_ietf_val)"));
      }
      auto converted = ScalarJson(LeafType(target), *value);
      if (!converted.ok()) {
        return Invalid(
            absl::StrCat(converted.status().message(), " at ", edit.xpath));
      }
      content = *converted;
      if (target->nodetype == LYS_LEAFLIST) content = json::array({content});
      break;
    }
  }
  // Wrap the content in its ancestors, with list keys.
  json doc = std::move(content);
  for (size_t i = res.chain.size(); i-- > 0;) {
    const lysc_node* snode = res.chain[i];
    if (snode->nodetype == LYS_LIST && !res.keys[i].empty()) {
      if (!doc.is_object()) {
        return Invalid(absl::StrCat("the value of list entry ", edit.xpath,
                                    " must be a JSON object"));
      }
      for (const auto& [key, text] : res.keys[i]) {
        const lysc_node* key_node = nullptr;
        for (const lysc_node* c = lysc_node_child(snode);
             c && (c->flags & LYS_KEY); c = c->next) {
          if (key == c->name) key_node = c;
        }
        if (!key_node) continue;
        json typed = KeyJson(key_node, text);
        auto it = doc.find(key);
        if (it != doc.end() && *it != typed) {
          return Invalid(absl::StrCat("key '", key, "' is ", it->dump(),
                                      " in the value but ", typed.dump(),
                                      " in the path ", edit.xpath));
        }
        doc[key] = typed;
      }
      doc = json::array({std::move(doc)});
    }
    json wrapper = json::object();
    wrapper[MemberName(snode, i > 0 ? res.chain[i - 1]->module : nullptr)] =
        std::move(doc);
    doc = std::move(wrapper);
  }
  edit.document = doc.dump();
  // Let libyang check types, ranges, patterns and structure.
  lyd_node* tree = nullptr;
  if (lyd_parse_data_mem(ctx, edit.document.c_str(), LYD_JSON,
                         LYD_PARSE_ONLY | LYD_PARSE_STRICT, 0,
                         &tree) != LY_SUCCESS) {
    lyd_free_all(tree);
    return LyError(ctx, absl::StatusCode::kInvalidArgument,
                   absl::StrCat("invalid value for ", edit.xpath));
  }
  lyd_free_all(tree);
  return edit;
}

absl::StatusOr<Notification::LeafUpdate> GnmiTranslator::ToLeafUpdate(
    const gnmi::Path& prefix, const gnmi::Path& path,
    const gnmi::TypedValue& value) const {
  ASSIGN_OR_RETURN(ConcreteLeaf leaf, ResolveLeaf(prefix, path));
  ASSIGN_OR_RETURN(std::string json_value, LeafJson(leaf, value));
  return Notification::LeafUpdate{std::move(leaf.xpath), std::move(json_value)};
}

absl::StatusOr<ConcreteLeaf> GnmiTranslator::ResolveLeaf(
    const gnmi::Path& prefix, const gnmi::Path& path) const {
  ASSIGN_OR_RETURN(Resolution res, Resolve(context_->raw(), prefix, path));
  if (!res.path.is_leaf || res.path.has_wildcards || res.chain.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(res.path.xpath, " is not one concrete leaf"));
  }
  return ConcreteLeaf{std::move(res.path.xpath), res.chain.back()};
}

namespace {

// libyang checks a value against the leaf's type (range, pattern, enum,
// ...); a leafref or instance-identifier needing a data tree is accepted.
absl::Status CheckLeafText(const ly_ctx* ctx, const lysc_node* target,
                           const std::string& text, const std::string& xpath) {
  LY_ERR err = lyd_value_validate(ctx, target, text.c_str(), text.size(),
                                  nullptr, nullptr, nullptr);
  if (err != LY_SUCCESS && err != LY_EINCOMPLETE) {
    return LyError(ctx, absl::StatusCode::kInvalidArgument,
                   absl::StrCat("invalid value for ", xpath));
  }
  return absl::OkStatus();
}

// The text of a JSON string literal made only of printable ASCII without
// escapes (so that it is its own RFC 7951 form), or false.
bool PlainJsonString(const std::string& literal, std::string* text) {
  if (literal.size() < 2 || literal.front() != '"' || literal.back() != '"') {
    return false;
  }
  for (size_t i = 1; i + 1 < literal.size(); ++i) {
    const char c = literal[i];
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') return false;
  }
  text->assign(literal, 1, literal.size() - 2);
  return true;
}

// Types whose RFC 7951 (JSON_IETF) value is a JSON string that
// NormalizeLeaf keeps as it is.
bool TakesIetfStringAsIs(const lysc_type* type) {
  if (!type) return false;
  switch (type->basetype) {
    case LY_TYPE_INT64:
    case LY_TYPE_UINT64:
    case LY_TYPE_DEC64:
    case LY_TYPE_STRING:
    case LY_TYPE_ENUM:
    case LY_TYPE_BITS:
    case LY_TYPE_BINARY:
    case LY_TYPE_IDENT:
      return true;
    default:
      return false;
  }
}

}  // namespace

absl::StatusOr<std::string> GnmiTranslator::LeafJson(
    const ConcreteLeaf& leaf, const gnmi::TypedValue& value) const {
  const ly_ctx* ctx = context_->raw();
  const lysc_node* target = leaf.node;
  if (!target || !(target->nodetype & (LYS_LEAF | LYS_LEAFLIST))) {
    return absl::FailedPreconditionError(
        absl::StrCat(leaf.xpath, " is not one concrete leaf"));
  }
  const bool leaflist = target->nodetype == LYS_LEAFLIST;
  // Telemetry's common case, a JSON_IETF string for a leaf of a (non-union)
  // type that takes it as it is: checked by libyang the same way, without
  // a JSON parse and print.
  if (!leaflist && value.value_case() == gnmi::TypedValue::kJsonIetfVal) {
    std::string text;
    if (TakesIetfStringAsIs(ResolveType(LeafType(target))) &&
        PlainJsonString(value.json_ietf_val(), &text)) {
      RETURN_IF_ERROR(CheckLeafText(ctx, target, text, leaf.xpath));
      return value.json_ietf_val();
    }
  }
  json content;
  switch (value.value_case()) {
    case gnmi::TypedValue::kJsonVal:
    case gnmi::TypedValue::kJsonIetfVal: {
      const bool plain = value.value_case() == gnmi::TypedValue::kJsonVal;
      json parsed = json::parse(
          plain ? value.json_val() : value.json_ietf_val(), nullptr, false);
      if (parsed.is_discarded()) {
        return Invalid(absl::StrCat("invalid JSON value for ", leaf.xpath));
      }
      ASSIGN_OR_RETURN(
          content, Normalize(ctx, target, false, parsed, plain, leaf.xpath));
      break;
    }
    case gnmi::TypedValue::kLeaflistVal: {
      if (!leaflist) {
        return Invalid(absl::StrCat("leaflist_val for ", leaf.xpath,
                                    ", which is not a leaf-list"));
      }
      content = json::array();
      for (const auto& element : value.leaflist_val().element()) {
        ASSIGN_OR_RETURN(json one, ScalarJson(LeafType(target), element));
        content.push_back(std::move(one));
      }
      break;
    }
    case gnmi::TypedValue::kAnyVal:
    case gnmi::TypedValue::kProtoBytes:
    case gnmi::TypedValue::VALUE_NOT_SET:
      return Invalid(absl::StrCat("unsupported value for ", leaf.xpath));
    default: {
      ASSIGN_OR_RETURN(content, ScalarJson(LeafType(target), value));
      if (leaflist) content = json::array({content});
      break;
    }
  }
  // libyang checks each value against the type (range, pattern, enum, ...);
  // a leafref or instance-identifier needing a data tree is accepted.
  auto check = [&](const json& one) -> absl::Status {
    if (one.is_object() || one.is_array()) {
      return Invalid(absl::StrCat("expected a scalar for ", leaf.xpath));
    }
    if (one.is_string()) {
      return CheckLeafText(ctx, target, one.get_ref<const std::string&>(),
                           leaf.xpath);
    }
    return CheckLeafText(ctx, target, one.dump(), leaf.xpath);
  };
  if (leaflist) {
    if (!content.is_array()) content = json::array({content});
    for (const json& one : content) RETURN_IF_ERROR(check(one));
  } else {
    RETURN_IF_ERROR(check(content));
  }
  return content.dump();
}

absl::StatusOr<std::vector<gnmi::Update>> GnmiTranslator::ToUpdates(
    const DataTree& tree, const std::string& xpath,
    gnmi::Encoding encoding) const {
  if (encoding != gnmi::JSON && encoding != gnmi::JSON_IETF &&
      encoding != gnmi::PROTO) {
    return absl::UnimplementedError(
        absl::StrCat("encoding ", gnmi::Encoding_Name(encoding),
                     " is not supported (use JSON, JSON_IETF or PROTO)"));
  }
  std::vector<gnmi::Update> updates;
  ASSIGN_OR_RETURN(std::vector<lyd_node*> nodes, tree.Nodes(xpath));
  std::unordered_set<const lyd_node*> done_leaflists;
  // The first entry of the leaf-list `node` belongs to, or null when that
  // leaf-list was already reported.
  auto leaflist_start = [&](const lyd_node* node) -> const lyd_node* {
    const lyd_node* first = node;
    while (first->prev->next && first->prev->schema == node->schema) {
      first = first->prev;
    }
    return done_leaflists.insert(first).second ? first : nullptr;
  };
  auto add_term = [&](const lyd_node* node) -> absl::Status {
    gnmi::Update update;
    if (node->schema->nodetype == LYS_LEAFLIST) {
      const lyd_node* first = leaflist_start(node);
      if (!first) return absl::OkStatus();
      ASSIGN_OR_RETURN(*update.mutable_path(),
                       ToGnmiPath(internal::NodePath(first, true)));
      json array = json::array();
      for (const lyd_node* n = first; n && n->schema == node->schema;
           n = n->next) {
        if (encoding == gnmi::PROTO) {
          *update.mutable_val()->mutable_leaflist_val()->add_element() =
              TypedFromJson(TermType(n), TermJson(n));
        } else {
          array.push_back(LeafOut(n, encoding == gnmi::JSON));
        }
      }
      if (encoding == gnmi::JSON)
        update.mutable_val()->set_json_val(array.dump());
      if (encoding == gnmi::JSON_IETF) {
        update.mutable_val()->set_json_ietf_val(array.dump());
      }
    } else {
      ASSIGN_OR_RETURN(*update.mutable_path(),
                       ToGnmiPath(internal::NodePath(node)));
      if (encoding == gnmi::PROTO) {
        *update.mutable_val() = TypedFromJson(TermType(node), TermJson(node));
      } else if (encoding == gnmi::JSON) {
        update.mutable_val()->set_json_val(LeafOut(node, true).dump());
      } else {
        update.mutable_val()->set_json_ietf_val(LeafOut(node, false).dump());
      }
    }
    updates.push_back(std::move(update));
    return absl::OkStatus();
  };
  std::unordered_set<const lyd_node*> selected(nodes.begin(), nodes.end());
  for (lyd_node* node : nodes) {
    if (!node->schema) continue;
    if (node->schema->nodetype & LYD_NODE_TERM) {
      RETURN_IF_ERROR(add_term(node));
      continue;
    }
    if (encoding == gnmi::PROTO) {
      // Skip nodes whose ancestor was selected too: already reported.
      bool covered = false;
      for (lyd_node* p = lyd_parent(node); p && !covered; p = lyd_parent(p)) {
        covered = selected.count(p) > 0;
      }
      if (covered) continue;
      lyd_node* elem;
      absl::Status status;
      LYD_TREE_DFS_BEGIN(node, elem) {
        if (status.ok() && elem->schema &&
            (elem->schema->nodetype & LYD_NODE_TERM)) {
          status = add_term(elem);
        }
        LYD_TREE_DFS_END(node, elem);
      }
      RETURN_IF_ERROR(status);
      continue;
    }
    if (!(node->schema->nodetype & (LYS_CONTAINER | LYS_LIST))) continue;
    // Empty non-presence containers libyang creates implicitly.
    if ((node->flags & LYD_DEFAULT) && !lyd_child(node)) continue;
    gnmi::Update update;
    ASSIGN_OR_RETURN(*update.mutable_path(),
                     ToGnmiPath(internal::NodePath(node)));
    const bool plain = encoding == gnmi::JSON;
    const std::string text = ChildrenJson(node, nullptr, plain).dump();
    if (plain) {
      update.mutable_val()->set_json_val(text);
    } else {
      update.mutable_val()->set_json_ietf_val(text);
    }
    updates.push_back(std::move(update));
  }
  return updates;
}

absl::StatusOr<gnmi::TypedValue> GnmiTranslator::LeafValue(
    const std::string& data_path, const std::string& json_value,
    gnmi::Encoding encoding) const {
  const lysc_node* snode =
      lys_find_path(context_->raw(), nullptr, data_path.c_str(), 0);
  if (!snode) {
    ly_err_clean(context_->raw(), nullptr);
    return absl::NotFoundError(absl::StrCat("unknown data path ", data_path));
  }
  if (!(snode->nodetype & (LYS_LEAF | LYS_LEAFLIST))) {
    return Invalid(absl::StrCat(data_path, " is not a leaf"));
  }
  json value = json::parse(json_value, nullptr, false);
  if (value.is_discarded()) {
    return Invalid(absl::StrCat("invalid JSON value for ", data_path));
  }
  const lysc_type* type = ResolveType(LeafType(snode));
  gnmi::TypedValue out;
  switch (encoding) {
    case gnmi::JSON_IETF:
      out.set_json_ietf_val(json_value);
      return out;
    case gnmi::JSON: {
      json plain;
      if (value.is_array() && snode->nodetype == LYS_LEAFLIST) {
        plain = json::array();
        for (const auto& v : value) plain.push_back(PlainLeaf(type, v));
      } else {
        plain = PlainLeaf(type, value);
      }
      out.set_json_val(plain.dump());
      return out;
    }
    case gnmi::PROTO:
      if (value.is_array() && snode->nodetype == LYS_LEAFLIST) {
        for (const auto& v : value) {
          *out.mutable_leaflist_val()->add_element() = TypedFromJson(type, v);
        }
        return out;
      }
      return TypedFromJson(type, value);
    default:
      return absl::UnimplementedError(
          absl::StrCat("encoding ", gnmi::Encoding_Name(encoding),
                       " is not supported (use JSON, JSON_IETF or PROTO)"));
  }
}

gnmi::Path JoinPaths(const gnmi::Path& prefix, const gnmi::Path& path) {
  gnmi::Path joined;
  joined.set_origin(path.origin().empty() ? prefix.origin() : path.origin());
  joined.mutable_elem()->Reserve(prefix.elem_size() + path.elem_size());
  for (const gnmi::PathElem& elem : prefix.elem()) *joined.add_elem() = elem;
  for (const gnmi::PathElem& elem : path.elem()) *joined.add_elem() = elem;
  return joined;
}

std::string NativePathKey(const gnmi::Path& path) {
  std::string key = absl::StrCat("native:", path.origin(), ":");
  if (path.elem().empty()) key += "/";
  for (const gnmi::PathElem& elem : path.elem()) {
    absl::StrAppend(&key, "/", elem.name());
    // Protobuf maps have no order: sort the keys for one spelling.
    std::map<std::string, std::string> keys(elem.key().begin(),
                                            elem.key().end());
    for (const auto& [name, value] : keys) {
      absl::StrAppend(&key, "[", name, "=", value, "]");
    }
  }
  return key;
}

}  // namespace southgate::schema
