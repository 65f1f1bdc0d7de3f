#include "devices/device_manager.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "ops/metrics.h"
#include "spdlog/spdlog.h"

namespace southgate::devices {

Device::Device(DeviceSettings settings, std::unique_ptr<Driver> driver)
    : settings_(std::move(settings)), driver_(std::move(driver)) {}

absl::StatusOr<std::shared_ptr<const schema::GnmiTranslator>>
Device::Translator() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (translator_) return translator_;
  DeviceStatus status = driver_->Status();
  return absl::UnavailableError(absl::StrCat(
      "device '", settings_.name, "' is not connected (",
      ConnectionStateName(status.state),
      status.last_error.empty() ? "" : ": " + status.last_error, ")"));
}

void Device::MarkConnected() {
  auto translator =
      std::make_shared<const schema::GnmiTranslator>(driver_->Schema());
  std::lock_guard<std::mutex> lock(mutex_);
  translator_ = std::move(translator);
}

DeviceManager::DeviceManager(drivers::DriverRegistry& registry,
                             DriverContext context, BackoffPolicy backoff)
    : registry_(registry), context_(std::move(context)), backoff_(backoff) {}

DeviceManager::~DeviceManager() { Shutdown(); }

absl::Status DeviceManager::Add(const DeviceSettings& settings) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (devices_.count(settings.name) ||
        (internal_ && internal_->name() == settings.name)) {
      return absl::AlreadyExistsError(
          absl::StrCat("device '", settings.name, "' is configured twice"));
    }
  }
  ASSIGN_OR_RETURN(auto device, Create(settings));
  std::lock_guard<std::mutex> lock(mutex_);
  if (!devices_.emplace(settings.name, device).second) {
    return absl::AlreadyExistsError(
        absl::StrCat("device '", settings.name, "' is configured twice"));
  }
  LaunchLocked(device);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<Device>> DeviceManager::Create(
    const DeviceSettings& settings) {
  auto driver = registry_.Create(settings, context_);
  if (!driver.ok()) {
    return absl::Status(driver.status().code(),
                        absl::StrCat("device '", settings.name,
                                     "': ", driver.status().message()));
  }
  return std::make_shared<Device>(settings, std::move(driver).value());
}

void DeviceManager::LaunchLocked(const std::shared_ptr<Device>& device) {
  if (!started_ || stopping_) return;
  device->connect_loop_running_ = true;
  connectors_.Post(
      [this, device] { ConnectAttempt(device, 1, backoff_.initial); });
}

absl::Status DeviceManager::Remove(const std::string& name) {
  std::shared_ptr<Device> device;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = devices_.find(name);
    if (it == devices_.end()) {
      return absl::NotFoundError(absl::StrCat("no device '", name, "'"));
    }
    device = std::move(it->second);
    devices_.erase(it);
    device->removed_ = true;
    // A connect loop still retrying closes the driver itself when it sees
    // removed_; closing it here could race with its Connect().
    if (device->connect_loop_running_) device.reset();
  }
  changed_.notify_all();
  if (device) device->driver().Close();
  spdlog::info("device {}: removed", name);
  return absl::OkStatus();
}

absl::Status DeviceManager::Replace(const DeviceSettings& settings) {
  // Create first: a driver rejecting the new options leaves the old device.
  ASSIGN_OR_RETURN(auto replacement, Create(settings));
  RETURN_IF_ERROR(Remove(settings.name));
  std::lock_guard<std::mutex> lock(mutex_);
  devices_[settings.name] = replacement;
  LaunchLocked(replacement);
  return absl::OkStatus();
}

bool DeviceManager::SettingsOf(const std::string& name,
                               DeviceSettings* settings) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = devices_.find(name);
  if (it == devices_.end()) return false;
  *settings = it->second->settings();
  return true;
}

bool DeviceManager::FirstAttemptsDone() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!started_) return false;
  for (const auto& [name, device] : devices_) {
    if (!device->attempted_) return false;
  }
  return true;
}

absl::Status DeviceManager::AddInternal(const std::string& name,
                                        std::unique_ptr<Driver> driver) {
  DeviceSettings settings;
  settings.name = name;
  settings.driver = "self";
  auto device = std::make_shared<Device>(settings, std::move(driver));
  RETURN_IF_ERROR(device->driver().Connect());
  device->MarkConnected();
  std::lock_guard<std::mutex> lock(mutex_);
  if (devices_.count(name)) {
    return absl::AlreadyExistsError(absl::StrCat(
        "device '", name, "' has the name of the daemon's own target"));
  }
  internal_ = std::move(device);
  return absl::OkStatus();
}

std::shared_ptr<Device> DeviceManager::internal_device() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return internal_;
}

void DeviceManager::Start() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (started_) return;
  started_ = true;
  for (auto& [name, device] : devices_) LaunchLocked(device);
}

void DeviceManager::ConnectAttempt(const std::shared_ptr<Device>& device,
                                   uint64_t attempt,
                                   std::chrono::milliseconds delay) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || device->removed_) {
      device->connect_loop_running_ = false;
      // Removed by a reload while retrying: this task is the only one that
      // may be inside the driver, so it closes it.
      if (device->removed_) device->driver().Close();
      return;
    }
  }
  ops::Metrics& metrics = ops::Metrics::Default();
  absl::Status status = device->driver().Connect();
  device->attempted_ = true;
  metrics.device_connect_attempts
      .With({device->name(), status.ok() ? "ok" : "error"})
      .Inc();
  if (status.ok()) {
    device->MarkConnected();
    bool removed = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);  // also: no lost wake-up
      device->connect_loop_running_ = false;
      removed = device->removed_;
    }
    if (removed) {
      device->driver().Close();
      changed_.notify_all();
      return;
    }
    spdlog::info("device {}: connected (driver {}, {} models)", device->name(),
                 device->driver_name(), device->driver().Models().size());
    changed_.notify_all();
    return;
  }
  // Seeded per device and attempt: devices failing together spread out.
  std::mt19937_64 random(std::hash<std::string>{}(device->name()) + attempt);
  std::uniform_real_distribution<double> jitter(1.0 - backoff_.jitter,
                                                1.0 + backoff_.jitter);
  auto wait = std::chrono::milliseconds(
      static_cast<int64_t>(delay.count() * jitter(random)));
  spdlog::warn("device {}: connect attempt {} failed: {}; retrying in {} ms",
               device->name(), attempt, std::string(status.message()),
               wait.count());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) {
      device->connect_loop_running_ = false;
      changed_.notify_all();
      return;
    }
  }
  changed_.notify_all();  // attempted_ changed: readiness waiters
  auto next =
      std::min(backoff_.max, std::chrono::milliseconds(static_cast<int64_t>(
                                 delay.count() * backoff_.multiplier)));
  connectors_.PostAfter(wait, [this, device, attempt, next] {
    ConnectAttempt(device, attempt + 1, next);
  });
}

void DeviceManager::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  changed_.notify_all();
  // Waits for attempts in progress; retries not yet due are dropped.
  connectors_.Stop();
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [name, device] : devices_) device->driver().Close();
}

std::shared_ptr<Device> DeviceManager::Find(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = devices_.find(name);
  if (it != devices_.end()) return it->second;
  return internal_ && internal_->name() == name ? internal_ : nullptr;
}

std::vector<std::string> DeviceManager::Names() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> names;
  for (const auto& [name, device] : devices_) names.push_back(name);
  return names;
}

size_t DeviceManager::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return devices_.size();
}

bool DeviceManager::WaitConnected(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [this] {
    for (const auto& [name, device] : devices_) {
      if (!device->Translator().ok()) return false;
    }
    return true;
  });
}

}  // namespace southgate::devices
