// Security end to end: the real southgated over real TLS, with
// certificates issued for each test by the project's OpenSSL wrapper.
// Mutual TLS, identity from certificates, passwords and throttling,
// authorization rules, certificate rotation, the audit log and the
// `southgated user` subcommand.
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "daemon_fixture.h"
#include "github.com/openconfig/gnmi/proto/gnmi/gnmi.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "security/tls.h"

namespace southgate::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;
using security::IssuedCertificate;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteAtomically(const std::string& path, const std::string& content) {
  std::ofstream(path + ".tmp") << content;
  fs::rename(path + ".tmp", path);
}

IssuedCertificate Issue(const std::string& cn, const IssuedCertificate* ca,
                        absl::Duration start_offset = absl::Hours(-1),
                        absl::Duration lifetime = absl::Hours(24 * 30),
                        std::vector<std::string> emails = {},
                        bool is_ca = false) {
  security::CertificateRequest request;
  request.common_name = cn;
  if (!is_ca) {
    request.dns_names = {"localhost"};
    request.ip_addresses = {"127.0.0.1"};
  }
  request.emails = std::move(emails);
  request.not_before = absl::Now() + start_offset;
  request.not_after = request.not_before + lifetime;
  request.is_ca = is_ca;
  auto issued = security::IssueCertificate(request, ca);
  EXPECT_TRUE(issued.ok()) << issued.status();
  return issued.ok() ? *issued : IssuedCertificate{};
}

// Lab material: a CA, a server certificate it signs, and a second CA that
// signs nothing the server trusts.
struct Pki {
  std::string dir;
  IssuedCertificate ca, other_ca, server;

  Pki() {
    char pattern[] = "/tmp/southgate-pki-XXXXXX";
    dir = mkdtemp(pattern);
    ca = Issue("southgate test CA", nullptr, absl::Hours(-1),
               absl::Hours(24 * 365), {}, true);
    other_ca = Issue("someone else's CA", nullptr, absl::Hours(-1),
                     absl::Hours(24 * 365), {}, true);
    server = Issue("server-v1", &ca);
    WriteAtomically(dir + "/ca.crt", ca.cert_pem);
    WriteAtomically(dir + "/server.crt", server.cert_pem);
    WriteAtomically(dir + "/server.key", server.key_pem);
  }
  ~Pki() {
    std::error_code ignored;
    if (!getenv("SOUTHGATE_KEEP_TEST_DIRS")) fs::remove_all(dir, ignored);
  }
  std::string Tls(const std::string& client_cert,
                  const std::string& identity = "none") const {
    return "  tls:\n    cert: " + dir + "/server.crt\n    key: " + dir +
           "/server.key\n    ca: " + dir +
           "/ca.crt\n    client_cert: " + client_cert +
           "\n    client_identity: " + identity +
           "\n    reload_interval_ms: 100\n";
  }
};

// A channel of its own (no subchannel shared with other channels), so a
// new channel means a new TLS handshake.
std::shared_ptr<grpc::Channel> Channel(const std::string& address,
                                       const std::string& trusted_ca,
                                       const IssuedCertificate* client) {
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = trusted_ca;
  if (client != nullptr) {
    tls.pem_cert_chain = client->cert_pem;
    tls.pem_private_key = client->key_pem;
  }
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(tls), args);
}

gnmi::GetRequest GetOf(const gnmi::Path& path, const std::string& target) {
  gnmi::GetRequest request;
  request.mutable_prefix()->set_target(target);
  *request.add_path() = path;
  request.set_encoding(gnmi::JSON_IETF);
  return request;
}

gnmi::SetRequest SetDescription(const std::string& target,
                                const std::string& name,
                                const std::string& value) {
  gnmi::SetRequest request;
  request.mutable_prefix()->set_target(target);
  gnmi::Update* update = request.add_update();
  *update->mutable_path() = MakePath({{"interfaces", {}},
                                      {"interface", {{"name", name}}},
                                      {"description", {}}});
  update->mutable_val()->set_string_val(value);
  return request;
}

gnmi::SetRequest SetHostname(const std::string& target,
                             const std::string& value) {
  gnmi::SetRequest request;
  request.mutable_prefix()->set_target(target);
  gnmi::Update* update = request.add_update();
  *update->mutable_path() = MakePath({{"system", {}}, {"hostname", {}}});
  update->mutable_val()->set_string_val(value);
  return request;
}

grpc::Status Get(const std::shared_ptr<grpc::Channel>& channel,
                 const gnmi::GetRequest& request, const std::string& user,
                 const std::string& password,
                 std::string* server_cn = nullptr) {
  auto context = ContextFor(user, password);
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(10));
  gnmi::GetResponse response;
  grpc::Status status =
      gnmi::gNMI::NewStub(channel)->Get(context.get(), request, &response);
  if (server_cn != nullptr && context->auth_context()) {
    auto values =
        context->auth_context()->FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME);
    if (!values.empty()) server_cn->assign(values[0].data(), values[0].size());
  }
  return status;
}

grpc::Status Set(const std::shared_ptr<grpc::Channel>& channel,
                 const gnmi::SetRequest& request, const std::string& user,
                 const std::string& password) {
  auto context = ContextFor(user, password);
  gnmi::SetResponse response;
  return gnmi::gNMI::NewStub(channel)->Set(context.get(), request, &response);
}

// Waits until the daemon answers a Get on `target` with this channel
// maker and credentials, and every device has connected.
bool WaitServing(DaemonProcess& daemon,
                 const std::function<std::shared_ptr<grpc::Channel>()>& make,
                 const std::string& user, const std::string& password,
                 int devices = 1) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!daemon.running()) return false;
    std::string log = daemon.Log();
    size_t connected = 0;
    for (size_t at = log.find(": connected"); at != std::string::npos;
         at = log.find(": connected", at + 1)) {
      ++connected;
    }
    if (connected >= static_cast<size_t>(devices)) {
      auto context = ContextFor(user, password);
      context->set_deadline(std::chrono::system_clock::now() +
                            std::chrono::seconds(2));
      gnmi::CapabilityRequest request;
      gnmi::CapabilityResponse response;
      if (gnmi::gNMI::NewStub(make())
              ->Capabilities(context.get(), request, &response)
              .ok()) {
        return true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

std::string Config(const std::string& server_tls,
                   const std::string& top_extra = "",
                   const std::string& devices = SimDeviceYaml("sim1")) {
  return TestConfig(devices, server_tls, top_extra);
}

const gnmi::Path kInterfaces = MakePath({{"interfaces", {}}});
const gnmi::Path kSystem = MakePath({{"system", {}}});

// --- mutual TLS --------------------------------------------------------

TEST(SecurityEndToEnd, ClientsThatTrustAnotherCaCannotConnect) {
  Pki pki;
  DaemonProcess daemon(Config(pki.Tls("request")));
  auto good = [&] {
    return Channel(daemon.address(), pki.ca.cert_pem, nullptr);
  };
  ASSERT_TRUE(WaitServing(daemon, good, "admin", "admin")) << daemon.Log();

  // The client does not trust the server's CA: the handshake fails.
  auto wrong_ca = Channel(daemon.address(), pki.other_ca.cert_pem, nullptr);
  EXPECT_EQ(
      Get(wrong_ca, GetOf(kInterfaces, "sim1"), "admin", "admin").error_code(),
      grpc::StatusCode::UNAVAILABLE);
  // A client certificate from a CA the server does not trust is refused
  // even though the server only requests certificates.
  IssuedCertificate stranger = Issue("admin", &pki.other_ca);
  auto untrusted = Channel(daemon.address(), pki.ca.cert_pem, &stranger);
  EXPECT_EQ(
      Get(untrusted, GetOf(kInterfaces, "sim1"), "admin", "admin").error_code(),
      grpc::StatusCode::UNAVAILABLE);
  // Without a certificate (request policy) the password still works.
  EXPECT_TRUE(Get(good(), GetOf(kInterfaces, "sim1"), "admin", "admin").ok());
}

TEST(SecurityEndToEnd, RequiredClientCertificateMustBePresentAndValid) {
  Pki pki;
  DaemonProcess daemon(Config(pki.Tls("require")));
  IssuedCertificate client = Issue("admin", &pki.ca);
  auto with_cert = [&] {
    return Channel(daemon.address(), pki.ca.cert_pem, &client);
  };
  ASSERT_TRUE(WaitServing(daemon, with_cert, "admin", "admin")) << daemon.Log();

  EXPECT_TRUE(
      Get(with_cert(), GetOf(kInterfaces, "sim1"), "admin", "admin").ok());
  // No certificate where one is required.
  auto without = Channel(daemon.address(), pki.ca.cert_pem, nullptr);
  EXPECT_EQ(
      Get(without, GetOf(kInterfaces, "sim1"), "admin", "admin").error_code(),
      grpc::StatusCode::UNAVAILABLE);
  // Expired and not-yet-valid client certificates from the right CA.
  IssuedCertificate expired =
      Issue("admin", &pki.ca, absl::Hours(-24 * 10), absl::Hours(24 * 9));
  IssuedCertificate not_yet =
      Issue("admin", &pki.ca, absl::Hours(24), absl::Hours(24 * 30));
  for (const IssuedCertificate* cert : {&expired, &not_yet}) {
    auto channel = Channel(daemon.address(), pki.ca.cert_pem, cert);
    EXPECT_EQ(
        Get(channel, GetOf(kInterfaces, "sim1"), "admin", "admin").error_code(),
        grpc::StatusCode::UNAVAILABLE);
  }
}

TEST(SecurityEndToEnd, ExpiredOrNotYetValidServerCertificateRefusesToStart) {
  Pki pki;
  IssuedCertificate expired =
      Issue("server-old", &pki.ca, absl::Hours(-24 * 10), absl::Hours(24 * 9));
  WriteAtomically(pki.dir + "/server.crt", expired.cert_pem);
  WriteAtomically(pki.dir + "/server.key", expired.key_pem);
  {
    DaemonProcess daemon(Config(pki.Tls("request")));
    EXPECT_EQ(daemon.WaitExit(std::chrono::seconds(30)), 2);
    EXPECT_THAT(daemon.Log(), HasSubstr("has expired"));
  }
  IssuedCertificate future =
      Issue("server-new", &pki.ca, absl::Hours(24), absl::Hours(24 * 30));
  WriteAtomically(pki.dir + "/server.crt", future.cert_pem);
  WriteAtomically(pki.dir + "/server.key", future.key_pem);
  {
    DaemonProcess daemon(Config(pki.Tls("request")));
    EXPECT_EQ(daemon.WaitExit(std::chrono::seconds(30)), 2);
    EXPECT_THAT(daemon.Log(), HasSubstr("is not valid yet"));
  }
}

TEST(SecurityEndToEnd, IdentityFromClientCertificate) {
  Pki pki;
  DaemonProcess daemon(Config(pki.Tls("require", "cn")));
  IssuedCertificate viewer = Issue("viewer", &pki.ca);
  IssuedCertificate admin = Issue("admin", &pki.ca);
  IssuedCertificate mallory = Issue("mallory", &pki.ca);
  auto as = [&](const IssuedCertificate& cert) {
    return Channel(daemon.address(), pki.ca.cert_pem, &cert);
  };
  ASSERT_TRUE(WaitServing(
      daemon, [&] { return as(admin); }, "", ""))
      << daemon.Log();

  // No metadata: the certificate's CN is the user, with that user's role.
  EXPECT_TRUE(Get(as(viewer), GetOf(kInterfaces, "sim1"), "", "").ok());
  grpc::Status status =
      Set(as(viewer), SetDescription("sim1", "eth0", "x"), "", "");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("role read-only"));
  EXPECT_TRUE(
      Set(as(admin), SetDescription("sim1", "eth0", "by cert"), "", "").ok());
  // A verified certificate naming nobody configured.
  status = Get(as(mallory), GetOf(kInterfaces, "sim1"), "", "");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(), HasSubstr("mallory"));
  // Metadata naming someone else than the certificate.
  status = Get(as(viewer), GetOf(kInterfaces, "sim1"), "admin", "admin");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(daemon.Log(), HasSubstr("does not match the client certificate"));
}

TEST(SecurityEndToEnd, IdentityFromSubjectAltName) {
  Pki pki;
  DaemonProcess daemon(Config(pki.Tls("require", "san")));
  // CN says one thing; the SAN e-mail names the user.
  IssuedCertificate cert = Issue("ignored-cn", &pki.ca, absl::Hours(-1),
                                 absl::Hours(24), {"viewer"});
  auto channel = [&] {
    return Channel(daemon.address(), pki.ca.cert_pem, &cert);
  };
  ASSERT_TRUE(WaitServing(daemon, channel, "", "")) << daemon.Log();
  EXPECT_TRUE(Get(channel(), GetOf(kInterfaces, "sim1"), "", "").ok());
  EXPECT_EQ(
      Set(channel(), SetDescription("sim1", "eth0", "x"), "", "").error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
}

// --- passwords and throttling -----------------------------------------

TEST(SecurityEndToEnd, WrongPasswordsAreThrottledAndRecover) {
  DaemonProcess daemon(TestConfig(SimDeviceYaml("sim1"), "",
                                  "ops:\n  listen: 127.0.0.1:{OPS_PORT}\n"
                                  "auth:\n  throttle:\n"
                                  "    max_failures: 3\n"
                                  "    window_ms: 60000\n"
                                  "    lockout_ms: 2000\n"));
  ASSERT_TRUE(daemon.WaitReady(std::chrono::seconds(60))) << daemon.Log();
  auto channel = daemon.TlsChannel();
  const auto get = GetOf(kInterfaces, "sim1");

  for (int i = 0; i < 3; ++i) {
    grpc::Status status = Get(channel, get, "viewer", "wrong-password");
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(status.error_message(), "invalid username or password");
  }
  // Locked out: even the right password is refused, without a check.
  grpc::Status status = Get(channel, get, "viewer", "viewer");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("too many failed logins"));
  EXPECT_THAT(daemon.Log(), HasSubstr("too many failed logins: peer"));
  EXPECT_THAT(daemon.Log(), HasSubstr("too many failed logins: user viewer"));

  httplib::Client ops("127.0.0.1", daemon.ops_port());
  auto metrics = ops.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(metrics->body,
              HasSubstr("southgate_auth_lockouts_total{scope=\"peer\"} 1"));
  EXPECT_THAT(metrics->body,
              HasSubstr("southgate_auth_lockouts_total{scope=\"user\"} 1"));
  EXPECT_THAT(metrics->body,
              HasSubstr("southgate_auth_throttled_total{scope=\"peer\"} 1"));
  EXPECT_THAT(metrics->body, HasSubstr("southgate_auth_lockouts_active 2"));

  // After the lockout window the right password works again.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    status = Get(channel, get, "viewer", "viewer");
  } while (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
           std::chrono::steady_clock::now() < deadline);
  EXPECT_TRUE(status.ok()) << status.error_message();
  metrics = ops.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(metrics->body, HasSubstr("southgate_auth_lockouts_active 0"));
  // No password ever reaches the log.
  EXPECT_THAT(daemon.Log(), Not(HasSubstr("wrong-password")));
}

// --- authorization -------------------------------------------------------

TEST(SecurityEndToEnd, ReadOnlyUserCannotSet) {
  DaemonProcess daemon(Config("", "audit:\n  file: {DIR}/audit.log\n"));
  ASSERT_TRUE(daemon.WaitReady(std::chrono::seconds(60))) << daemon.Log();
  grpc::Status status =
      Set(daemon.TlsChannel(), SetDescription("sim1", "eth0", "nope"), "viewer",
          "viewer");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("denied by role read-only"));
  EXPECT_THAT(daemon.Log(), HasSubstr("denied by role read-only"));
}

TEST(SecurityEndToEnd, PathRuleDeniesASubtreeForGetSetAndSubscribe) {
  const std::string rules =
      "authorization:\n"
      "  rules:\n"
      "    - name: no-system-on-sim1\n"
      "      effect: deny\n"
      "      users: [admin]\n"
      "      targets: [sim1]\n"
      "      paths: [\"/ietf-system:system\"]\n"
      "    - name: viewer-sees-interfaces-only\n"
      "      effect: allow\n"
      "      roles: [read-only]\n"
      "      targets: [sim2]\n"
      "      paths: [\"/interfaces\"]\n"
      "      access: read\n"
      "    - name: viewer-nothing-else\n"
      "      effect: deny\n"
      "      roles: [read-only]\n"
      "      targets: [sim2]\n"
      "audit:\n  file: {DIR}/audit.log\n";
  DaemonProcess daemon(
      Config("", rules, SimDeviceYaml("sim1") + SimDeviceYaml("sim2")));
  ASSERT_TRUE(daemon.WaitReady(std::chrono::seconds(60))) << daemon.Log();
  auto channel = daemon.TlsChannel();

  // Get: the subtree, a path inside it, and everything (which reaches in).
  for (const gnmi::Path& path :
       {kSystem, MakePath({{"system", {}}, {"hostname", {}}}), gnmi::Path()}) {
    grpc::Status status = Get(channel, GetOf(path, "sim1"), "admin", "admin");
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << path.DebugString();
    EXPECT_THAT(status.error_message(), HasSubstr("rule 'no-system-on-sim1'"));
  }
  EXPECT_TRUE(Get(channel, GetOf(kInterfaces, "sim1"), "admin", "admin").ok());
  // The rule names sim1 only.
  EXPECT_TRUE(Get(channel, GetOf(kSystem, "sim2"), "admin", "admin").ok());

  // Set: denied before the device is touched.
  grpc::Status status =
      Set(channel, SetHostname("sim1", "pwned"), "admin", "admin");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("rule 'no-system-on-sim1'"));
  EXPECT_TRUE(
      Set(channel, SetHostname("sim2", "allowed"), "admin", "admin").ok());
  // sim1 is unchanged (the viewer has no rule on sim1).
  {
    auto context = ContextFor("viewer", "viewer");
    gnmi::GetResponse response;
    ASSERT_TRUE(
        gnmi::gNMI::NewStub(channel)
            ->Get(context.get(),
                  GetOf(MakePath({{"system", {}}, {"hostname", {}}}), "sim1"),
                  &response)
            .ok());
    EXPECT_THAT(response.DebugString(), HasSubstr("sim-router"));
    EXPECT_THAT(response.DebugString(), Not(HasSubstr("pwned")));
  }

  // Subscribe: refused at set-up, and allowed elsewhere.
  auto subscribe = [&](const gnmi::Path& path, const std::string& user,
                       const std::string& target = "sim1") {
    auto context = ContextFor(user, user);
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(20));
    auto stub = gnmi::gNMI::NewStub(channel);
    auto stream = stub->Subscribe(context.get());
    gnmi::SubscribeRequest request;
    auto* list = request.mutable_subscribe();
    list->mutable_prefix()->set_target(target);
    list->set_mode(gnmi::SubscriptionList::ONCE);
    *list->add_subscription()->mutable_path() = path;
    EXPECT_TRUE(stream->Write(request));
    stream->WritesDone();
    gnmi::SubscribeResponse response;
    bool synced = false;
    while (stream->Read(&response)) synced |= response.sync_response();
    grpc::Status status = stream->Finish();
    if (status.ok()) EXPECT_TRUE(synced);
    return status;
  };
  status = subscribe(kSystem, "admin");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("rule 'no-system-on-sim1'"));
  EXPECT_TRUE(subscribe(kInterfaces, "admin").ok());

  // Allow rule, then a catch-all deny, for the read-only role.
  EXPECT_TRUE(
      Get(channel, GetOf(kInterfaces, "sim2"), "viewer", "viewer").ok());
  status = Get(channel, GetOf(kSystem, "sim2"), "viewer", "viewer");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("rule 'viewer-nothing-else'"));
  status = subscribe(kSystem, "viewer", "sim2");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(subscribe(kInterfaces, "viewer", "sim2").ok());

  // Every denial is logged and audited with the rule.
  EXPECT_THAT(daemon.Log(), HasSubstr("denied by rule 'no-system-on-sim1'"));
  std::string audit = ReadAll(daemon.dir() + "/audit.log");
  EXPECT_THAT(audit, HasSubstr("\"operation\":\"Subscribe\""));
  EXPECT_THAT(audit, HasSubstr("\"operation\":\"Get\""));
  EXPECT_THAT(audit, HasSubstr("rule 'no-system-on-sim1'"));

  EXPECT_THAT(audit, HasSubstr("\"target\":\"sim2\""));
  EXPECT_THAT(audit, Not(HasSubstr("pwned")));

  // Rules change live on SIGHUP.
  daemon.RewriteConfig(Config("", "audit:\n  file: {DIR}/audit.log\n",
                              SimDeviceYaml("sim1") + SimDeviceYaml("sim2")));
  daemon.Signal(SIGHUP);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    status = Get(channel, GetOf(kSystem, "sim1"), "admin", "admin");
  } while (!status.ok() && std::chrono::steady_clock::now() < deadline);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(daemon.Log(), HasSubstr("0 authorization rules"));
}

// --- rotation ------------------------------------------------------------

TEST(SecurityEndToEnd, CertificateRotationKeepsLiveStreamsAndServesNewOnes) {
  Pki pki;
  DaemonProcess daemon(
      Config(pki.Tls("request"), "ops:\n  listen: 127.0.0.1:{OPS_PORT}\n",
             SimDeviceYaml("sim1", {"update_interval_ms: 0"})));
  auto fresh = [&] {
    return Channel(daemon.address(), pki.ca.cert_pem, nullptr);
  };
  ASSERT_TRUE(WaitServing(daemon, fresh, "admin", "admin")) << daemon.Log();
  std::string cn;
  ASSERT_TRUE(
      Get(fresh(), GetOf(kInterfaces, "sim1"), "admin", "admin", &cn).ok());
  EXPECT_EQ(cn, "server-v1");

  // A live ON_CHANGE stream on the old certificate.
  auto stream_channel = fresh();
  auto stub = gnmi::gNMI::NewStub(stream_channel);
  auto context = ContextFor("admin", "admin");
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(60));
  auto stream = stub->Subscribe(context.get());
  gnmi::SubscribeRequest request;
  auto* list = request.mutable_subscribe();
  list->mutable_prefix()->set_target("sim1");
  list->set_mode(gnmi::SubscriptionList::STREAM);
  auto* subscription = list->add_subscription();
  *subscription->mutable_path() = MakePath({{"interfaces", {}},
                                            {"interface", {{"name", "eth0"}}},
                                            {"description", {}}});
  subscription->set_mode(gnmi::ON_CHANGE);
  ASSERT_TRUE(stream->Write(request));
  gnmi::SubscribeResponse response;
  bool synced = false;
  while (!synced && stream->Read(&response)) synced = response.sync_response();
  ASSERT_TRUE(synced);

  // Rotate: a new server certificate from the same CA, key first.
  IssuedCertificate v2 = Issue("server-v2", &pki.ca);
  WriteAtomically(pki.dir + "/server.key", v2.key_pem);
  WriteAtomically(pki.dir + "/server.crt", v2.cert_pem);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (cn != "server-v2" && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cn.clear();
    (void)Get(fresh(), GetOf(kInterfaces, "sim1"), "admin", "admin", &cn);
  }
  EXPECT_EQ(cn, "server-v2") << daemon.Log();
  EXPECT_THAT(daemon.Log(), HasSubstr("TLS: certificate files changed"));

  // The old stream still delivers.
  ASSERT_TRUE(Set(fresh(), SetDescription("sim1", "eth0", "after rotation"),
                  "admin", "admin")
                  .ok());
  bool delivered = false;
  while (!delivered && stream->Read(&response)) {
    for (const auto& update : response.update().update()) {
      delivered |= update.val().DebugString().find("after rotation") !=
                   std::string::npos;
    }
  }
  EXPECT_TRUE(delivered);

  // A broken new certificate is rejected; the current one stays in use.
  WriteAtomically(pki.dir + "/server.crt",
                  "-----BEGIN CERTIFICATE-----\n"
                  "garbage\n"
                  "-----END CERTIFICATE-----\n");
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (daemon.Log().find("new certificate files rejected") ==
             std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_THAT(daemon.Log(), HasSubstr("new certificate files rejected, "
                                      "keeping the current ones"));
  // A key that does not match, sent with SIGHUP: rejected too.
  IssuedCertificate v3 = Issue("server-v3", &pki.ca);
  WriteAtomically(pki.dir + "/server.crt", v3.cert_pem);  // v2's key stays
  daemon.Signal(SIGHUP);
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (daemon.Log().find("does not match certificate") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_THAT(daemon.Log(), HasSubstr("does not match certificate"));
  // Past the provider's refresh, new connections still get v2.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  cn.clear();
  EXPECT_TRUE(
      Get(fresh(), GetOf(kInterfaces, "sim1"), "admin", "admin", &cn).ok());
  EXPECT_EQ(cn, "server-v2");

  httplib::Client ops("127.0.0.1", daemon.ops_port());
  auto metrics = ops.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(metrics->body, HasSubstr("southgate_tls_reloads_total{result="
                                       "\"published\"}"));
  EXPECT_THAT(metrics->body, HasSubstr("southgate_tls_reloads_total{result="
                                       "\"rejected\"}"));
  context->TryCancel();
}

TEST(SecurityEndToEnd, ClientCaBundleRotation) {
  Pki pki;
  DaemonProcess daemon(Config(pki.Tls("require")));
  IssuedCertificate old_client = Issue("admin", &pki.ca);
  IssuedCertificate new_client = Issue("admin", &pki.other_ca);
  auto as = [&](const IssuedCertificate& cert) {
    return Channel(daemon.address(), pki.ca.cert_pem, &cert);
  };
  ASSERT_TRUE(WaitServing(
      daemon, [&] { return as(old_client); }, "admin", "admin"))
      << daemon.Log();
  const auto get = GetOf(kInterfaces, "sim1");
  EXPECT_EQ(Get(as(new_client), get, "admin", "admin").error_code(),
            grpc::StatusCode::UNAVAILABLE);

  // The clients' CA changes: only certificates from the new one are let in.
  WriteAtomically(pki.dir + "/ca.crt", pki.other_ca.cert_pem);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  grpc::Status status;
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    status = Get(as(new_client), get, "admin", "admin");
  } while (!status.ok() && std::chrono::steady_clock::now() < deadline);
  EXPECT_TRUE(status.ok()) << status.error_message() << daemon.Log();
  EXPECT_EQ(Get(as(old_client), get, "admin", "admin").error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

// --- audit -----------------------------------------------------------------

std::vector<json> AuditLines(const std::string& path) {
  std::vector<json> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(json::parse(line));
  }
  return lines;
}

TEST(SecurityEndToEnd, AuditLogHasEverySetAndEveryDenialButNoSecrets) {
  setenv("SOUTHGATE_TEST_DEVICE_SECRET", "device-secret-7f3a", 1);
  DaemonProcess daemon(
      Config("", "audit:\n  file: {DIR}/audit.log\n",
             SimDeviceYaml("sim1") +
                 "    credentials:\n      username: netops\n"
                 "      password_env: SOUTHGATE_TEST_DEVICE_SECRET\n"));
  ASSERT_TRUE(daemon.WaitReady(std::chrono::seconds(60))) << daemon.Log();
  auto channel = daemon.TlsChannel();
  ASSERT_TRUE(
      Set(channel, SetDescription("sim1", "eth1", "audited"), "admin", "admin")
          .ok());
  EXPECT_EQ(
      Set(channel, SetDescription("sim1", "eth1", "nope"), "viewer", "viewer")
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Set(channel, SetDescription("sim1", "eth1", "nope"), "admin",
                "not-the-password")
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // A Set the device rejects is audited with its error.
  gnmi::SetRequest bad = SetDescription("sim1", "eth1", "x");
  *bad.mutable_update(0)->mutable_path() =
      MakePath({{"interfaces", {}}, {"no-such-leaf", {}}});
  EXPECT_FALSE(Set(channel, bad, "admin", "admin").ok());

  std::vector<json> lines = AuditLines(daemon.dir() + "/audit.log");
  ASSERT_EQ(lines.size(), 4u) << ReadAll(daemon.dir() + "/audit.log");
  for (const json& line : lines) {
    for (const char* key :
         {"time", "user", "peer", "target", "paths", "operation", "result"}) {
      EXPECT_TRUE(line.contains(key)) << key << " missing in " << line;
    }
    EXPECT_EQ(line["operation"], "Set");
    EXPECT_THAT(line["peer"].get<std::string>(), HasSubstr("127.0.0.1"));
  }
  EXPECT_EQ(lines[0]["user"], "admin");
  EXPECT_EQ(lines[0]["target"], "sim1");
  EXPECT_EQ(lines[0]["result"], "OK");
  EXPECT_EQ(lines[0]["paths"],
            json::array({"/interfaces/interface[name=eth1]/description"}));
  EXPECT_EQ(lines[1]["user"], "viewer");
  EXPECT_EQ(lines[1]["result"], "PERMISSION_DENIED");
  EXPECT_THAT(lines[1]["message"].get<std::string>(),
              HasSubstr("role read-only"));
  EXPECT_EQ(lines[2]["user"], "admin");
  EXPECT_EQ(lines[2]["result"], "UNAUTHENTICATED");
  EXPECT_EQ(lines[3]["result"], "NOT_FOUND");  // no such leaf in the schema

  // Neither the device password nor any user password, nor Set values.
  const std::string audit = ReadAll(daemon.dir() + "/audit.log");
  const std::string log = daemon.Log();
  for (const std::string& secret :
       {std::string("device-secret-7f3a"), std::string("not-the-password")}) {
    EXPECT_THAT(audit, Not(HasSubstr(secret)));
    EXPECT_THAT(log, Not(HasSubstr(secret)));
  }
  EXPECT_THAT(audit, Not(HasSubstr("audited")));
}

// --- southgated user ------------------------------------------------------

struct CommandResult {
  int exit_code;
  std::string out, err;
};

CommandResult RunSouthgated(const std::string& args,
                            const std::string& stdin_text,
                            const std::string& dir) {
  const std::string out = dir + "/cmd.out", err = dir + "/cmd.err",
                    in = dir + "/cmd.in";
  std::ofstream(in) << stdin_text;
  std::string command = std::string(SOUTHGATED_BINARY) + " " + args + " < " +
                        in + " > " + out + " 2> " + err;
  int status = std::system(command.c_str());
  fs::remove(in);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadAll(out),
          ReadAll(err)};
}

TEST(SecurityEndToEnd, UserSubcommandRoundTrip) {
  char pattern[] = "/tmp/southgate-users-XXXXXX";
  const std::string dir = mkdtemp(pattern);
  const std::string file = dir + "/users.yaml";
  const std::string password = "correct horse battery 42";

  CommandResult add = RunSouthgated(
      "user add alice --role read-write --file " + file, password + "\n", dir);
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_THAT(add.err, HasSubstr("added user 'alice' (read-write)"));
  CommandResult again =
      RunSouthgated("user add alice --file " + file, "x\n", dir);
  EXPECT_NE(again.exit_code, 0);
  EXPECT_THAT(again.err, HasSubstr("already exists"));
  CommandResult empty = RunSouthgated("user add bob --file " + file, "\n", dir);
  EXPECT_THAT(empty.err, HasSubstr("empty password refused"));
  CommandResult replaced =
      RunSouthgated("user add alice --replace --role read-write --file " + file,
                    password + "\n", dir);
  EXPECT_EQ(replaced.exit_code, 0) << replaced.err;
  EXPECT_THAT(replaced.err, HasSubstr("changed user 'alice'"));
  EXPECT_NE(empty.exit_code, 0);
  ASSERT_EQ(RunSouthgated("user add carol --certificate-only --role admin "
                          "--file " +
                              file,
                          "", dir)
                .exit_code,
            0);
  const std::string users = ReadAll(file);
  EXPECT_THAT(users, HasSubstr("$argon2id$"));
  EXPECT_THAT(users, Not(HasSubstr(password)));
  EXPECT_EQ(fs::status(file).permissions() & fs::perms::others_all,
            fs::perms::none);
  CommandResult list = RunSouthgated("user list --file " + file, "", dir);
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_EQ(list.out, "alice read-write\ncarol admin certificate-only\n");
  for (const CommandResult* run : {&add, &list}) {
    EXPECT_THAT(run->out + run->err, Not(HasSubstr(password)));
    EXPECT_THAT(run->out + run->err, Not(HasSubstr("$argon2id$")));
  }

  // The daemon accepts the file and the password.
  DaemonProcess daemon(
      "server:\n  listen: 127.0.0.1:{PORT}\nstate_dir: {DIR}/state\n"
      "log:\n  level: debug\n"
      "yang:\n  dirs: [ {SOURCE}/yang, /usr/share/yuma/modules/ietf ]\n"
      "users:\n  file: " +
      file +
      "\n  list:\n"
      "    - name: admin\n      role: read-write\n"
      "      password_hash: \"$argon2id$v=19$m=32768,t=2,p=1$"
      "OTgxNTAwMzY2ZTAwYjExNQ$hUyz/SFIG3zgK5iXZx1OylI+G00JLi/2Z+PRZZU6dtI\"\n"
      "devices:\n" +
      SimDeviceYaml("sim1"));
  ASSERT_TRUE(daemon.WaitReady(std::chrono::seconds(60))) << daemon.Log();
  auto channel = daemon.TlsChannel();
  EXPECT_TRUE(Set(channel, SetDescription("sim1", "eth0", "alice was here"),
                  "alice", password)
                  .ok());
  // carol has no password: only a certificate could sign her in.
  EXPECT_EQ(Get(channel, GetOf(kInterfaces, "sim1"), "carol", "").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // Removed, then reloaded: alice is refused.
  CommandResult del = RunSouthgated("user del alice --file " + file, "", dir);
  EXPECT_EQ(del.exit_code, 0) << del.err;
  EXPECT_EQ(RunSouthgated("user list --file " + file, "", dir).out,
            "carol admin certificate-only\n");
  daemon.Signal(SIGHUP);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  grpc::Status status;
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    status = Get(channel, GetOf(kInterfaces, "sim1"), "alice", password);
  } while (status.ok() && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(daemon.Log(), Not(HasSubstr(password)));
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}

// Reads from `fd` until `wanted` shows up, the other side closes, or 20 s.
bool ReadUntil(int fd, const std::string& wanted, std::string& seen) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!wanted.empty() && seen.find(wanted) != std::string::npos) return true;
    pollfd ready{fd, POLLIN, 0};
    if (poll(&ready, 1, 100) <= 0) continue;
    char buffer[256];
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) return wanted.empty();  // EIO once the child has exited
    seen.append(buffer, static_cast<size_t>(n));
  }
  return false;
}

TEST(SecurityEndToEnd, UserAddOnATerminalDoesNotEchoThePassword) {
  char pattern[] = "/tmp/southgate-users-XXXXXX";
  const std::string dir = mkdtemp(pattern);
  const std::string file = dir + "/users.yaml";
  const std::string password = "typed-on-a-tty-93";
  int terminal = -1;
  pid_t pid = forkpty(&terminal, nullptr, nullptr, nullptr);
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl(SOUTHGATED_BINARY, SOUTHGATED_BINARY, "user", "add", "tty-user",
          "--role", "read-only", "--file", file.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  std::string seen;
  ASSERT_TRUE(ReadUntil(terminal, "password: ", seen)) << seen;
  ASSERT_EQ(write(terminal, (password + "\n").data(), password.size() + 1),
            static_cast<ssize_t>(password.size() + 1));
  ASSERT_TRUE(ReadUntil(terminal, "again: ", seen)) << seen;
  ASSERT_EQ(write(terminal, (password + "\n").data(), password.size() + 1),
            static_cast<ssize_t>(password.size() + 1));
  ReadUntil(terminal, "", seen);
  close(terminal);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << seen;
  EXPECT_THAT(seen, HasSubstr("added user 'tty-user'"));
  EXPECT_THAT(seen, Not(HasSubstr(password)));  // never echoed or printed
  EXPECT_THAT(ReadAll(file), HasSubstr("$argon2id$"));
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}

}  // namespace
}  // namespace southgate::testing
