// A minimal well-formed plugin registering the driver "good".
#include "southgate/driver.h"

namespace {

absl::Status RegisterGood(southgate::DriverRegistrar* registrar) {
  return registrar->Register("good", [](const auto&, const auto&) {
    return absl::StatusOr<std::unique_ptr<southgate::Driver>>(
        absl::UnimplementedError("good plugin creates no devices"));
  });
}

}  // namespace

SOUTHGATE_DRIVER_PLUGIN(RegisterGood)
