#include "devices/device_manager.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
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
  auto driver = registry_.Create(settings, context_);
  if (!driver.ok()) {
    return absl::Status(driver.status().code(),
                        absl::StrCat("device '", settings.name,
                                     "': ", driver.status().message()));
  }
  auto device = std::make_shared<Device>(settings, std::move(driver).value());
  std::lock_guard<std::mutex> lock(mutex_);
  devices_.emplace(settings.name, std::move(device));
  return absl::OkStatus();
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
  for (auto& [name, device] : devices_) {
    connectors_.emplace_back(
        [this, device = device] { ConnectLoop(device); });
  }
}

void DeviceManager::ConnectLoop(std::shared_ptr<Device> device) {
  std::mt19937_64 random(std::hash<std::string>{}(device->name()));
  auto delay = backoff_.initial;
  for (uint64_t attempt = 1;; ++attempt) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
    }
    absl::Status status = device->driver().Connect();
    if (status.ok()) {
      device->MarkConnected();
      { std::lock_guard<std::mutex> lock(mutex_); }  // no lost wake-up
      spdlog::info("device {}: connected (driver {}, {} models)",
                   device->name(), device->driver_name(),
                   device->driver().Models().size());
      changed_.notify_all();
      return;
    }
    std::uniform_real_distribution<double> jitter(1.0 - backoff_.jitter,
                                                  1.0 + backoff_.jitter);
    auto wait = std::chrono::milliseconds(
        static_cast<int64_t>(delay.count() * jitter(random)));
    spdlog::warn("device {}: connect attempt {} failed: {}; retrying in {} ms",
                 device->name(), attempt, std::string(status.message()), wait.count());
    std::unique_lock<std::mutex> lock(mutex_);
    if (changed_.wait_for(lock, wait, [this] { return stopping_; })) return;
    delay = std::min(backoff_.max,
                     std::chrono::milliseconds(static_cast<int64_t>(
                         delay.count() * backoff_.multiplier)));
  }
}

void DeviceManager::Shutdown() {
  std::vector<std::thread> connectors;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    connectors.swap(connectors_);
  }
  changed_.notify_all();
  for (auto& connector : connectors) connector.join();
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
