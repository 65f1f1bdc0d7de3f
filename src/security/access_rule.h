// Authorization rules: which users or roles may read or change which
// targets and subtrees. Header-only (like user.h) so that the config
// library can parse and validate rules without linking the security
// library; the Authorizer (authorizer.h) evaluates them.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "security/user.h"

namespace southgate::security {

// One element of a data path: a name (module prefix stripped) and keys.
// A key value "*" (or a missing key) means every entry.
struct PathElem {
  std::string name;
  std::map<std::string, std::string> keys;
};
using DataPath = std::vector<PathElem>;

enum class Access { kRead, kWrite };

inline const char* AccessName(Access access) {
  return access == Access::kRead ? "read" : "write";
}

struct AccessRule {
  std::string name;
  bool allow = false;                   // effect: allow or deny
  std::vector<std::string> users;       // empty: any user
  std::vector<Role> roles;              // empty: any role
  std::vector<std::string> targets;     // empty or "*": any target
  std::vector<DataPath> paths;          // empty: the whole tree
  std::vector<std::string> path_texts;  // as written, for messages
  bool read = true;
  bool write = true;
};

// "interfaces" or "openconfig-interfaces:interfaces" -> "interfaces".
inline std::string StripModule(std::string_view name) {
  size_t colon = name.find(':');
  return std::string(colon == std::string_view::npos ? name
                                                     : name.substr(colon + 1));
}

// Parses "/a/b[k=v][k2=v2]/c" ("/" alone is the whole tree). Returns
// nullopt and sets `error` for malformed text.
inline std::optional<DataPath> ParseDataPath(std::string_view text,
                                             std::string* error) {
  DataPath path;
  if (text.empty() || text.front() != '/') {
    *error = "must start with '/'";
    return std::nullopt;
  }
  size_t i = 1;
  while (i < text.size()) {
    PathElem elem;
    size_t start = i;
    while (i < text.size() && text[i] != '/' && text[i] != '[') ++i;
    elem.name = StripModule(text.substr(start, i - start));
    if (elem.name.empty()) {
      *error = "empty element name";
      return std::nullopt;
    }
    while (i < text.size() && text[i] == '[') {
      size_t close = text.find(']', i);
      if (close == std::string_view::npos) {
        *error = "unterminated '['";
        return std::nullopt;
      }
      std::string_view key = text.substr(i + 1, close - i - 1);
      size_t eq = key.find('=');
      if (eq == std::string_view::npos || eq == 0) {
        *error = "key must be [name=value]";
        return std::nullopt;
      }
      elem.keys[std::string(key.substr(0, eq))] =
          std::string(key.substr(eq + 1));
      i = close + 1;
    }
    if (i < text.size() && text[i] != '/') {
      *error = "unexpected character after ']'";
      return std::nullopt;
    }
    path.push_back(std::move(elem));
    if (i < text.size()) ++i;  // the '/'
  }
  return path;
}

}  // namespace southgate::security
