// A real NETCONF device for tests: Debian's netconfd behind its own sshd on
// a free loopback port, in a fresh scratch folder per fixture (netconfd 2.13
// can crash after rejected edits, so no test shares one). Started and
// stopped by start_device.sh / signals.
#pragma once

#include <string>

namespace southgate::testing {

class NetconfDevice {
 public:
  static constexpr char kUser[] = "sgnctest";
  static constexpr char kPassword[] = "sg-nc-Test-1";

  NetconfDevice();
  ~NetconfDevice();

  // Starts netconfd and sshd ("all"), or one of them. False on failure (the
  // reason is in error()).
  bool Start(const std::string& what = "all");
  void KillNetconfd();
  // Extra netconfd arguments for the next Start (e.g. "--target=running").
  void set_netconfd_args(const std::string& args) { netconfd_args_ = args; }
  void StopSshd();

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  std::string address() const;
  // "SHA256:..." of the sshd host key.
  std::string HostKeyFingerprint() const;
  // A known_hosts file (in the scratch folder) with the host key.
  std::string KnownHostsFile() const;
  // A client key pair whose public half sshd accepts; the private key path.
  std::string ClientKey() const;
  const std::string& error() const { return error_; }
  // For a failed test's message: whether netconfd and sshd still run, and
  // the tails of their logs.
  std::string Diagnostics() const;

 private:
  std::string dir_;
  int port_ = 0;
  std::string netconfd_args_;
  std::string error_;
};

}  // namespace southgate::testing
