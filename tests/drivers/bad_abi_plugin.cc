// A driver plugin built against another driver ABI: the loader must refuse
// it before calling southgate_register_drivers.
#include "southgate/driver.h"

extern "C" __attribute__((visibility("default"))) const char*
southgate_driver_abi_version() {
  return "southgate-driver-abi/0";
}

extern "C" __attribute__((visibility("default"))) int
southgate_register_drivers(southgate::DriverRegistrar* registrar) {
  (void)registrar->Register("bad_abi", [](const auto&, const auto&) {
    return absl::StatusOr<std::unique_ptr<southgate::Driver>>(
        absl::InternalError("must never be created"));
  });
  return 0;
}
