#include "drivers/plugin_loader.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace southgate::drivers {
namespace {

// Closes a dlopen() handle unless released (rollback on error).
class DlHandle {
 public:
  explicit DlHandle(void* handle) : handle_(handle) {}
  ~DlHandle() {
    if (handle_ != nullptr) dlclose(handle_);
  }
  DlHandle(const DlHandle&) = delete;
  DlHandle& operator=(const DlHandle&) = delete;
  void* get() const { return handle_; }
  void* release() { return std::exchange(handle_, nullptr); }

 private:
  void* handle_;
};

std::string DlError() {
  const char* error = dlerror();
  return error != nullptr ? error : "unknown dynamic loader error";
}

}  // namespace

PluginLoader::~PluginLoader() {
  // Reverse load order.
  for (auto it = handles_.rbegin(); it != handles_.rend(); ++it) {
    dlclose(it->handle);
  }
}

absl::Status PluginLoader::Load(const std::string& path,
                                DriverRegistrar& registrar) {
  dlerror();
  DlHandle handle(dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (handle.get() == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("driver plugin ", path, ": cannot load: ", DlError()));
  }
  dlerror();
  auto abi_fn = reinterpret_cast<SouthgateAbiVersionFn>(
      dlsym(handle.get(), "southgate_driver_abi_version"));
  if (abi_fn == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("driver plugin ", path,
                     ": not a southgate driver plugin: missing symbol "
                     "southgate_driver_abi_version (expected ABI version \"",
                     kDriverAbiVersion, "\", found none)"));
  }
  const char* found = abi_fn();
  if (found == nullptr || std::strcmp(found, kDriverAbiVersion) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "driver plugin ", path, ": ABI version mismatch: expected \"",
        kDriverAbiVersion, "\", found \"", found != nullptr ? found : "(null)",
        "\"; rebuild the plugin"));
  }
  auto register_fn = reinterpret_cast<SouthgateRegisterFn>(
      dlsym(handle.get(), "southgate_register_drivers"));
  if (register_fn == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "driver plugin ", path, ": missing symbol southgate_register_drivers"));
  }
  // Factories registered before a failure stay in the registrar and point
  // into the library, so the library stays loaded once registration began.
  const int rc = register_fn(&registrar);
  handles_.push_back(Handle{path, handle.release()});
  if (rc != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "driver plugin ", path, ": southgate_register_drivers failed (", rc,
        "); a driver name may already be registered"));
  }
  spdlog::info("loaded driver plugin {} ({})", path, kDriverAbiVersion);
  return absl::OkStatus();
}

absl::Status PluginLoader::LoadDirectory(const std::string& dir,
                                         DriverRegistrar& registrar) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return absl::NotFoundError(
        absl::StrCat("driver plugin directory ", dir, " does not exist"));
  }
  std::vector<std::string> paths;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".so" &&
        (entry.is_regular_file() || entry.is_symlink())) {
      paths.push_back(entry.path().string());
    }
  }
  if (ec) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot read driver plugin directory ", dir, ": ", ec.message()));
  }
  std::sort(paths.begin(), paths.end());
  absl::Status first_error;
  for (const std::string& path : paths) {
    absl::Status status = Load(path, registrar);
    if (!status.ok()) {
      spdlog::error("{}", std::string(status.message()));
      if (first_error.ok()) first_error = status;
    }
  }
  return first_error;
}

std::vector<std::string> PluginLoader::loaded() const {
  std::vector<std::string> paths;
  for (const Handle& handle : handles_) paths.push_back(handle.path);
  return paths;
}

}  // namespace southgate::drivers
