// The chain scaffolding of the gnmi driver's end-to-end tests (see
// chain_fixture.h).
#include "chain_fixture.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "gtest/gtest.h"

namespace southgate::testing {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

Pki::Pki() {
  char pattern[] = "/tmp/southgate-pki-XXXXXX";
  dir_ = mkdtemp(pattern);
  MakeCa("ca");
  MakeCa("rogue-ca");
  MakeCert("b", "ca", "b.test", true);
  MakeCert("a", "ca", "southgate-a", false);
  MakeCert("rogue", "rogue-ca", "southgate-a", false);
  WriteText(dir_ + "/admin.pw", "admin\n");
  WriteText(dir_ + "/wrong.pw", "not-the-password\n");
  chmod((dir_ + "/admin.pw").c_str(), 0600);
  chmod((dir_ + "/wrong.pw").c_str(), 0600);
}

Pki::~Pki() {
  std::error_code ignored;
  if (!getenv("SOUTHGATE_KEEP_TEST_DIRS")) fs::remove_all(dir_, ignored);
}

void Pki::Run(const std::string& command) {
  int status = std::system((command + " >/dev/null 2>&1").c_str());
  ASSERT_EQ(status, 0) << command;
}

void Pki::MakeCa(const std::string& name) {
  Run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
      "-nodes -days 2 -subj /CN=" +
      name + " -keyout " + File(name + ".key") + " -out " +
      File(name + ".crt"));
}

void Pki::MakeCert(const std::string& name, const std::string& ca,
                   const std::string& cn, bool server) {
  Run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
      "-subj /CN=" +
      cn + " -keyout " + File(name + ".key") + " -out " + File(name + ".csr"));
  WriteText(File(name + ".ext"), server ? "subjectAltName=DNS:" + cn + "\n"
                                        : "extendedKeyUsage=clientAuth\n");
  Run("openssl x509 -req -days 2 -in " + File(name + ".csr") + " -CA " +
      File(ca + ".crt") + " -CAkey " + File(ca + ".key") +
      " -CAcreateserial -extfile " + File(name + ".ext") + " -out " +
      File(name + ".crt"));
}

// Daemon B's server section: its certificate for b.test and, for mutual
// TLS, the CA its clients' certificates must chain to.
std::string BTls(const Pki& pki, bool require_client_cert) {
  std::string yaml = "  tls:\n    cert: " + pki.File("b.crt") +
                     "\n    key: " + pki.File("b.key") + "\n";
  if (require_client_cert) {
    yaml += "    ca: " + pki.File("ca.crt") + "\n    client_cert: require\n";
  }
  return yaml;
}

// A channel to daemon B as a test client (with A's client certificate when
// B wants one).
std::shared_ptr<grpc::Channel> BChannel(const Pki& pki,
                                        const std::string& address,
                                        bool client_cert) {
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = ReadText(pki.File("ca.crt"));
  if (client_cert) {
    tls.pem_cert_chain = ReadText(pki.File("a.crt"));
    tls.pem_private_key = ReadText(pki.File("a.key"));
  }
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("b.test");
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(tls), args);
}

bool WaitFor(const std::function<bool()>& condition,
             std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

// B answers Capabilities with the sim's models. A fresh channel per try:
// one channel would wait out gRPC's own reconnect backoff (seconds) after
// B's port refused the first attempt.
bool WaitServing(const std::function<std::shared_ptr<grpc::Channel>()>& make) {
  return WaitFor([&] {
    auto stub = gnmi::gNMI::NewStub(make());
    auto context = ContextFor("admin", "admin");
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(2));
    gnmi::CapabilityResponse response;
    if (!stub->Capabilities(context.get(), {}, &response).ok()) return false;
    for (const auto& model : response.supported_models()) {
      if (model.name() == "ietf-interfaces") return true;
    }
    return false;
  });
}

// A's self-signed certificate, once written, is what its clients trust; a
// fresh channel per try until A answers (one channel would wait out gRPC's
// reconnect backoff after a refused first attempt).
bool WaitAServing(DaemonProcess& a) {
  return WaitFor([&] {
    if (!fs::exists(a.dir() + "/state/server.crt")) return false;
    auto stub = gnmi::gNMI::NewStub(a.TlsChannel());
    auto context = ContextFor("admin", "admin");
    gnmi::CapabilityResponse response;
    return stub->Capabilities(context.get(), {}, &response).ok();
  });
}

// One gnmi-driver device of daemon A pointing at B.
std::string GnmiDeviceYaml(const std::string& name, const std::string& address,
                           const std::vector<std::string>& options,
                           const std::string& password_file) {
  std::string yaml = "  - name: " + name +
                     "\n    driver: gnmi\n    address: " + address + "\n";
  if (!password_file.empty()) {
    yaml +=
        "    credentials: { username: admin, password_file: " + password_file +
        " }\n";
  }
  yaml += "    options:\n";
  for (const auto& option : options) yaml += "      " + option + "\n";
  return yaml;
}

std::string ChainDeviceYaml(const std::string& name,
                            const std::string& b_address,
                            std::vector<std::string> options,
                            const std::string& password_file) {
  options.push_back("target: r1");
  options.push_back("tls_server_name: b.test");
  return GnmiDeviceYaml(name, b_address, options, password_file);
}

std::vector<std::string> MtlsOptions(const Pki& pki) {
  return {"tls_ca_file: " + pki.File("ca.crt"),
          "tls_cert_file: " + pki.File("a.crt"),
          "tls_key_file: " + pki.File("a.key")};
}

std::string MtlsBConfig(const Pki& pki,
                        const std::vector<std::string>& sim_options) {
  return TestConfig(SimDeviceYaml("r1", sim_options), BTls(pki, true),
                    "auth:\n  throttle:\n    max_failures: 1000000\n");
}

absl::StatusOr<gnmi::GetResponse> GetResponseOf(gnmi::gNMI::Stub& stub,
                                                const gnmi::Path& path,
                                                gnmi::Encoding encoding) {
  gnmi::GetRequest request;
  *request.mutable_prefix() = gnmi::Path();
  request.mutable_prefix()->set_target(path.target());
  gnmi::Path relative = path;
  relative.clear_target();
  *request.add_path() = relative;
  request.set_encoding(encoding);
  gnmi::GetResponse response;
  auto context = ContextFor("admin", "admin");
  grpc::Status status = stub.Get(context.get(), request, &response);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        status.error_message());
  }
  return response;
}

absl::StatusOr<json> GetJson(gnmi::gNMI::Stub& stub, const gnmi::Path& path,
                             gnmi::Encoding encoding) {
  absl::StatusOr<gnmi::GetResponse> got = GetResponseOf(stub, path, encoding);
  if (!got.ok()) return got.status();
  const gnmi::GetResponse& response = *got;
  if (response.notification_size() != 1 ||
      response.notification(0).update_size() != 1) {
    return absl::NotFoundError(response.DebugString());
  }
  const gnmi::TypedValue& value = response.notification(0).update(0).val();
  if (value.has_json_ietf_val()) return json::parse(value.json_ietf_val());
  if (value.has_json_val()) return json::parse(value.json_val());
  if (value.has_string_val()) return json(value.string_val());
  return absl::InvalidArgumentError(value.DebugString());
}

DeviceState StateOf(gnmi::gNMI::Stub& a, const std::string& device) {
  DeviceState out;
  auto got = GetJson(
      a,
      MakePath({{"devices", {}}, {"device", {{"name", device}}}}, "southgate"));
  if (!got.ok()) return out;
  // JSON_IETF qualifies the members of a top-level node with its module.
  auto member = [&](const std::string& name) -> json {
    for (const std::string& key : {name, "southgate-devices:" + name}) {
      if (got->contains(key)) return (*got)[key];
    }
    return json();
  };
  if (member("state").is_string()) out.state = member("state");
  if (member("last-error").is_string()) out.last_error = member("last-error");
  if (member("encoding").is_string()) out.encoding = member("encoding");
  for (const json& one : member("device-encoding")) {
    out.device_encodings.push_back(one);
  }
  for (const json& one : member("model")) out.models.push_back(one);
  const json reconnects = member("reconnects");
  if (reconnects.is_string()) {
    out.reconnects = std::stoull(reconnects.get<std::string>());
  } else if (reconnects.is_number()) {
    out.reconnects = reconnects.get<uint64_t>();
  }
  return out;
}

uint64_t TelemetryCounter(gnmi::gNMI::Stub& stub, const std::string& leaf) {
  auto got = GetJson(
      stub,
      MakePath({{"daemon", {}}, {"telemetry", {}}, {leaf, {}}}, "southgate"));
  if (!got.ok()) return ~0ull;
  return got->is_string() ? std::stoull(got->get<std::string>())
                          : got->get<uint64_t>();
}

gnmi::Path Description(const std::string& target, const std::string& name) {
  return MakePath({{"interfaces", {}},
                   {"interface", {{"name", name}}},
                   {"description", {}}},
                  target);
}

gnmi::Path InOctets(const std::string& target) {
  return MakePath({{"interfaces-state", {}},
                   {"interface", {{"name", "eth0"}}},
                   {"statistics", {}},
                   {"in-octets", {}}},
                  target);
}

// "interfaces/interface[name=eth0]/description" for a notification's
// prefix + path (the target left out).
std::string PathText(const gnmi::Path& prefix, const gnmi::Path& path) {
  std::string out;
  for (const gnmi::Path* part : {&prefix, &path}) {
    for (const auto& elem : part->elem()) {
      if (!out.empty()) out += "/";
      out += elem.name();
      std::map<std::string, std::string> keys(elem.key().begin(),
                                              elem.key().end());
      for (const auto& [key, value] : keys) {
        out += "[" + key + "=" + value + "]";
      }
    }
  }
  return out;
}

std::string ValueText(const gnmi::TypedValue& value) {
  if (value.has_json_ietf_val()) return value.json_ietf_val();
  if (value.has_json_val()) return value.json_val();
  if (value.has_string_val()) return "\"" + value.string_val() + "\"";
  if (value.has_uint_val()) return std::to_string(value.uint_val());
  if (value.has_int_val()) return std::to_string(value.int_val());
  if (value.has_bool_val()) return value.bool_val() ? "true" : "false";
  return value.ShortDebugString();
}

bool WaitConnected(gnmi::gNMI::Stub& a, const std::vector<std::string>& names) {
  return WaitFor([&] {
    for (const auto& name : names) {
      if (StateOf(a, name).state != "connected") return false;
    }
    return true;
  });
}

StreamClient::StreamClient(const std::shared_ptr<grpc::Channel>& channel,
                           const gnmi::SubscribeRequest& request)
    : stub_(gnmi::gNMI::NewStub(channel)) {
  context_.AddMetadata("username", "admin");
  context_.AddMetadata("password", "admin");
  stream_ = stub_->Subscribe(&context_);
  stream_->Write(request);
  reader_ = std::thread([this] { Read(); });
}

StreamClient::~StreamClient() {
  context_.TryCancel();
  reader_.join();
}

bool StreamClient::WaitUntil(
    const std::function<bool(const std::vector<Event>&)>& check,
    std::chrono::seconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return check(events_); });
}

bool StreamClient::WaitSynced() {
  return WaitUntil([](const std::vector<Event>& events) {
    for (const auto& e : events) {
      if (e.sync) return true;
    }
    return false;
  });
}

bool StreamClient::WaitValue(const std::string& path, const std::string& value,
                             size_t from) {
  return WaitUntil([&](const std::vector<Event>& events) {
    for (size_t i = from; i < events.size(); ++i) {
      if (!events[i].deleted && events[i].path == path &&
          events[i].value == value) {
        return true;
      }
    }
    return false;
  });
}

std::vector<StreamClient::Event> StreamClient::events() {
  std::lock_guard<std::mutex> lock(mutex_);
  return events_;
}

size_t StreamClient::size() {
  std::lock_guard<std::mutex> lock(mutex_);
  return events_.size();
}

bool StreamClient::finished() {
  std::lock_guard<std::mutex> lock(mutex_);
  return finished_;
}

grpc::Status StreamClient::status() {
  std::lock_guard<std::mutex> lock(mutex_);
  return status_;
}

void StreamClient::Read() {
  gnmi::SubscribeResponse response;
  while (stream_->Read(&response)) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (response.sync_response()) {
      events_.push_back(Event{.sync = true});
    }
    const gnmi::Notification& n = response.update();
    for (const auto& update : n.update()) {
      events_.push_back(Event{.path = PathText(n.prefix(), update.path()),
                              .value = ValueText(update.val()),
                              .timestamp = n.timestamp()});
    }
    for (const auto& path : n.delete_()) {
      events_.push_back(Event{.deleted = true,
                              .path = PathText(n.prefix(), path),
                              .timestamp = n.timestamp()});
    }
    changed_.notify_all();
  }
  grpc::Status status = stream_->Finish();
  std::lock_guard<std::mutex> lock(mutex_);
  finished_ = true;
  status_ = status;
  changed_.notify_all();
}

gnmi::SubscribeRequest StreamRequest(const gnmi::Path& path,
                                     gnmi::SubscriptionMode mode,
                                     uint64_t sample_interval_ns) {
  gnmi::SubscribeRequest request;
  gnmi::SubscriptionList* list = request.mutable_subscribe();
  list->mutable_prefix()->set_target(path.target());
  list->set_mode(gnmi::SubscriptionList::STREAM);
  list->set_encoding(gnmi::JSON_IETF);
  gnmi::Subscription* subscription = list->add_subscription();
  *subscription->mutable_path() = path;
  subscription->mutable_path()->clear_target();
  subscription->set_mode(mode);
  subscription->set_sample_interval(sample_interval_ns);
  return request;
}

grpc::Status SetUpdate(gnmi::gNMI::Stub& stub, const gnmi::Path& path,
                       const std::string& json_ietf,
                       gnmi::SetResponse* response) {
  gnmi::SetRequest request;
  request.mutable_prefix()->set_target(path.target());
  gnmi::Update* update = request.add_update();
  *update->mutable_path() = path;
  update->mutable_path()->clear_target();
  update->mutable_val()->set_json_ietf_val(json_ietf);
  gnmi::SetResponse ignored;
  auto context = ContextFor("admin", "admin");
  return stub.Set(context.get(), request, response ? response : &ignored);
}

}  // namespace southgate::testing
