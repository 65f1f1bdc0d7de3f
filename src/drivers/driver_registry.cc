#include "drivers/driver_registry.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "spdlog/spdlog.h"

namespace southgate::drivers {

absl::Status DriverRegistry::Register(const std::string& name,
                                      DriverFactory factory) {
  if (name.empty()) {
    return absl::InvalidArgumentError("driver name must not be empty");
  }
  if (!factory) {
    return absl::InvalidArgumentError(
        absl::StrCat("driver '", name, "' has no factory"));
  }
  std::lock_guard lock(mutex_);
  auto [it, inserted] = factories_.emplace(name, std::move(factory));
  if (!inserted) {
    return absl::AlreadyExistsError(
        absl::StrCat("driver '", name, "' is already registered"));
  }
  spdlog::debug("registered driver '{}'", name);
  return absl::OkStatus();
}

absl::Status DriverRegistry::RegisterBuiltins() {
  for (const BuiltinDriver& builtin : BuiltinDrivers()) {
    absl::Status status = Register(builtin.name, builtin.factory);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Driver>> DriverRegistry::Create(
    const DeviceSettings& settings, const DriverContext& context) const {
  DriverFactory factory;
  {
    std::lock_guard lock(mutex_);
    auto it = factories_.find(settings.driver);
    if (it == factories_.end()) {
      std::vector<std::string> names;
      for (const auto& [name, unused] : factories_) names.push_back(name);
      return absl::NotFoundError(absl::StrCat(
          "device '", settings.name, "': unknown driver '", settings.driver,
          "' (known drivers: ",
          names.empty() ? "none" : absl::StrJoin(names, ", "), ")"));
    }
    factory = it->second;
  }
  auto driver = factory(settings, context);
  if (driver.ok() && *driver == nullptr) {
    return absl::InternalError(absl::StrCat("driver '", settings.driver,
                                            "' returned no driver object"));
  }
  return driver;
}

bool DriverRegistry::Contains(const std::string& name) const {
  std::lock_guard lock(mutex_);
  return factories_.contains(name);
}

std::vector<std::string> DriverRegistry::Names() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  names.reserve(factories_.size());
  for (const auto& [name, unused] : factories_) names.push_back(name);
  return names;
}

std::vector<BuiltinDriver>& BuiltinDrivers() {
  static auto* builtins = new std::vector<BuiltinDriver>();
  return *builtins;
}

BuiltinDriverRegistration::BuiltinDriverRegistration(const char* name,
                                                     DriverFactory factory) {
  BuiltinDrivers().push_back(BuiltinDriver{name, std::move(factory)});
}

}  // namespace southgate::drivers
