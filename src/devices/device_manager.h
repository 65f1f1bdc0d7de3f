// The inventory made live: one Device per configured entry, each owning its
// driver, connected in the background with exponential backoff. Connect
// attempts run on a small shared pool (kConnectThreads), not a thread per
// device; waits between attempts are delayed tasks, holding no thread.
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
#include "common/executor.h"
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
  const Driver& driver() const { return *driver_; }
  DeviceStatus status() const { return driver_->Status(); }

  // The device's gNMI translator; UNAVAILABLE (with the device's last error)
  // until the driver has connected.
  absl::StatusOr<std::shared_ptr<const schema::GnmiTranslator>> Translator()
      const;

 private:
  friend class DeviceManager;
  void MarkConnected();
  const DeviceSettings& settings() const { return settings_; }

  DeviceSettings settings_;
  std::unique_ptr<Driver> driver_;
  mutable std::mutex mutex_;
  std::shared_ptr<const schema::GnmiTranslator> translator_;
  // Guarded by DeviceManager::mutex_: a live reload removed the device;
  // its connect loop is still running (and will close the driver).
  bool removed_ = false;
  bool connect_loop_running_ = false;
  // The first connection attempt has finished (either way): readiness.
  std::atomic<bool> attempted_{false};
};

struct BackoffPolicy {
  std::chrono::milliseconds initial{500};
  std::chrono::milliseconds max{30000};
  double multiplier = 2.0;
  double jitter = 0.2;  // +-20%
};

class DeviceManager {
 public:
  // First connects (and retries) in progress at once; drivers bound their
  // own connects further (the netconf driver: 16 per process).
  static constexpr size_t kConnectThreads = 16;

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
  // Live reload: takes the device out of the inventory and closes its
  // driver (after its connect loop, if still retrying, has stopped).
  // Requests already holding the Device fail with the driver's error.
  // NOT_FOUND for an unknown name.
  absl::Status Remove(const std::string& name);
  // Live reload: a device whose settings changed is closed and recreated
  // (connecting in the background once started). The old device stays if
  // the new settings are rejected by the driver.
  absl::Status Replace(const DeviceSettings& settings);
  // The settings a device runs with (credentials included: never log them);
  // false for an unknown name.
  bool SettingsOf(const std::string& name, DeviceSettings* settings) const;
  // True once every device has made its first connection attempt, whatever
  // the outcome: the daemon is then "managing" them (readiness).
  bool FirstAttemptsDone() const;
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
  // One connect attempt; on failure the next one is scheduled on the pool
  // after the backoff delay.
  void ConnectAttempt(const std::shared_ptr<Device>& device, uint64_t attempt,
                      std::chrono::milliseconds delay);
  // Creates the device and its driver; the caller inserts it.
  absl::StatusOr<std::shared_ptr<Device>> Create(
      const DeviceSettings& settings);
  // With mutex_ held: starts the device's connect loop if Start() ran.
  void LaunchLocked(const std::shared_ptr<Device>& device);

  drivers::DriverRegistry& registry_;
  DriverContext context_;
  BackoffPolicy backoff_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool stopping_ = false;
  bool started_ = false;
  std::map<std::string, std::shared_ptr<Device>> devices_;
  std::shared_ptr<Device> internal_;
  // Last member: destroyed (stopped) first, while what tasks use exists.
  Executor connectors_{kConnectThreads};
};

}  // namespace southgate::devices
