// Chaining two real southgated processes for end-to-end tests of the gnmi
// driver: daemon A reaches its devices with the gnmi driver, daemon B serves
// sim devices and is the "router". Certificates are made per test run with
// the openssl command (a CA, B's server certificate for the name b.test,
// A's client certificate, and a second CA that nobody trusts).
// No wall-clock assertions: every wait is bounded by a generous deadline.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon_fixture.h"
#include "github.com/openconfig/gnmi/proto/gnmi/gnmi.grpc.pb.h"
#include "nlohmann/json.hpp"

namespace southgate::testing {

// The generous bound of every wait in the chain tests.
inline constexpr std::chrono::seconds kWait{30};

std::string ReadText(const std::string& path);
void WriteText(const std::string& path, const std::string& text);

// Test PKI made with the openssl command line tool, in a scratch folder
// removed at destruction (kept when SOUTHGATE_KEEP_TEST_DIRS is set).
// Files: ca, rogue-ca (.crt/.key), b (server, b.test), a and rogue (client
// certificates for southgate-a, signed by ca and rogue-ca), admin.pw and
// wrong.pw (password files).
class Pki {
 public:
  Pki();
  ~Pki();
  std::string File(const std::string& name) const { return dir_ + "/" + name; }
  const std::string& dir() const { return dir_; }

 private:
  void Run(const std::string& command);
  void MakeCa(const std::string& name);
  void MakeCert(const std::string& name, const std::string& ca,
                const std::string& cn, bool server);
  std::string dir_;
};

// The daemons of one chain test suite (made in SetUpTestSuite), torn down
// in reverse order: A's stub, A, B's stub, B, the PKI.
struct ChainSuite {
  std::unique_ptr<Pki> pki = std::make_unique<Pki>();
  std::unique_ptr<DaemonProcess> b;
  std::unique_ptr<gnmi::gNMI::Stub> b_stub;
  std::unique_ptr<DaemonProcess> a;
  std::unique_ptr<gnmi::gNMI::Stub> a_stub;
};

// Daemon B's server section: its certificate for b.test and, for mutual
// TLS, the CA its clients' certificates must chain to.
std::string BTls(const Pki& pki, bool require_client_cert);

// A channel to daemon B as a test client (with A's client certificate when
// B wants one).
std::shared_ptr<grpc::Channel> BChannel(const Pki& pki,
                                        const std::string& address,
                                        bool client_cert);

// Polls `condition` until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& condition,
             std::chrono::seconds timeout = kWait);

// Waits until a daemon made by `make` answers Capabilities with the sim's
// models (a fresh channel per try).
bool WaitServing(const std::function<std::shared_ptr<grpc::Channel>()>& make);

// Waits until daemon A has written its self-signed certificate and answers
// Capabilities over TLS.
bool WaitAServing(DaemonProcess& a);

// One gnmi-driver device of daemon A pointing at B.
std::string GnmiDeviceYaml(const std::string& name, const std::string& address,
                           const std::vector<std::string>& options,
                           const std::string& password_file);

// A gnmi-driver device of daemon A for B's sim device r1 as B's certificate
// names it: `options` plus "target: r1" and "tls_server_name: b.test".
std::string ChainDeviceYaml(const std::string& name,
                            const std::string& b_address,
                            std::vector<std::string> options,
                            const std::string& password_file);

// The options of a gnmi-driver device that reaches B over mutual TLS with
// A's client certificate.
std::vector<std::string> MtlsOptions(const Pki& pki);

// Daemon B's configuration for the mutual-TLS chain: sim device r1 (with
// `sim_options`), client certificates required, and a failure throttle
// high enough that a device of A retrying a wrong password for the whole
// suite does not lock admin (and 127.0.0.1) out for everyone.
std::string MtlsBConfig(const Pki& pki,
                        const std::vector<std::string>& sim_options);

// Daemon A's device state, read from its own "southgate" target.
struct DeviceState {
  std::string state;
  std::string last_error;
  uint64_t reconnects = 0;
  std::string encoding;
  std::vector<std::string> device_encodings;
  std::vector<std::string> models;
};

// Get of one path (its target is the request's) as admin.
absl::StatusOr<gnmi::GetResponse> GetResponseOf(
    gnmi::gNMI::Stub& stub, const gnmi::Path& path,
    gnmi::Encoding encoding = gnmi::JSON_IETF);

// Get of one path as JSON (the single update's value).
absl::StatusOr<nlohmann::json> GetJson(
    gnmi::gNMI::Stub& stub, const gnmi::Path& path,
    gnmi::Encoding encoding = gnmi::JSON_IETF);

DeviceState StateOf(gnmi::gNMI::Stub& a, const std::string& device);

// Waits until every device in `names` of daemon A is connected.
bool WaitConnected(gnmi::gNMI::Stub& a, const std::vector<std::string>& names);

// A daemon/telemetry counter of the "southgate" target (~0 on error).
uint64_t TelemetryCounter(gnmi::gNMI::Stub& stub, const std::string& leaf);

// interfaces/interface[name]/description and .../statistics/in-octets.
gnmi::Path Description(const std::string& target,
                       const std::string& name = "eth0");
gnmi::Path InOctets(const std::string& target);

// "interfaces/interface[name=eth0]/description" for a notification's
// prefix + path (the target left out).
std::string PathText(const gnmi::Path& prefix, const gnmi::Path& path);
std::string ValueText(const gnmi::TypedValue& value);

// A Subscribe stream read on its own thread into a list of events.
class StreamClient {
 public:
  struct Event {
    bool sync = false;
    bool deleted = false;
    std::string path;
    std::string value;
    int64_t timestamp = 0;
  };

  StreamClient(const std::shared_ptr<grpc::Channel>& channel,
               const gnmi::SubscribeRequest& request);
  ~StreamClient();

  // Waits until `condition` holds for the events so far.
  bool WaitUntil(const std::function<bool(const std::vector<Event>&)>& check,
                 std::chrono::seconds timeout = kWait);
  bool WaitSynced();
  // An update of `path` to `value` at or after event index `from`.
  bool WaitValue(const std::string& path, const std::string& value,
                 size_t from = 0);
  std::vector<Event> events();
  size_t size();
  bool finished();
  grpc::Status status();

 private:
  void Read();

  std::unique_ptr<gnmi::gNMI::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<
      grpc::ClientReaderWriter<gnmi::SubscribeRequest, gnmi::SubscribeResponse>>
      stream_;
  std::thread reader_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Event> events_;
  bool finished_ = false;
  grpc::Status status_;
};

gnmi::SubscribeRequest StreamRequest(const gnmi::Path& path,
                                     gnmi::SubscriptionMode mode,
                                     uint64_t sample_interval_ns = 0);

// A Set of one JSON_IETF update as admin (the answer into `response` when
// given).
grpc::Status SetUpdate(gnmi::gNMI::Stub& stub, const gnmi::Path& path,
                       const std::string& json_ietf,
                       gnmi::SetResponse* response = nullptr);

}  // namespace southgate::testing
