#include "daemon_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_replace.h"
#include "github.com/openconfig/gnmi/proto/gnmi/gnmi.grpc.pb.h"

namespace fs = std::filesystem;

namespace southgate::testing {

std::string TestUsersYaml() {
  return R"(users:
  list:
    - name: admin
      role: read-write
      password_hash: "$argon2id$v=19$m=32768,t=2,p=1$OTgxNTAwMzY2ZTAwYjExNQ$hUyz/SFIG3zgK5iXZx1OylI+G00JLi/2Z+PRZZU6dtI"
    - name: viewer
      role: read-only
      password_hash: "$argon2id$v=19$m=32768,t=2,p=1$ODA1MzVkNjY4ZjA1ODYzOQ$JImjJ/x6cxsl6HAGm55m/rHlzvmflKCk7ntXdO5FAJs"
)";
}

std::string SimDeviceYaml(const std::string& name,
                          const std::vector<std::string>& options) {
  std::string yaml = "  - name: " + name +
                     "\n    driver: sim\n    options:\n"
                     "      seed: {SOURCE}/examples/sim/ietf-default.json\n";
  for (const std::string& option : options) yaml += "      " + option + "\n";
  return yaml;
}

std::string TestConfig(const std::string& devices_yaml,
                       const std::string& server_extra,
                       const std::string& top_extra) {
  return "server:\n  listen: 127.0.0.1:{PORT}\n" + server_extra +
         "state_dir: {DIR}/state\n"
         "log:\n  level: debug\n"
         "yang:\n  dirs: [ {SOURCE}/yang, /usr/share/yuma/modules/ietf ]\n"
         "{USERS}" +
         top_extra + "devices:\n" + devices_yaml;
}

gnmi::Path MakePath(
    std::initializer_list<
        std::pair<std::string, std::map<std::string, std::string>>>
        elems,
    const std::string& target) {
  gnmi::Path path;
  path.set_target(target);
  for (const auto& [name, keys] : elems) {
    gnmi::PathElem* elem = path.add_elem();
    elem->set_name(name);
    for (const auto& [key, value] : keys) (*elem->mutable_key())[key] = value;
  }
  return path;
}

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

DaemonProcess::DaemonProcess(const std::string& config_yaml,
                             const std::vector<std::string>& extra_args,
                             const std::string& binary,
                             const std::vector<std::string>& extra_env) {
  char pattern[] = "/tmp/southgate-e2e-XXXXXX";
  dir_ = mkdtemp(pattern);
  port_ = FreeLoopbackPort();
  do {
    ops_port_ = FreeLoopbackPort();
  } while (ops_port_ == port_);
  RewriteConfig(config_yaml);
  const std::string config_path = dir_ + "/southgate.yaml";

  std::vector<std::string> args = {binary.empty() ? SOUTHGATED_BINARY : binary,
                                   "--config", config_path};
  if (binary.empty()) {
    args.insert(args.end(), {"--plugin-dir", SOUTHGATE_PLUGIN_DIR});
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  pid_ = fork();
  if (pid_ == 0) {
    int log = open((dir_ + "/daemon.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                   0644);
    dup2(log, STDOUT_FILENO);
    dup2(log, STDERR_FILENO);
    for (const std::string& variable : extra_env) {
      putenv(const_cast<char*>(variable.c_str()));
    }
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
}

void DaemonProcess::RewriteConfig(const std::string& config_yaml) {
  std::string config = absl::StrReplaceAll(
      config_yaml, {{"{PORT}", std::to_string(port_)},
                    {"{OPS_PORT}", std::to_string(ops_port_)},
                    {"{DIR}", dir_},
                    {"{SOURCE}", SOUTHGATE_SOURCE_DIR},
                    {"{USERS}", TestUsersYaml()}});
  // Written aside and renamed: a reload never reads half a file.
  const std::string config_path = dir_ + "/southgate.yaml";
  std::ofstream(config_path + ".new") << config;
  std::filesystem::rename(config_path + ".new", config_path);
}

void DaemonProcess::Signal(int signal) {
  if (pid_ > 0) kill(pid_, signal);
}

DaemonProcess::~DaemonProcess() {
  if (running()) Stop(SIGKILL);
  std::error_code ignored;
  if (!getenv("SOUTHGATE_KEEP_TEST_DIRS")) fs::remove_all(dir_, ignored);
}

bool DaemonProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t done = waitpid(pid_, &status, WNOHANG);
  if (done == pid_) {
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    pid_ = -1;
    return false;
  }
  return true;
}

int DaemonProcess::Stop(int signal) {
  if (!running()) return exit_status_;
  kill(pid_, signal);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return exit_status_;
}

int DaemonProcess::WaitExit(std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() > deadline) return -2;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return exit_status_;
}

std::string DaemonProcess::address() const {
  return "127.0.0.1:" + std::to_string(port_);
}

std::shared_ptr<grpc::Channel> DaemonProcess::TlsChannel() const {
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = ReadFile(dir_ + "/state/server.crt");
  return grpc::CreateChannel(address(), grpc::SslCredentials(tls));
}

std::shared_ptr<grpc::Channel> DaemonProcess::PlaintextChannel() const {
  return grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
}

std::string DaemonProcess::Log() const {
  return ReadFile(dir_ + "/daemon.log");
}

bool DaemonProcess::WaitReady(std::chrono::seconds timeout, bool insecure) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) return false;
    if (insecure || fs::exists(dir_ + "/state/server.crt")) {
      auto channel = insecure ? PlaintextChannel() : TlsChannel();
      auto stub = gnmi::gNMI::NewStub(channel);
      auto context = ContextFor("admin", "admin");
      context->set_deadline(std::chrono::system_clock::now() +
                            std::chrono::seconds(2));
      gnmi::CapabilityRequest request;
      gnmi::CapabilityResponse response;
      // Ready once the devices answer: their models show up.
      if (stub->Capabilities(context.get(), request, &response).ok() &&
          response.supported_models_size() > 0) {
        // Every device logs "connected"; wait for all of them.
        size_t connected = 0;
        std::string log = Log();
        for (size_t at = log.find(": connected"); at != std::string::npos;
             at = log.find(": connected", at + 1)) {
          ++connected;
        }
        size_t devices = 0;
        std::string config = ReadFile(dir_ + "/southgate.yaml");
        for (size_t at = config.find("driver:"); at != std::string::npos;
             at = config.find("driver:", at + 1)) {
          ++devices;
        }
        if (connected >= devices) return true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::unique_ptr<grpc::ClientContext> ContextFor(const std::string& user,
                                                const std::string& password) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!user.empty()) context->AddMetadata("username", user);
  if (!password.empty()) context->AddMetadata("password", password);
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(30));
  return context;
}

}  // namespace southgate::testing
