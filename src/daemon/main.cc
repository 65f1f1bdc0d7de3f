// southgated: flags, configuration, start-up, signals. Everything else lives
// in the libraries under src/.
#include <signal.h>
#include <systemd/sd-daemon.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/str_join.h"
#include "config/config.h"
#include "devices/device_manager.h"
#include "devices/self_driver.h"
#include "drivers/driver_registry.h"
#include "drivers/plugin_loader.h"
#include "fmt/chrono.h"
#include "nlohmann/json.hpp"
#include "northbound/gnmi_handler.h"
#include "northbound/gnmi_service.h"
#include "northbound/server.h"
#include "ops/metrics.h"
#include "ops/ops_server.h"
#include "schema/yang_context.h"
#include "security/audit_log.h"
#include "security/authenticator.h"
#include "security/authorizer.h"
#include "security/login_throttle.h"
#include "security/passwords.h"
#include "security/tls.h"
#include "security/tls_watcher.h"
#include "security/users_file.h"
#include "spdlog/pattern_formatter.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"
#include "telemetry/hub.h"
#include "telemetry/timer_service.h"

namespace fs = std::filesystem;
using namespace southgate;

namespace {

// One JSON object per line, for log collectors.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg,
              spdlog::memory_buf_t& dest) override {
    nlohmann::json line;
    line["time"] =
        fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06d}Z",
                    fmt::gmtime(std::chrono::system_clock::to_time_t(msg.time)),
                    std::chrono::duration_cast<std::chrono::microseconds>(
                        msg.time.time_since_epoch())
                            .count() %
                        1000000);
    line["level"] = spdlog::level::to_string_view(msg.level);
    line["msg"] = std::string(msg.payload.data(), msg.payload.size());
    std::string text =
        line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    text.push_back('\n');
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

void SetUpLogging(const std::string& level, config::LogFormat format) {
  auto logger = spdlog::stderr_color_mt("southgated");
  if (format == config::LogFormat::kJson) {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  }
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}

fs::path ExecutableDir() {
  std::error_code error;
  fs::path exe = fs::read_symlink("/proc/self/exe", error);
  return error ? fs::current_path() : exe.parent_path();
}

// Build tree (bin/../plugins) or install tree (bin/../lib/southgate/plugins).
std::string DefaultPluginDir() {
  fs::path dir = ExecutableDir();
  for (fs::path candidate :
       {dir / ".." / "plugins", dir / ".." / "lib" / "southgate" / "plugins",
        fs::path(SOUTHGATE_INSTALLED_PLUGIN_DIR)}) {
    if (fs::is_directory(candidate)) return fs::canonical(candidate);
  }
  return SOUTHGATE_INSTALLED_PLUGIN_DIR;
}

// The project's modules (install or source tree) and Debian's IETF modules.
std::vector<std::string> DefaultYangDirs() {
  std::vector<std::string> dirs;
  fs::path installed = ExecutableDir() / ".." / "share" / "southgate" / "yang";
  if (fs::is_directory(installed)) dirs.push_back(fs::canonical(installed));
  if (fs::is_directory(SOUTHGATE_SOURCE_YANG_DIR)) {
    dirs.push_back(SOUTHGATE_SOURCE_YANG_DIR);
  }
  dirs.push_back("/usr/share/yuma/modules/ietf");
  return dirs;
}

std::string ReadSecretFromTerminal(const char* prompt) {
  std::string secret;
  bool tty = isatty(STDIN_FILENO);
  termios saved{};
  if (tty) {
    // Echo off before the prompt: whatever is typed after it is hidden.
    tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~ECHO;
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::cerr << prompt << std::flush;
  }
  std::getline(std::cin, secret);
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::cerr << "\n";
  }
  return secret;
}

int HashPasswordCommand() {
  std::string password = ReadSecretFromTerminal("password: ");
  if (password.empty()) {
    std::cerr << "southgated: empty password refused\n";
    return 2;
  }
  auto hash = security::HashPassword(password);
  if (!hash.ok()) {
    std::cerr << "southgated: " << hash.status().message() << "\n";
    return 1;
  }
  std::cout << *hash << "\n";
  return 0;
}

// `southgated user add|del|list --file F`: manages a users file. The
// password is read without echo (or from stdin when it is not a
// terminal) and never printed; only its argon2id hash is stored.
struct UserCommand {
  std::string file;
  std::string name;
  std::string role = "read-only";
  bool replace = false;
  bool certificate_only = false;
};

int UserAdd(const UserCommand& command) {
  auto role = security::ParseRole(command.role);
  if (!role) {
    std::cerr << "southgated: --role must be read-only, read-write or admin\n";
    return 2;
  }
  if (command.name.empty() ||
      command.name.find_first_of(" \t/") != std::string::npos) {
    std::cerr << "southgated: user names must be non-empty, without spaces "
                 "or '/'\n";
    return 2;
  }
  auto users = security::ReadUsersFile(command.file);
  if (!users.ok()) {
    std::cerr << "southgated: " << users.status().message() << "\n";
    return 1;
  }
  auto existing = std::find_if(
      users->begin(), users->end(),
      [&](const security::UserEntry& u) { return u.name == command.name; });
  if (existing != users->end() && !command.replace) {
    std::cerr << "southgated: user '" << command.name << "' already exists in "
              << command.file << " (--replace to change it)\n";
    return 1;
  }
  security::UserEntry user{command.name, *role, ""};
  if (!command.certificate_only) {
    std::string password = ReadSecretFromTerminal("password: ");
    if (isatty(STDIN_FILENO)) {
      std::string again = ReadSecretFromTerminal("again: ");
      if (again != password) {
        std::cerr << "southgated: the passwords differ\n";
        return 2;
      }
    }
    if (password.empty()) {
      std::cerr << "southgated: empty password refused\n";
      return 2;
    }
    auto hash = security::HashPassword(password);
    if (!hash.ok()) {
      std::cerr << "southgated: " << hash.status().message() << "\n";
      return 1;
    }
    user.password_hash = *std::move(hash);
  }
  const bool replaced = existing != users->end();
  if (replaced) {
    *existing = std::move(user);
  } else {
    users->push_back(std::move(user));
  }
  if (auto status = security::WriteUsersFile(command.file, *users);
      !status.ok()) {
    std::cerr << "southgated: " << status.message() << "\n";
    return 1;
  }
  std::cerr << (replaced ? "changed" : "added") << " user '" << command.name
            << "' (" << command.role << ") in " << command.file
            << "; send SIGHUP to a running daemon to apply\n";
  return 0;
}

int UserDel(const UserCommand& command) {
  auto users = security::ReadUsersFile(command.file);
  if (!users.ok()) {
    std::cerr << "southgated: " << users.status().message() << "\n";
    return 1;
  }
  auto it = std::find_if(
      users->begin(), users->end(),
      [&](const security::UserEntry& u) { return u.name == command.name; });
  if (it == users->end()) {
    std::cerr << "southgated: no user '" << command.name << "' in "
              << command.file << "\n";
    return 1;
  }
  users->erase(it);
  if (auto status = security::WriteUsersFile(command.file, *users);
      !status.ok()) {
    std::cerr << "southgated: " << status.message() << "\n";
    return 1;
  }
  std::cerr << "removed user '" << command.name << "' from " << command.file
            << "; send SIGHUP to a running daemon to apply\n";
  return 0;
}

int UserList(const UserCommand& command) {
  auto users = security::ReadUsersFile(command.file);
  if (!users.ok()) {
    std::cerr << "southgated: " << users.status().message() << "\n";
    return 1;
  }
  for (const security::UserEntry& user : *users) {
    std::cout << user.name << " " << security::RoleName(user.role)
              << (user.password_hash.empty() ? " certificate-only" : "")
              << "\n";
  }
  return 0;
}

// systemd notification (Type=notify); a no-op without NOTIFY_SOCKET.
void Notify(const std::string& state) { sd_notify(0, state.c_str()); }

// Pings the systemd watchdog (WATCHDOG=1) at half the interval systemd
// asked for in WATCHDOG_USEC; nothing when the unit has no WatchdogSec.
class Watchdog {
 public:
  Watchdog() {
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
    auto period = std::chrono::microseconds(usec / 2);
    spdlog::info("systemd watchdog every {} ms", period.count() / 1000);
    thread_ = std::thread([this, period] {
      std::unique_lock<std::mutex> lock(mutex_);
      do {
        Notify("WATCHDOG=1");
      } while (!stop_cv_.wait_for(lock, period, [this] { return stop_; }));
    });
  }
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    stop_cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread thread_;
};

// The command-line overrides, applied on start and again on every reload.
struct Overrides {
  std::string listen, plugin_dir, state_dir, log_level;
};

void ApplyOverrides(const Overrides& overrides, config::Config& config) {
  if (!overrides.listen.empty()) config.listen = overrides.listen;
  if (!overrides.plugin_dir.empty()) config.plugin_dir = overrides.plugin_dir;
  if (!overrides.state_dir.empty()) config.state_dir = overrides.state_dir;
  if (!overrides.log_level.empty()) config.log.level = overrides.log_level;
}

bool SameDevice(const DeviceSettings& a, const DeviceSettings& b) {
  return a.driver == b.driver && a.address == b.address &&
         a.username == b.username && a.password == b.password &&
         a.options_json == b.options_json;
}

// SIGHUP: re-reads the configuration and applies what can change live
// (devices, users, log level). All or nothing: a file that does not load,
// or a device whose driver rejects it, leaves the running configuration
// exactly as it was. Devices whose settings did not change are not touched,
// so their connections and streams stay up.
// The security parts a reload updates.
struct SecurityState {
  security::Authenticator* users = nullptr;
  security::LoginThrottle* throttle = nullptr;
  security::Authorizer* authorizer = nullptr;
  security::AuditLog* audit = nullptr;          // may be null
  security::TlsWatcher* tls_watcher = nullptr;  // null when plaintext
};

security::LoginThrottle::Options ThrottleOptions(
    const config::ThrottleSettings& settings) {
  security::LoginThrottle::Options options;
  options.max_failures = settings.max_failures;
  options.window = absl::FromChrono(settings.window);
  options.lockout = absl::FromChrono(settings.lockout);
  options.trusted_for = absl::FromChrono(settings.trusted_for);
  return options;
}

absl::Status Reload(const std::string& path, const Overrides& overrides,
                    devices::DeviceManager& devices, const SecurityState& live,
                    config::Config& running) {
  security::Authenticator& users = *live.users;
  absl::StatusOr<config::Config> loaded = config::LoadConfig(path);
  if (!loaded.ok()) return loaded.status();
  config::Config next = std::move(loaded).value();
  ApplyOverrides(overrides, next);
  if (next.plugin_dir.empty()) next.plugin_dir = running.plugin_dir;
  if (next.yang_dirs.empty()) next.yang_dirs = running.yang_dirs;

  std::vector<std::string> restart_needed;
  if (next.listen != running.listen) restart_needed.push_back("server.listen");
  if (next.insecure != running.insecure) {
    restart_needed.push_back("server.insecure");
  }
  if (next.tls.cert_file != running.tls.cert_file ||
      next.tls.key_file != running.tls.key_file ||
      next.tls.ca_file != running.tls.ca_file ||
      next.tls.client_cert != running.tls.client_cert ||
      next.tls.client_identity != running.tls.client_identity ||
      next.tls.reload_interval != running.tls.reload_interval) {
    restart_needed.push_back("server.tls");
  }
  if (next.audit.file != running.audit.file) {
    restart_needed.push_back("audit.file");
  }
  if (next.ops.listen != running.ops.listen) {
    restart_needed.push_back("ops.listen");
  }
  if (!(next.limits == running.limits)) restart_needed.push_back("limits");
  if (next.state_dir != running.state_dir)
    restart_needed.push_back("state_dir");
  if (next.plugin_dir != running.plugin_dir) {
    restart_needed.push_back("plugins.dir");
  }
  if (next.yang_dirs != running.yang_dirs)
    restart_needed.push_back("yang.dirs");
  if (next.log.format != running.log.format) {
    restart_needed.push_back("log.format");
  }
  if (next.telemetry != running.telemetry)
    restart_needed.push_back("telemetry");

  std::map<std::string, const DeviceSettings*> wanted;
  for (const DeviceSettings& device : next.devices) {
    wanted[device.name] = &device;
  }
  std::vector<std::string> added, changed, removed;
  // Undo log: applied steps are reverted if a later one fails.
  std::vector<std::function<void()>> undo;
  auto roll_back = [&undo] {
    for (auto it = undo.rbegin(); it != undo.rend(); ++it) (*it)();
  };
  for (const DeviceSettings& device : next.devices) {
    DeviceSettings current;
    if (!devices.SettingsOf(device.name, &current)) {
      if (absl::Status status = devices.Add(device); !status.ok()) {
        roll_back();
        return status;
      }
      added.push_back(device.name);
      undo.push_back(
          [&devices, name = device.name] { (void)devices.Remove(name); });
    } else if (!SameDevice(current, device)) {
      if (absl::Status status = devices.Replace(device); !status.ok()) {
        roll_back();
        return status;
      }
      changed.push_back(device.name);
      undo.push_back([&devices, current] { (void)devices.Replace(current); });
    }
  }
  // Removals last: they cannot fail, so nothing needs undoing after them.
  for (const std::string& name : devices.Names()) {
    if (!wanted.count(name)) {
      (void)devices.Remove(name);
      removed.push_back(name);
    }
  }
  users.ReplaceUsers(next.users);
  live.throttle->SetOptions(ThrottleOptions(next.throttle));
  live.authorizer->Replace(next.authorization.rules,
                           next.authorization.default_allow);
  spdlog::set_level(spdlog::level::from_str(next.log.level));
  spdlog::info(
      "reloaded {}: devices added [{}], changed [{}], removed [{}]; {} "
      "devices, {} users, {} authorization rules",
      path, absl::StrJoin(added, ", "), absl::StrJoin(changed, ", "),
      absl::StrJoin(removed, ", "), devices.size(), users.user_count(),
      live.authorizer->rule_count());
  if (!restart_needed.empty()) {
    spdlog::warn("reload: {} changed; that takes effect only after a restart",
                 absl::StrJoin(restart_needed, ", "));
  }
  // Keep what did not change live at its running value.
  std::string listen = running.listen, ops_listen = running.ops.listen;
  bool insecure = running.insecure;
  config::TlsFiles tls = running.tls;
  config::AuditSettings audit = running.audit;
  config::LogFormat format = running.log.format;
  std::string state_dir = running.state_dir, plugin_dir = running.plugin_dir;
  std::vector<std::string> yang_dirs = running.yang_dirs;
  config::Limits limits = running.limits;
  running = std::move(next);
  running.limits = limits;
  running.listen = listen;
  running.ops.listen = ops_listen;
  running.insecure = insecure;
  running.tls = tls;
  running.audit = audit;
  running.log.format = format;
  running.state_dir = state_dir;
  running.plugin_dir = plugin_dir;
  running.yang_dirs = yang_dirs;
  return absl::OkStatus();
}

// Scrape-time metrics read from the device manager.
void RegisterDeviceCollectors(ops::Registry& registry,
                              devices::DeviceManager& devices) {
  auto each = [&devices](auto&& emit) {
    std::vector<ops::Sample> samples;
    for (const std::string& name : devices.Names()) {
      if (auto device = devices.Find(name)) emit(*device, samples);
    }
    return samples;
  };
  registry.SetCollector(
      "southgate_device_up",
      "1 when the device is connected, 0 otherwise, by device and driver",
      ops::MetricType::kGauge, [each] {
        return each([](devices::Device& device, auto& samples) {
          samples.push_back(
              {{{"device", device.name()}, {"driver", device.driver_name()}},
               device.status().state == ConnectionState::kConnected ? 1.0
                                                                    : 0.0});
        });
      });
  registry.SetCollector(
      "southgate_device_state",
      "The device's connection state: 1 for the current state, by device "
      "and state (disconnected, connecting, connected, error)",
      ops::MetricType::kGauge, [each] {
        return each([](devices::Device& device, auto& samples) {
          ConnectionState now = device.status().state;
          for (ConnectionState state :
               {ConnectionState::kDisconnected, ConnectionState::kConnecting,
                ConnectionState::kConnected, ConnectionState::kError}) {
            samples.push_back({{{"device", device.name()},
                                {"state", ConnectionStateName(state)}},
                               now == state ? 1.0 : 0.0});
          }
        });
      });
  registry.SetCollector(
      "southgate_device_reconnects_total",
      "Times the driver re-established a lost connection, by device",
      ops::MetricType::kCounter, [each] {
        return each([](devices::Device& device, auto& samples) {
          samples.push_back({{{"device", device.name()}},
                             static_cast<double>(device.status().reconnects)});
        });
      });
}

// Streaming metrics, read from the telemetry hub when scraped.
void RegisterTelemetryCollectors(ops::Registry& registry, telemetry::Hub& hub) {
  auto one = [&hub](uint64_t telemetry::TelemetryStats::*field) {
    return [&hub, field] {
      return std::vector<ops::Sample>{
          {{}, static_cast<double>(hub.Stats().*field)}};
    };
  };
  registry.SetCollector("southgate_gnmi_subscriptions_active",
                        "Client gNMI Subscribe RPCs currently open",
                        ops::MetricType::kGauge,
                        one(&telemetry::TelemetryStats::client_streams));
  registry.SetCollector(
      "southgate_device_streams_active",
      "Upstream telemetry subscriptions open on devices (shared by clients)",
      ops::MetricType::kGauge,
      one(&telemetry::TelemetryStats::upstream_subscriptions));
  registry.SetCollector("southgate_telemetry_cache_entries",
                        "Leaves held in the telemetry caches",
                        ops::MetricType::kGauge,
                        one(&telemetry::TelemetryStats::cached_leaves));
  registry.SetCollector(
      "southgate_gnmi_slow_clients_disconnected_total",
      "Subscribe streams ended with RESOURCE_EXHAUSTED because the client "
      "did not read fast enough",
      ops::MetricType::kCounter,
      one(&telemetry::TelemetryStats::slow_clients_cut));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"southgated: one gNMI endpoint in front of the network"};
  std::string config_path = "/etc/southgate/southgate.yaml";
  std::string listen, log_level, log_format, plugin_dir, state_dir;
  bool check_config = false;
  app.add_option("-c,--config", config_path, "configuration file (YAML)")
      ->capture_default_str();
  app.add_option("--listen", listen, "override server.listen (host:port)");
  app.add_option("--log-level", log_level, "override log.level");
  app.add_option("--log-format", log_format, "override log.format (text|json)");
  app.add_option("--plugin-dir", plugin_dir, "override plugins.dir");
  app.add_option("--state-dir", state_dir, "override state_dir");
  app.add_flag("--check-config", check_config,
               "validate the configuration and exit");
  CLI::App* hash_password = app.add_subcommand(
      "hash-password",
      "read a password from the terminal (not echoed) and print its argon2id "
      "hash for the users list");
  UserCommand user_command;
  CLI::App* user = app.add_subcommand("user", "manage a users file");
  user->require_subcommand(1);
  CLI::App* user_add = user->add_subcommand(
      "add",
      "add a user; the password is read without echo (or from stdin when "
      "it is not a terminal)");
  user_add->add_option("name", user_command.name, "user name")->required();
  user_add
      ->add_option("--role", user_command.role,
                   "read-only, read-write or admin")
      ->capture_default_str();
  user_add->add_flag("--replace", user_command.replace,
                     "change the user if it exists");
  user_add->add_flag("--certificate-only", user_command.certificate_only,
                     "no password: the user signs in with a client "
                     "certificate only");
  CLI::App* user_del = user->add_subcommand("del", "remove a user");
  user_del->add_option("name", user_command.name, "user name")->required();
  CLI::App* user_list =
      user->add_subcommand("list", "list users and roles (never hashes)");
  for (CLI::App* sub : {user_add, user_del, user_list}) {
    sub->add_option("-f,--file", user_command.file, "the users file (YAML)")
        ->required();
  }
  CLI11_PARSE(app, argc, argv);
  if (hash_password->parsed()) return HashPasswordCommand();
  if (user_add->parsed()) return UserAdd(user_command);
  if (user_del->parsed()) return UserDel(user_command);
  if (user_list->parsed()) return UserList(user_command);

  absl::StatusOr<config::Config> loaded = config::LoadConfig(config_path);
  if (!loaded.ok()) {
    std::cerr << "southgated: refusing to start: " << loaded.status().message()
              << "\n";
    return 2;
  }
  config::Config config = std::move(loaded).value();
  if (!listen.empty()) config.listen = listen;
  if (!log_level.empty()) {
    if (!config::IsValidLogLevel(log_level)) {
      std::cerr << "southgated: --log-level " << log_level << " is not one of "
                << "trace debug info warn error critical off\n";
      return 2;
    }
    config.log.level = log_level;
  }
  if (!log_format.empty()) {
    if (log_format != "text" && log_format != "json") {
      std::cerr << "southgated: --log-format must be text or json\n";
      return 2;
    }
    config.log.format = log_format == "json" ? config::LogFormat::kJson
                                             : config::LogFormat::kText;
  }
  if (!plugin_dir.empty()) config.plugin_dir = plugin_dir;
  if (!state_dir.empty()) config.state_dir = state_dir;
  if (config.plugin_dir.empty()) config.plugin_dir = DefaultPluginDir();
  if (config.yang_dirs.empty()) config.yang_dirs = DefaultYangDirs();
  if (check_config) {
    std::cout << config_path << ": OK (" << config.devices.size()
              << " devices, " << config.users.size() << " users)\n";
    return 0;
  }

  // Signals are taken synchronously by this thread only (sigwait below), so
  // block them before any other thread exists.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  // As PID 1 in a container the kernel drops signals whose disposition is
  // SIG_DFL, even blocked ones, so sigwait would never see SIGTERM from the
  // runtime. A (never called) handler makes them deliverable.
  struct sigaction deliverable {};
  deliverable.sa_handler = [](int) {};
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) {
    sigaction(signal, &deliverable, nullptr);
  }

  SetUpLogging(config.log.level, config.log.format);
  spdlog::info("southgated {} starting with {}", SOUTHGATE_VERSION,
               config.source_file);

  // The loader outlives the registry: registered factories point into the
  // plugins' code, which is unmapped when the loader closes them.
  drivers::PluginLoader plugins;
  drivers::DriverRegistry registry;
  if (auto status = registry.RegisterBuiltins(); !status.ok()) {
    spdlog::critical("{}", std::string(status.message()));
    return 1;
  }
  if (auto status = plugins.LoadDirectory(config.plugin_dir, registry);
      !status.ok()) {
    spdlog::error("plugins: {}", std::string(status.message()));
  }
  spdlog::info("drivers: {} (plugins from {})",
               absl::StrJoin(registry.Names(), ", "), config.plugin_dir);

  schema::ContextCache schemas(config.yang_dirs);
  spdlog::info("YANG search directories: {}",
               absl::StrJoin(config.yang_dirs, ", "));

  DriverContext driver_context;
  driver_context.schemas = &schemas;
  driver_context.state_dir = config.state_dir;
  auto device_manager =
      std::make_unique<devices::DeviceManager>(registry, driver_context);
  for (const DeviceSettings& device : config.devices) {
    if (auto status = device_manager->Add(device); !status.ok()) {
      spdlog::critical("refusing to start: {}", std::string(status.message()));
      return 2;
    }
  }

  // The daemon's own state, read with gNMI Get on target "southgate".
  auto self_driver = std::make_unique<devices::SelfDriver>(
      &schemas, SOUTHGATE_VERSION, [devices = device_manager.get()] {
        std::vector<devices::DeviceRow> rows;
        for (const std::string& name : devices->Names()) {
          if (auto device = devices->Find(name)) {
            rows.push_back({device->name(), device->driver_name(),
                            device->address(), device->status(),
                            device->Translator().ok()
                                ? device->driver().Models()
                                : std::vector<ModelInfo>{}});
          }
        }
        return rows;
      });
  // Subscribe's shared driver subscriptions and leaf caches; ended before
  // the devices are.
  auto timers = std::make_unique<telemetry::TimerService>();
  telemetry::HubOptions hub_options;
  hub_options.poll_interval = config.telemetry.poll_interval;
  auto hub = std::make_unique<telemetry::Hub>(hub_options);
  self_driver->SetTelemetrySource([hub = hub.get()] {
    telemetry::TelemetryStats stats = hub->Stats();
    return devices::TelemetryCounters{stats.upstream_subscriptions,
                                      stats.client_streams, stats.cached_leaves,
                                      stats.slow_clients_cut};
  });
  if (auto status = device_manager->AddInternal(devices::kSelfTargetName,
                                                std::move(self_driver));
      !status.ok()) {
    spdlog::critical("refusing to start: {}", std::string(status.message()));
    return 2;
  }

  security::Authenticator users(config.users);
  security::LoginThrottle throttle(ThrottleOptions(config.throttle));
  security::Authorizer authorizer(config.authorization.rules,
                                  config.authorization.default_allow);
  std::unique_ptr<security::AuditLog> audit;
  if (!config.audit.file.empty()) {
    auto opened = security::AuditLog::Open(config.audit.file);
    if (!opened.ok()) {
      spdlog::critical("refusing to start: {}",
                       std::string(opened.status().message()));
      return 2;
    }
    audit = *std::move(opened);
    spdlog::info("audit log: {}", config.audit.file);
  }
  ops::Metrics& metrics = ops::Metrics::Default();
  northbound::ServerOptions server_options;
  server_options.listen = config.listen;
  server_options.insecure = config.insecure;
  server_options.limits = config.limits;
  auto listen_address = config::ParseListenAddress(config.listen);
  if (!listen_address.ok()) {
    spdlog::critical("refusing to start: {}",
                     std::string(listen_address.status().message()));
    return 2;
  }
  std::unique_ptr<security::TlsWatcher> tls_watcher;
  if (!config.insecure) {
    auto tls = security::LoadOrCreateServerCertificate(
        config.tls.cert_file, config.tls.key_file, config.state_dir,
        {listen_address->host}, config.tls.ca_file);
    if (!tls.ok()) {
      spdlog::critical("refusing to start: TLS: {}",
                       std::string(tls.status().message()));
      return 2;
    }
    spdlog::info("TLS certificate {}{} SHA-256 {}", tls->cert_file,
                 tls->self_signed_generated ? " (self-signed, generated)" : "",
                 tls->sha256_fingerprint);
    auto& tls_reloads = metrics.registry.AddCounter(
        "southgate_tls_reloads_total",
        "Changed TLS certificate/key/CA files: published (new connections "
        "use them) or rejected (the previous ones stay), by result",
        {"result"});
    auto watcher = security::TlsWatcher::Start(
        {tls->cert_file, tls->key_file, tls->ca_file},
        (fs::path(config.state_dir) / "tls-active").string(),
        absl::FromChrono(config.tls.reload_interval),
        [&tls_reloads](bool published) {
          tls_reloads.With({published ? "published" : "rejected"}).Inc();
        });
    if (!watcher.ok()) {
      spdlog::critical("refusing to start: TLS: {}",
                       std::string(watcher.status().message()));
      return 2;
    }
    tls_watcher = *std::move(watcher);
    server_options.cert_file = tls_watcher->active_cert_file();
    server_options.key_file = tls_watcher->active_key_file();
    server_options.ca_file = tls_watcher->active_ca_file();
    switch (config.tls.client_cert) {
      case config::ClientCertPolicy::kNone:
        server_options.client_cert = GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
        break;
      case config::ClientCertPolicy::kRequest:
        server_options.client_cert =
            GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
        break;
      case config::ClientCertPolicy::kRequire:
        server_options.client_cert =
            GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
        break;
    }
    spdlog::info("TLS client certificates: {} (identity from: {})",
                 config::ClientCertPolicyName(config.tls.client_cert),
                 config::CertIdentityName(config.tls.client_identity));
  }
  metrics.registry.SetCollector(
      "southgate_auth_lockouts_active",
      "Peers and users currently locked out after too many failed logins",
      ops::MetricType::kGauge, [&throttle] {
        return std::vector<ops::Sample>{
            {{}, static_cast<double>(throttle.ActiveLockouts())}};
      });
  northbound::AccessControl access(users, throttle, authorizer,
                                   config.insecure
                                       ? security::CertIdentity::kNone
                                       : config.tls.client_identity,
                                   audit.get());
  SecurityState security_state{&users, &throttle, &authorizer, audit.get(),
                               tls_watcher.get()};

  WorkQueue work(std::max(4u, 2 * std::thread::hardware_concurrency()), 4096);
  northbound::GnmiHandler handler(*device_manager);
  northbound::GnmiService gnmi_service(handler, access, work);
  // Rate limits, concurrency caps and load shedding (limits: section).
  northbound::Admission admission(config.limits);
  gnmi_service.EnableAdmission(&admission);
  northbound::SubscribeContext subscribe;
  subscribe.handler = &handler;
  subscribe.devices = device_manager.get();
  subscribe.access = &access;
  subscribe.work = &work;
  subscribe.hub = hub.get();
  subscribe.timers = timers.get();
  subscribe.limits.max_pending =
      static_cast<size_t>(config.telemetry.max_pending_updates);
  subscribe.limits.stall = config.telemetry.slow_client_timeout;
  subscribe.limits.cancel_grace = config.telemetry.slow_client_cancel_grace;
  subscribe.limits.min_interval = config.telemetry.min_sample_interval;
  subscribe.limits.max_updates_per_notification =
      static_cast<size_t>(config.telemetry.max_updates_per_notification);
  subscribe.limits.pipeline_notifications =
      static_cast<size_t>(config.telemetry.pipeline_notifications);
  gnmi_service.EnableSubscribe(subscribe);
  auto server = northbound::Server::Start(server_options, {&gnmi_service});
  if (!server.ok()) {
    spdlog::critical("refusing to start: {}",
                     std::string(server.status().message()));
    return 1;
  }
  device_manager->Start();
  spdlog::info("gNMI {} listening on {} ({}), {} devices ({}), {} users",
               northbound::kGnmiVersion, config.listen,
               config.insecure ? "PLAINTEXT" : "TLS", device_manager->size(),
               absl::StrJoin(device_manager->Names(), ", "),
               users.user_count());

  // Operations endpoint: metrics and the probes. Ready once the config is
  // loaded (it is, here), gNMI listens, and every device has had its first
  // connection attempt; not ready again while draining on shutdown.
  metrics.build_info.With({SOUTHGATE_VERSION}).Set(1);
  RegisterDeviceCollectors(metrics.registry, *device_manager);
  RegisterTelemetryCollectors(metrics.registry, *hub);
  std::atomic<bool> draining{false};
  // Latched: once ready, a reload adding a slow device must not take every
  // replica out of its Service at the same time.
  auto became_ready = std::make_shared<std::atomic<bool>>(false);
  auto readiness = [&draining, became_ready, devices = device_manager.get()] {
    if (draining) return ops::Readiness{false, "shutting down"};
    if (!*became_ready) {
      if (!devices->FirstAttemptsDone()) {
        return ops::Readiness{false,
                              "devices: first connection attempts running"};
      }
      *became_ready = true;
    }
    return ops::Readiness{true, ""};
  };
  metrics.registry.SetCollector(
      "southgate_ready", "1 when /readyz answers 200", ops::MetricType::kGauge,
      [readiness] {
        return std::vector<ops::Sample>{{{}, readiness().ready ? 1.0 : 0.0}};
      });
  std::unique_ptr<ops::OpsServer> ops_server;
  if (!config.ops.listen.empty()) {
    auto ops_address = config::ParseListenAddress(config.ops.listen);
    if (!ops_address.ok()) {
      spdlog::critical("refusing to start: ops.listen: {}",
                       std::string(ops_address.status().message()));
      return 2;
    }
    auto started = ops::OpsServer::Start(ops_address->host, ops_address->port,
                                         metrics.registry, readiness);
    if (!started.ok()) {
      spdlog::critical("refusing to start: {}",
                       std::string(started.status().message()));
      return 1;
    }
    ops_server = std::move(started).value();
    spdlog::info("ops endpoint (/metrics /healthz /readyz) on {}:{}",
                 ops_address->host, ops_server->port());
  }
  Overrides overrides{listen, plugin_dir, state_dir, log_level};
  Notify("READY=1\nSTATUS=serving gNMI on " + config.listen);
  Watchdog watchdog;

  for (;;) {
    int signal = 0;
    sigwait(&signals, &signal);
    if (signal == SIGHUP) {
      Notify("RELOADING=1\nSTATUS=reloading " + config_path);
      spdlog::info("SIGHUP: reloading {}", config_path);
      if (tls_watcher) {
        // Logged (and counted) by the watcher; the old files stay.
        (void)tls_watcher->CheckNow();
      }
      if (audit) {
        if (auto status = audit->Reopen(); !status.ok()) {
          spdlog::error("{}", std::string(status.message()));
        }
      }
      absl::Status reloaded = Reload(config_path, overrides, *device_manager,
                                     security_state, config);
      if (reloaded.ok()) {
        metrics.config_reloads.With({"success"}).Inc();
      } else {
        metrics.config_reloads.With({"failure"}).Inc();
        spdlog::error("reload rejected, keeping the running configuration: {}",
                      std::string(reloaded.message()));
      }
      Notify("READY=1\nSTATUS=serving gNMI on " + config.listen);
      continue;
    }
    spdlog::info("{}: shutting down (grace {} ms)", strsignal(signal),
                 config.shutdown_grace.count());
    break;
  }
  Notify("STOPPING=1");
  // Drain: report not ready (HTTP and gRPC health) while still serving, so
  // load balancers and Kubernetes stop sending new work before the port
  // closes. Only worth waiting for when a probe endpoint exists.
  draining = true;
  if (auto* health = (*server)->health()) health->SetServingStatus(false);
  if (ops_server) {
    auto drain = std::min<std::chrono::milliseconds>(
        config.shutdown_grace, std::chrono::milliseconds(1000));
    spdlog::info("draining for {} ms", drain.count());
    std::this_thread::sleep_for(drain);
  }
  (*server)->Shutdown(config.shutdown_grace);
  spdlog::debug("gRPC server stopped");
  if (ops_server) ops_server->Stop();
  // Collectors read the hub and the devices: gone before they are.
  for (const char* name :
       {"southgate_device_up", "southgate_device_state",
        "southgate_device_reconnects_total", "southgate_ready",
        "southgate_gnmi_subscriptions_active",
        "southgate_device_streams_active", "southgate_telemetry_cache_entries",
        "southgate_gnmi_slow_clients_disconnected_total",
        "southgate_auth_lockouts_active"}) {
    metrics.registry.RemoveCollector(name);
  }
  work.Stop();
  timers->Stop();
  hub.reset();
  device_manager.reset();
  spdlog::debug("devices closed");
  spdlog::info("stopped");
  return 0;
}
