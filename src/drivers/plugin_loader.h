// Loads driver plugins: shared objects in a directory that export
// southgate_driver_abi_version() and southgate_register_drivers() (see
// SOUTHGATE_DRIVER_PLUGIN in southgate/driver.h).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "southgate/driver.h"

namespace southgate::drivers {

class PluginLoader {
 public:
  PluginLoader() = default;
  // dlclose()s every loaded plugin. Destroy drivers created from plugin
  // factories (and the registry holding them) before the loader.
  ~PluginLoader();
  PluginLoader(const PluginLoader&) = delete;
  PluginLoader& operator=(const PluginLoader&) = delete;

  // Loads one plugin file. FAILED_PRECONDITION when it lacks the ABI symbol
  // or reports another ABI version; the library is closed again on any error.
  absl::Status Load(const std::string& path, DriverRegistrar& registrar);

  // Loads every *.so in `dir` (sorted by name). A missing directory is
  // NOT_FOUND. Stops at nothing: every plugin is tried, and the first error
  // is returned after all were attempted.
  absl::Status LoadDirectory(const std::string& dir,
                             DriverRegistrar& registrar);

  // Paths of the plugins loaded so far.
  std::vector<std::string> loaded() const;

 private:
  struct Handle {
    std::string path;
    void* handle = nullptr;
  };
  std::vector<Handle> handles_;
};

}  // namespace southgate::drivers
