// The inventory made live: one Device per configured entry, each owning its
// driver, connected in the background with exponential backoff.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "drivers/driver_registry.h"
#include "schema/gnmi_translator.h"
#include "southgate/driver.h"

namespace southgate::devices {

class Device {
 public:
  Device(DeviceSettings settings, std::unique_ptr<Driver> driver);
  const std::string& name() const { return settings_.name; }
  const std::string& driver_name() const { return settings_.driver; }
  const std::string& address() const { return settings_.address; }
  Driver& driver() { return *driver_; }
  DeviceStatus status() const { return driver_->Status(); }

  // The device's gNMI translator; UNAVAILABLE (with the device's last error)
  // until the driver has connected.
  absl::StatusOr<std::shared_ptr<const schema::GnmiTranslator>> Translator()
      const;

 private:
  friend class DeviceManager;
  void MarkConnected();

  DeviceSettings settings_;
  std::unique_ptr<Driver> driver_;
  mutable std::mutex mutex_;
  std::shared_ptr<const schema::GnmiTranslator> translator_;
};

struct BackoffPolicy {
  std::chrono::milliseconds initial{500};
  std::chrono::milliseconds max{30000};
  double multiplier = 2.0;
  double jitter = 0.2;  // +-20%
};

class DeviceManager {
 public:
  DeviceManager(drivers::DriverRegistry& registry, DriverContext context,
                BackoffPolicy backoff = {});
  ~DeviceManager();

  // Creates the device's driver (not yet connected). Fails for unknown
  // drivers, duplicate names or a driver rejecting its options.
  absl::Status Add(const DeviceSettings& settings);
  // Adds the daemon's own read-only target (see self_driver.h). It answers
  // Find() and Capabilities but is not counted by Names()/size(), so a
  // request without target still reaches the only real device.
  absl::Status AddInternal(const std::string& name,
                           std::unique_ptr<Driver> driver);
  std::shared_ptr<Device> internal_device() const;
  // Connects every device in the background, retrying with backoff.
  void Start();
  void Shutdown();

  std::shared_ptr<Device> Find(const std::string& name) const;
  std::vector<std::string> Names() const;
  size_t size() const;

  // Blocks until every device connected or `timeout` passed; for start-up
  // logs and tests.
  bool WaitConnected(std::chrono::milliseconds timeout) const;

 private:
  void ConnectLoop(std::shared_ptr<Device> device);

  drivers::DriverRegistry& registry_;
  DriverContext context_;
  BackoffPolicy backoff_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool stopping_ = false;
  std::map<std::string, std::shared_ptr<Device>> devices_;
  std::shared_ptr<Device> internal_;
  std::vector<std::thread> connectors_;
};

}  // namespace southgate::devices
