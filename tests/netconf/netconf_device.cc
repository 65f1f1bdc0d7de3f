#include "netconf_device.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace southgate::testing {
namespace {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::string Run(const std::string& command, int* status) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) {
    *status = -1;
    return "";
  }
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0)
    output.append(buffer, n);
  *status = pclose(pipe);
  return output;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

pid_t ReadPid(const std::string& path) {
  return static_cast<pid_t>(std::atol(ReadFile(path).c_str()));
}

// Reparented background processes stay zombies where nothing reaps them.
bool IsZombie(pid_t pid) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() &&
         stat[paren + 2] == 'Z';
}

void KillAndWait(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGKILL);
  // Not our child (started by the script in the background): poll.
  for (int i = 0; i < 200 && kill(pid, 0) == 0 && !IsZombie(pid); ++i) {
    waitpid(pid, nullptr, WNOHANG);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

NetconfDevice::NetconfDevice() {
  char pattern[] = "/tmp/southgate-nc-XXXXXX";
  dir_ = mkdtemp(pattern);
  port_ = FreePort();
}

NetconfDevice::~NetconfDevice() {
  StopSshd();
  KillNetconfd();
  // SOUTHGATE_KEEP_NETCONF_DIR=1 keeps the logs of a failed run.
  if (std::getenv("SOUTHGATE_KEEP_NETCONF_DIR")) return;
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

bool NetconfDevice::Start(const std::string& what) {
  int status = 0;
  std::string command = "NETCONFD_EXTRA_ARGS='" + netconfd_args_ + "' " +
                        std::string(SOUTHGATE_SOURCE_DIR) +
                        "/tests/netconf/start_device.sh " + dir_ + " " +
                        std::to_string(port_) + " " + kUser + " " + kPassword +
                        " " + what;
  error_ = Run(command, &status);
  return status == 0;
}

void NetconfDevice::KillNetconfd() {
  KillAndWait(ReadPid(dir_ + "/netconfd.pid"));
  std::filesystem::remove(dir_ + "/netconfd.pid");
}

void NetconfDevice::StopSshd() {
  // Also ends the per-connection sshd children (same process group? no:
  // they are re-execed children); kill the listener, then its children.
  pid_t pid = ReadPid(dir_ + "/sshd.pid");
  if (pid > 0) {
    int status = 0;
    Run("pkill -KILL -P " + std::to_string(pid), &status);
    KillAndWait(pid);
  }
  std::filesystem::remove(dir_ + "/sshd.pid");
}

std::string NetconfDevice::Diagnostics() const {
  std::string out;
  for (const char* name : {"netconfd", "sshd"}) {
    pid_t pid = ReadPid(dir_ + "/" + name + ".pid");
    bool alive = pid > 0 && kill(pid, 0) == 0 && !IsZombie(pid);
    out += std::string(name) + " (pid " + std::to_string(pid) + "): " +
           (alive ? "running" : "NOT running") + "\n";
  }
  int status = 0;
  out += Run("tail -n 30 " + dir_ + "/netconfd.log " + dir_ +
                 "/netconfd.out " + dir_ + "/sshd.log 2>&1",
             &status);
  return out;
}

std::string NetconfDevice::address() const {
  return "127.0.0.1:" + std::to_string(port_);
}

std::string NetconfDevice::HostKeyFingerprint() const {
  int status = 0;
  std::string out =
      Run("ssh-keygen -l -E sha256 -f " + dir_ + "/host_key.pub", &status);
  size_t start = out.find("SHA256:");
  if (start == std::string::npos) return "";
  size_t end = out.find(' ', start);
  return out.substr(start, end - start);
}

std::string NetconfDevice::KnownHostsFile() const {
  std::string path = dir_ + "/known_hosts";
  std::string key = ReadFile(dir_ + "/host_key.pub");
  // "type base64 comment" -> "[127.0.0.1]:port type base64"
  std::istringstream words(key);
  std::string type, blob;
  words >> type >> blob;
  std::ofstream(path) << "[127.0.0.1]:" << port_ << " " << type << " " << blob
                      << "\n";
  return path;
}

std::string NetconfDevice::ClientKey() const {
  std::string key = dir_ + "/client_key";
  int status = 0;
  if (!std::filesystem::exists(key)) {
    Run("ssh-keygen -q -t ed25519 -N '' -f " + key, &status);
  }
  std::ofstream(dir_ + "/authorized_keys", std::ios::app)
      << ReadFile(key + ".pub");
  return key;
}

}  // namespace southgate::testing
