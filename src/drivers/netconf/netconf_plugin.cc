// Plugin entry points of the NETCONF driver (netconf.so).
#include "drivers/netconf/netconf_driver.h"

namespace {

absl::Status RegisterNetconfDriver(southgate::DriverRegistrar* registrar) {
  return registrar->Register("netconf",
                             &southgate::drivers::netconf::CreateNetconfDriver);
}

}  // namespace

SOUTHGATE_DRIVER_PLUGIN(RegisterNetconfDriver)
