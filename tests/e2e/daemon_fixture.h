// Runs the real southgated binary in a scratch folder on a free loopback
// port, and makes TLS gRPC channels to it, for end-to-end tests.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>

#include "github.com/openconfig/gnmi/proto/gnmi/gnmi.pb.h"
#include "grpcpp/grpcpp.h"

namespace southgate::testing {

// Lab users written into every test config: admin/admin (read-write) and
// viewer/viewer (read-only).
std::string TestUsersYaml();

// One simulated device seeded with examples/sim/ietf-default.json, as YAML
// for a "devices:" list; `options` adds option lines (e.g.
// "update_interval_ms: 0").
std::string SimDeviceYaml(const std::string& name,
                          const std::vector<std::string>& options = {});

// A test configuration: gNMI over TLS on {PORT}, debug logs, the project's
// and Debian's YANG modules, the lab users, and `devices_yaml`.
// `server_extra` adds lines under "server:", `top_extra` top-level sections.
std::string TestConfig(const std::string& devices_yaml,
                       const std::string& server_extra = "",
                       const std::string& top_extra = "");

// A gNMI path from elems with keys.
gnmi::Path MakePath(
    std::initializer_list<
        std::pair<std::string, std::map<std::string, std::string>>>
        elems,
    const std::string& target = "");

// A free TCP port on 127.0.0.1 (bound and released).
int FreeLoopbackPort();

class DaemonProcess {
 public:
  // Creates a scratch folder, writes `config_yaml` into it as
  // southgate.yaml (the text may use {PORT}, {DIR}, {SOURCE} and {USERS}
  // placeholders) and starts southgated with it.
  // {OPS_PORT} is a second free port, for ops.listen. A non-empty `binary`
  // runs that southgated (e.g. an installed one) without --plugin-dir, so
  // the configuration alone decides where plugins come from. `extra_env`
  // ("NAME=value") is added to the daemon's environment.
  explicit DaemonProcess(const std::string& config_yaml,
                         const std::vector<std::string>& extra_args = {},
                         const std::string& binary = "",
                         const std::vector<std::string>& extra_env = {});
  ~DaemonProcess();

  // Waits until the gNMI port answers over TLS (or plaintext when
  // `insecure`) and every device is connected. False on timeout or exit.
  bool WaitReady(std::chrono::seconds timeout, bool insecure = false);
  // Sends `signal` and waits for the exit status (-1 if killed by signal).
  int Stop(int signal = 15);
  // Waits for the process to exit by itself; its exit status or -2.
  int WaitExit(std::chrono::seconds timeout);
  bool running();

  std::shared_ptr<grpc::Channel> TlsChannel() const;
  std::shared_ptr<grpc::Channel> PlaintextChannel() const;
  std::string Log() const;
  const std::string& dir() const { return dir_; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  int ops_port() const { return ops_port_; }
  // Sends `signal` (e.g. SIGHUP) without waiting.
  void Signal(int signal);
  // Rewrites southgate.yaml (same placeholders as the constructor).
  void RewriteConfig(const std::string& config_yaml);
  std::string address() const;

 private:
  std::string dir_;
  int port_ = 0;
  int ops_port_ = 0;
  pid_t pid_ = -1;
  int exit_status_ = -3;
};

// A ClientContext carrying gNMI username/password metadata.
std::unique_ptr<grpc::ClientContext> ContextFor(const std::string& user,
                                                const std::string& password);

}  // namespace southgate::testing
