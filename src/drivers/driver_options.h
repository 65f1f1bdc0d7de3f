// Reading a driver's `options:` (a JSON object from the device's config
// entry) the same way in every driver: one error prefix naming the driver,
// one wording per kind of value. (Debian's absl::string_view is not
// std::string_view: hence the std::string copies for StrCat.)
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace southgate::drivers {

class DriverOptionReader {
 public:
  // `driver` as users write it under `driver:` ("sim", "netconf", ...).
  constexpr explicit DriverOptionReader(std::string_view driver)
      : driver_(driver) {}

  absl::Status Error(std::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(driver_), " driver options: ", std::string(message)));
  }

  // The options object; absent or null options are an empty object.
  absl::StatusOr<nlohmann::json> Parse(const std::string& options_json) const {
    nlohmann::json json = nlohmann::json::parse(
        options_json.empty() ? "{}" : options_json, nullptr,
        /*allow_exceptions=*/false);
    if (json.is_discarded()) return Error("not valid JSON");
    if (json.is_null()) json = nlohmann::json::object();
    if (!json.is_object()) return Error("must be a JSON object");
    return json;
  }

  absl::Status String(const std::string& key, const nlohmann::json& value,
                      std::string& out) const {
    if (!value.is_string()) return Error("'" + key + "' must be a string");
    out = value.get<std::string>();
    return absl::OkStatus();
  }

  absl::Status Bool(const std::string& key, const nlohmann::json& value,
                    bool& out) const {
    if (!value.is_boolean()) return Error("'" + key + "' must be a boolean");
    out = value.get<bool>();
    return absl::OkStatus();
  }

  // An integer number of milliseconds, at least `min`.
  absl::Status Milliseconds(const std::string& key, const nlohmann::json& value,
                            std::chrono::milliseconds& out, int64_t min) const {
    if (!value.is_number_integer() || value.get<int64_t>() < min) {
      return Error(absl::StrCat("'", key, "' must be an integer >= ", min));
    }
    out = std::chrono::milliseconds(value.get<int64_t>());
    return absl::OkStatus();
  }

 private:
  std::string_view driver_;
};

}  // namespace southgate::drivers
