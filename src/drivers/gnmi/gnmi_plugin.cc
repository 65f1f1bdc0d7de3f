// Plugin entry points of the gNMI driver (gnmi.so).
#include "drivers/gnmi/gnmi_driver.h"

namespace {

absl::Status RegisterGnmiDriver(southgate::DriverRegistrar* registrar) {
  return registrar->Register(
      "gnmi", &southgate::drivers::gnmi_driver::CreateGnmiDriver);
}

}  // namespace

SOUTHGATE_DRIVER_PLUGIN(RegisterGnmiDriver)
