// A shared object without the ABI symbol: not a driver plugin.
#include "southgate/driver.h"

extern "C" __attribute__((visibility("default"))) int
southgate_register_drivers(southgate::DriverRegistrar* registrar) {
  (void)registrar->Register("no_abi", [](const auto&, const auto&) {
    return absl::StatusOr<std::unique_ptr<southgate::Driver>>(
        absl::InternalError("must never be created"));
  });
  return 0;
}
