#include "drivers/sim/sim_options.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "drivers/driver_options.h"
#include "nlohmann/json.hpp"

namespace southgate::drivers::sim {
namespace {

const char* const kDefaultModules[] = {"ietf-interfaces", "iana-if-type",
                                       "ietf-ip",         "ietf-system",
                                       "ietf-hardware",   "iana-hardware"};

constexpr DriverOptionReader kOptions("sim");

}  // namespace

absl::StatusOr<SimOptions> ParseSimOptions(const std::string& options_json) {
  SimOptions options;
  ASSIGN_OR_RETURN(nlohmann::json json, kOptions.Parse(options_json));

  for (const auto& [key, value] : json.items()) {
    if (key == "seed") {
      if (!value.is_string()) return kOptions.Error("'seed' must be a string");
    } else if (key == "base_dir") {
      if (!value.is_string()) {
        return kOptions.Error("'base_dir' must be a string");
      }
    } else if (key == "modules") {
      if (!value.is_array()) return kOptions.Error("'modules' must be a list");
    } else if (key == "features") {
      if (!value.is_array() && !value.is_object()) {
        return kOptions.Error("'features' must be a list or an object");
      }
    } else if (key == "update_interval_ms") {
      if (!value.is_number_integer() || value.get<int64_t>() < 0) {
        return kOptions.Error(
            "'update_interval_ms' must be a non-negative integer");
      }
      options.update_interval_ms = value.get<int64_t>();
    } else if (key == "flap_probability") {
      if (!value.is_number() || value.get<double>() < 0 ||
          value.get<double>() > 1) {
        return kOptions.Error("'flap_probability' must be a number in [0, 1]");
      }
      options.flap_probability = value.get<double>();
    } else if (key == "fail_connect") {
      if (!value.is_boolean()) {
        return kOptions.Error("'fail_connect' must be a boolean");
      }
      options.fail_connect = value.get<bool>();
    } else if (key == "change_paced") {
      if (!value.is_boolean()) {
        return kOptions.Error("'change_paced' must be a boolean");
      }
      options.change_paced = value.get<bool>();
    } else if (key == "change_rate" || key == "change_leaves" ||
               key == "change_batch") {
      if (!value.is_number_integer() || value.get<int64_t>() < 0 ||
          value.get<int64_t>() > 100000000) {
        return kOptions.Error(absl::StrCat(
            "'", key, "' must be an integer between 0 and 100000000"));
      }
      (key == "change_rate"     ? options.change_rate
       : key == "change_leaves" ? options.change_leaves
                                : options.change_batch) = value.get<int64_t>();
    } else {
      return kOptions.Error(absl::StrCat("unknown option '", key, "'"));
    }
  }

  if (options.change_rate > 0 && options.change_leaves == 0) {
    return kOptions.Error("'change_rate' needs 'change_leaves' of at least 1");
  }
  if (options.change_batch == 0) {
    options.change_batch = std::min<int64_t>(options.change_leaves, 100);
  }
  if (options.change_batch == 0) options.change_batch = 1;

  if (json.contains("seed")) {
    std::filesystem::path seed = json["seed"].get<std::string>();
    if (seed.is_relative() && json.contains("base_dir")) {
      seed = std::filesystem::path(json["base_dir"].get<std::string>()) / seed;
    }
    options.seed = seed.string();
  }

  std::vector<std::string> names;
  if (json.contains("modules")) {
    for (const auto& entry : json["modules"]) {
      if (!entry.is_string() || entry.get<std::string>().empty()) {
        return kOptions.Error("'modules' entries must be non-empty strings");
      }
      names.push_back(entry.get<std::string>());
    }
  } else {
    names.assign(std::begin(kDefaultModules), std::end(kDefaultModules));
  }

  std::map<std::string, std::vector<std::string>> features;
  if (json.contains("features")) {
    const auto& value = json["features"];
    if (value.is_object()) {
      for (const auto& [module, list] : value.items()) {
        if (!list.is_array()) {
          return kOptions.Error("'features' values must be lists");
        }
        for (const auto& feature : list) {
          if (!feature.is_string()) {
            return kOptions.Error("feature names must be strings");
          }
          features[module].push_back(feature.get<std::string>());
        }
      }
    } else {
      for (const auto& entry : value) {
        std::string text = entry.is_string() ? entry.get<std::string>() : "";
        auto colon = text.find(':');
        if (colon == std::string::npos || colon == 0 ||
            colon + 1 == text.size()) {
          return kOptions.Error(
              "'features' list entries must be \"module:feature\"");
        }
        features[text.substr(0, colon)].push_back(text.substr(colon + 1));
      }
    }
  }

  for (const std::string& name : names) {
    schema::ModuleSpec spec;
    auto at = name.find('@');
    spec.name = name.substr(0, at);
    if (at != std::string::npos) spec.revision = name.substr(at + 1);
    if (spec.name.empty()) {
      return kOptions.Error(absl::StrCat("bad module entry '", name, "'"));
    }
    if (auto it = features.find(spec.name); it != features.end()) {
      spec.features = it->second;
      features.erase(it);
    }
    options.modules.push_back(std::move(spec));
  }
  if (!features.empty()) {
    return kOptions.Error(absl::StrCat("features given for module '",
                                       features.begin()->first,
                                       "' which is not in 'modules'"));
  }
  return options;
}

}  // namespace southgate::drivers::sim
