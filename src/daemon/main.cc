// southgated: flags, configuration, start-up, signals. Everything else lives
// in the libraries under src/.
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/str_join.h"
#include "config/config.h"
#include "fmt/chrono.h"
#include "devices/device_manager.h"
#include "devices/self_driver.h"
#include "drivers/driver_registry.h"
#include "drivers/plugin_loader.h"
#include "nlohmann/json.hpp"
#include "northbound/gnmi_handler.h"
#include "northbound/gnmi_service.h"
#include "northbound/server.h"
#include "schema/yang_context.h"
#include "security/authenticator.h"
#include "security/passwords.h"
#include "security/tls.h"
#include "spdlog/pattern_formatter.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace fs = std::filesystem;
using namespace southgate;

namespace {

// One JSON object per line, for log collectors.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg,
              spdlog::memory_buf_t& dest) override {
    nlohmann::json line;
    line["time"] = fmt::format(
        "{:%Y-%m-%dT%H:%M:%S}.{:06d}Z",
        fmt::gmtime(std::chrono::system_clock::to_time_t(msg.time)),
        std::chrono::duration_cast<std::chrono::microseconds>(
            msg.time.time_since_epoch())
                .count() %
            1000000);
    line["level"] = spdlog::level::to_string_view(msg.level);
    line["msg"] = std::string(msg.payload.data(), msg.payload.size());
    std::string text = line.dump(-1, ' ', false,
                                 nlohmann::json::error_handler_t::replace);
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
  for (fs::path candidate : {dir / ".." / "plugins",
                             dir / ".." / "lib" / "southgate" / "plugins",
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
    std::cerr << prompt << std::flush;
    tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~ECHO;
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
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
  CLI11_PARSE(app, argc, argv);
  if (hash_password->parsed()) return HashPasswordCommand();

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
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

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
                            device->address(), device->status()});
          }
        }
        return rows;
      });
  if (auto status = device_manager->AddInternal(devices::kSelfTargetName,
                                                std::move(self_driver));
      !status.ok()) {
    spdlog::critical("refusing to start: {}", std::string(status.message()));
    return 2;
  }

  security::Authenticator users(config.users);
  northbound::ServerOptions server_options;
  server_options.listen = config.listen;
  server_options.insecure = config.insecure;
  auto listen_address = config::ParseListenAddress(config.listen);
  if (!listen_address.ok()) {
    spdlog::critical("refusing to start: {}",
                     std::string(listen_address.status().message()));
    return 2;
  }
  if (!config.insecure) {
    auto tls = security::LoadOrCreateServerCertificate(
        config.tls.cert_file, config.tls.key_file, config.state_dir,
        {listen_address->host}, config.tls.ca_file);
    if (!tls.ok()) {
      spdlog::critical("refusing to start: TLS: {}", std::string(tls.status().message()));
      return 2;
    }
    spdlog::info("TLS certificate {}{} SHA-256 {}", tls->cert_file,
                 tls->self_signed_generated ? " (self-signed, generated)" : "",
                 tls->sha256_fingerprint);
    server_options.cert_pem = tls->cert_pem;
    server_options.key_pem = tls->key_pem;
    server_options.client_ca_pem = tls->ca_pem;
  }

  WorkQueue work(std::max(4u, 2 * std::thread::hardware_concurrency()), 4096);
  northbound::GnmiHandler handler(*device_manager);
  northbound::GnmiService gnmi_service(handler, users, work);
  auto server = northbound::Server::Start(server_options, {&gnmi_service});
  if (!server.ok()) {
    spdlog::critical("refusing to start: {}", std::string(server.status().message()));
    return 1;
  }
  device_manager->Start();
  spdlog::info(
      "gNMI {} listening on {} ({}), {} devices ({}), {} users", 
      northbound::kGnmiVersion, config.listen,
      config.insecure ? "PLAINTEXT" : "TLS", device_manager->size(),
      absl::StrJoin(device_manager->Names(), ", "), users.user_count());

  for (;;) {
    int signal = 0;
    sigwait(&signals, &signal);
    if (signal == SIGHUP) {
      spdlog::warn("SIGHUP: configuration reload is not supported yet");
      continue;
    }
    spdlog::info("{}: shutting down (grace {} ms)", strsignal(signal),
                 config.shutdown_grace.count());
    break;
  }
  (*server)->Shutdown(config.shutdown_grace);
  spdlog::debug("gRPC server stopped");
  work.Stop();
  device_manager.reset();
  spdlog::debug("devices closed");
  spdlog::info("stopped");
  return 0;
}
