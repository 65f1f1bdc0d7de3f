// Driver registry: named DriverFactory objects from built-in drivers and
// plugins. The device manager creates drivers through it by inventory name.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/status_macros.h"
#include "southgate/driver.h"

namespace southgate::drivers {

class DriverRegistry : public DriverRegistrar {
 public:
  DriverRegistry() = default;
  DriverRegistry(const DriverRegistry&) = delete;
  DriverRegistry& operator=(const DriverRegistry&) = delete;

  // ALREADY_EXISTS when `name` is taken; INVALID_ARGUMENT for an empty name
  // or factory.
  absl::Status Register(const std::string& name,
                        DriverFactory factory) override;

  // Registers every driver collected by SOUTHGATE_REGISTER_BUILTIN_DRIVER.
  absl::Status RegisterBuiltins();

  // Creates the driver `settings.driver`; NOT_FOUND (listing the known
  // drivers) when no such driver is registered.
  absl::StatusOr<std::unique_ptr<Driver>> Create(
      const DeviceSettings& settings, const DriverContext& context) const;

  bool Contains(const std::string& name) const;
  // Registered names, sorted.
  std::vector<std::string> Names() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, DriverFactory> factories_;
};

// Built-in drivers compiled into the daemon register here at static
// initialisation time; DriverRegistry::RegisterBuiltins() takes them in.
struct BuiltinDriver {
  std::string name;
  DriverFactory factory;
};
std::vector<BuiltinDriver>& BuiltinDrivers();

class BuiltinDriverRegistration {
 public:
  BuiltinDriverRegistration(const char* name, DriverFactory factory);
};

}  // namespace southgate::drivers

// At namespace scope in one .cc file of a built-in driver:
//   SOUTHGATE_REGISTER_BUILTIN_DRIVER(mydriver, &CreateMyDriver);
#define SOUTHGATE_REGISTER_BUILTIN_DRIVER(name, factory)                   \
  static ::southgate::drivers::BuiltinDriverRegistration SOUTHGATE_CONCAT( \
      southgate_builtin_driver_, __LINE__)(#name, factory)
