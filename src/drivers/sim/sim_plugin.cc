// Plugin entry points of the sim driver (sim.so).
#include "drivers/sim/sim_driver.h"

namespace {

absl::Status RegisterSimDriver(southgate::DriverRegistrar* registrar) {
  return registrar->Register("sim", &southgate::drivers::sim::CreateSimDriver);
}

}  // namespace

SOUTHGATE_DRIVER_PLUGIN(RegisterSimDriver)
