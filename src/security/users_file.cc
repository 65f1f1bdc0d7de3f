#include "security/users_file.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "security/tls.h"

namespace southgate::security {

absl::StatusOr<std::vector<UserEntry>> ReadUsersFile(const std::string& path) {
  std::vector<UserEntry> users;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return users;
  ASSIGN_OR_RETURN(std::string text, ReadTextFile(path, "users file"));
  try {
    YAML::Node root = YAML::Load(text);
    if (!root.IsDefined() || root.IsNull()) return users;
    if (!root.IsMap()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": expected a mapping with a 'users' list"));
    }
    YAML::Node list = root["users"];
    if (list.IsMap()) list = list["list"];
    if (!list.IsDefined() || list.IsNull()) return users;
    if (!list.IsSequence()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": 'users' is not a list"));
    }
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node item = list[i];
      UserEntry user;
      if (!item.IsMap() || !item["name"] || !item["role"]) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ":", item.Mark().line + 1, ": users[", i,
                         "] needs a name and a role"));
      }
      user.name = item["name"].as<std::string>();
      auto role = ParseRole(item["role"].as<std::string>());
      if (!role) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ":", item.Mark().line + 1, ": users[", i,
                         "].role: not read-only, read-write or admin"));
      }
      user.role = *role;
      if (item["password_hash"]) {
        user.password_hash = item["password_hash"].as<std::string>();
      }
      users.push_back(std::move(user));
    }
  } catch (const YAML::Exception& ex) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ":", ex.mark.line + 1, ": invalid YAML: ", ex.msg));
  }
  return users;
}

absl::Status WriteUsersFile(const std::string& path,
                            const std::vector<UserEntry>& users) {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "users" << YAML::Value
      << YAML::BeginSeq;
  for (const UserEntry& user : users) {
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << user.name
        << YAML::Key << "role" << YAML::Value << RoleName(user.role);
    if (!user.password_hash.empty()) {
      out << YAML::Key << "password_hash" << YAML::Value << YAML::DoubleQuoted
          << user.password_hash;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  std::string text = out.c_str();
  text.push_back('\n');
  return WriteFileAtomically(path, text, 0600);
}

}  // namespace southgate::security
