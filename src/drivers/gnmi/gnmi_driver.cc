#include "drivers/gnmi/gnmi_driver.h"

#include <algorithm>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "drivers/gnmi/gnmi_convert.h"
#include "drivers/gnmi/gnmi_subscription.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "spdlog/spdlog.h"

namespace southgate::drivers::gnmi_driver {
namespace {

// Modules libyang carries itself (in other revisions): loading a device's
// claim of them would clash; what imports them still finds them.
const std::set<std::string>& LibyangModules() {
  static const auto* modules = new std::set<std::string>{
      "ietf-yang-metadata",     "yang",
      "ietf-inet-types",        "ietf-yang-types",
      "ietf-datastores",        "ietf-yang-library",
      "ietf-yang-schema-mount", "ietf-yang-structure-ext"};
  return *modules;
}

// A model version that is a YANG revision date (IETF style); OpenConfig
// reports semantic versions, which do not name a file: newest found then.
bool IsRevisionDate(const std::string& version) {
  if (version.size() != 10 || version[4] != '-' || version[7] != '-') {
    return false;
  }
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(version[i]))) {
      return false;
    }
  }
  return true;
}

absl::StatusOr<std::string> ReadPem(const std::string& path,
                                    const char* option) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read ", option, " ", path));
  }
  if (text.str().find("-----BEGIN ") == std::string::npos) {
    return absl::FailedPreconditionError(
        absl::StrCat(option, " ", path, " holds no PEM data"));
  }
  return text.str();
}

::gnmi::GetRequest::DataType ToProtoType(DataType type) {
  switch (type) {
    case DataType::kAll:
      return ::gnmi::GetRequest::ALL;
    case DataType::kConfig:
      return ::gnmi::GetRequest::CONFIG;
    case DataType::kState:
      return ::gnmi::GetRequest::STATE;
    case DataType::kOperational:
      return ::gnmi::GetRequest::OPERATIONAL;
  }
  return ::gnmi::GetRequest::ALL;
}

void SetDuration(int64_t ms, google::protobuf::Duration* duration) {
  duration->set_seconds(ms / 1000);
  duration->set_nanos(static_cast<int32_t>((ms % 1000) * 1000000));
}

}  // namespace

GnmiDriver::GnmiDriver(DeviceSettings settings, DriverContext context,
                       GnmiOptions options)
    : settings_(std::move(settings)),
      context_(std::move(context)),
      options_(std::move(options)),
      log_name_(absl::StrCat("gnmi device '", settings_.name, "'")) {
  if (options_.plaintext) {
    spdlog::warn(
        "{}: PLAINTEXT gRPC to {} (plaintext: true): credentials and data "
        "cross the network unencrypted; use only in a closed lab",
        log_name_, options_.address);
  } else if (options_.insecure_skip_verify) {
    spdlog::warn(
        "{}: TLS server certificate NOT verified (insecure_skip_verify: "
        "true): anyone on the path can impersonate the device",
        log_name_);
  }
}

GnmiDriver::~GnmiDriver() { Close(); }

void GnmiDriver::SetState(ConnectionState state, const std::string& error) {
  std::lock_guard<std::mutex> lock(mutex_);
  status_.state = state;
  status_.last_error = error;
}

void GnmiDriver::PrepareContext(grpc::ClientContext& context,
                                std::chrono::milliseconds deadline) const {
  if (!options_.username.empty()) {
    context.AddMetadata("username", options_.username);
    context.AddMetadata("password", options_.password);
  }
  if (deadline.count() > 0) {
    context.set_deadline(std::chrono::system_clock::now() + deadline);
  }
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
GnmiDriver::Credentials() const {
  if (options_.plaintext) return grpc::InsecureChannelCredentials();
  // Files are read at every connect: renewed certificates are picked up.
  std::string ca, cert, key;
  if (!options_.ca_file.empty()) {
    ASSIGN_OR_RETURN(ca, ReadPem(options_.ca_file, "tls_ca_file"));
  }
  if (!options_.cert_file.empty()) {
    ASSIGN_OR_RETURN(cert, ReadPem(options_.cert_file, "tls_cert_file"));
    ASSIGN_OR_RETURN(key, ReadPem(options_.key_file, "tls_key_file"));
  }
  if (options_.insecure_skip_verify) {
    grpc::experimental::TlsChannelCredentialsOptions tls;
    tls.set_verify_server_certs(false);
    tls.set_check_call_host(false);
    tls.set_certificate_verifier(
        std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
    if (!cert.empty()) {
      tls.set_certificate_provider(
          std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
              std::vector<grpc::experimental::IdentityKeyCertPair>{
                  {key, cert}}));
      tls.watch_identity_key_cert_pairs();
    }
    return grpc::experimental::TlsCredentials(tls);
  }
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ca;  // empty: the system trust store
  ssl.pem_private_key = key;
  ssl.pem_cert_chain = cert;
  return grpc::SslCredentials(ssl);
}

std::string GnmiDriver::Explain(const absl::Status& status,
                                bool connecting) const {
  const std::string message(status.message());
  const std::string lower = absl::AsciiStrToLower(message);
  std::string hint;
  if (absl::StrContains(lower, "certificate_verify_failed") ||
      absl::StrContains(lower, "certificate verify failed")) {
    hint = options_.ca_file.empty()
               ? "TLS: certificate verify failed (the device's certificate "
                 "is not trusted by the system store; set tls_ca_file)"
               : "TLS: certificate verify failed (the device's certificate "
                 "is not signed by tls_ca_file " +
                     options_.ca_file + ")";
  } else if (absl::StrContains(lower, "peer name") ||
             absl::StrContains(lower, "hostname")) {
    hint =
        "TLS: the device's certificate does not name the address "
        "(set tls_server_name)";
  } else if (connecting && !options_.plaintext &&
             (absl::StrContains(lower, "certificate required") ||
              absl::StrContains(lower, "unknown ca") ||
              absl::StrContains(lower, "bad certificate") ||
              absl::StrContains(lower, "socket closed"))) {
    // With TLS 1.3 the server checks the client certificate after the
    // client finished its handshake: a refusal shows up as a closed socket.
    hint = options_.cert_file.empty()
               ? "TLS: the device closed the connection after the handshake: "
                 "it may require a client certificate (set tls_cert_file "
                 "and tls_key_file)"
               : "TLS: the device closed the connection after the handshake: "
                 "it did not accept the client certificate " +
                     options_.cert_file;
  } else if (absl::StrContains(lower, "handshake") ||
             absl::StrContains(lower, "ssl")) {
    hint = "TLS handshake failed";
  } else if (status.code() == absl::StatusCode::kResourceExhausted &&
             absl::StrContains(lower, "failed login")) {
    hint =
        "the device refuses logins from southgate after failed attempts "
        "(check the password)";
  } else if (status.code() == absl::StatusCode::kUnauthenticated) {
    hint = options_.username.empty()
               ? "authentication failed (no username configured)"
               : "authentication failed for user '" + options_.username + "'";
  } else if (status.code() == absl::StatusCode::kDeadlineExceeded) {
    hint = absl::StrCat("no answer within connect_timeout_ms (",
                        options_.connect_timeout.count(), " ms)");
  }
  return hint.empty() ? message : absl::StrCat(hint, ": ", message);
}

absl::Status GnmiDriver::Connect() {
  absl::Status status = Establish();
  if (!status.ok()) return status;
  std::lock_guard<std::mutex> lock(mutex_);
  if (!worker_.joinable() && !stopping_) {
    worker_ = std::thread([this] { Worker(); });
  }
  return absl::OkStatus();
}

absl::Status GnmiDriver::Establish() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return absl::CancelledError(log_name_ + " is closed");
    // The previous error stays visible while connecting again.
    status_.state = ConnectionState::kConnecting;
  }
  auto fail = [this](const absl::Status& cause) {
    absl::Status status(cause.code(),
                        absl::StrCat(log_name_, ": ", Explain(cause, true)));
    SetState(ConnectionState::kError, Explain(cause, true));
    return status;
  };
  auto credentials = Credentials();
  if (!credentials.ok()) return fail(credentials.status());

  grpc::ChannelArguments args;
  // A channel of its own per connection (not gRPC's shared subchannel pool),
  // so every attempt is a fresh connection on this driver's backoff.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS,
              static_cast<int>(options_.keepalive_time.count()));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
              static_cast<int>(options_.keepalive_timeout.count()));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
              static_cast<int>(options_.backoff_initial.count()));
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
              static_cast<int>(options_.backoff_initial.count()));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
              static_cast<int>(options_.backoff_max.count()));
  args.SetMaxReceiveMessageSize(256 * 1024 * 1024);
  if (!options_.server_name.empty()) {
    args.SetSslTargetNameOverride(options_.server_name);
  }
  auto session = std::make_shared<Session>();
  session->channel =
      grpc::CreateCustomChannel(options_.address, *credentials, args);
  session->stub = ::gnmi::gNMI::NewStub(session->channel);

  ::gnmi::CapabilityRequest request;
  ::gnmi::CapabilityResponse capabilities;
  grpc::ClientContext call;
  PrepareContext(call, options_.connect_timeout);
  // Fail fast: a refused connection or TLS failure answers at once, with
  // the reason, instead of waiting for the deadline.
  grpc::Status answer =
      session->stub->Capabilities(&call, request, &capabilities);
  if (!answer.ok()) return fail(FromGrpc(answer, "Capabilities"));

  std::set<::gnmi::Encoding> offered;
  for (int encoding : capabilities.supported_encodings()) {
    offered.insert(static_cast<::gnmi::Encoding>(encoding));
    session->device_encodings.push_back(
        ::gnmi::Encoding_Name(static_cast<::gnmi::Encoding>(encoding)));
  }
  session->gnmi_version = capabilities.gnmi_version();
  if (options_.encoding) {
    if (!offered.count(ToProtoEncoding(*options_.encoding))) {
      return fail(absl::FailedPreconditionError(
          absl::StrCat("encoding: ", WireEncodingName(*options_.encoding),
                       " is configured but the device offers only ",
                       absl::StrJoin(session->device_encodings, ", "))));
    }
    session->encoding = *options_.encoding;
  } else if (offered.count(::gnmi::JSON_IETF)) {
    session->encoding = WireEncoding::kJsonIetf;
  } else if (offered.count(::gnmi::JSON)) {
    session->encoding = WireEncoding::kJson;
  } else if (offered.count(::gnmi::PROTO)) {
    session->encoding = WireEncoding::kProto;
  } else {
    return fail(absl::FailedPreconditionError(absl::StrCat(
        "the device offers none of JSON_IETF, JSON, PROTO (it offers: ",
        absl::StrJoin(session->device_encodings, ", "), ")")));
  }

  absl::Status loaded = LoadSchema(capabilities);
  if (!loaded.ok()) return fail(loaded);

  std::string degraded;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return absl::CancelledError(log_name_ + " is closed");
    session->generation = ++generation_;
    session_ = session;
    link_lost_ = false;
    degraded = degraded_reason_;
    encoding_summary_ =
        absl::StrCat(WireEncodingName(session->encoding), " (device offers ",
                     absl::StrJoin(session->device_encodings, ", "), ")");
    status_.state = ConnectionState::kConnected;
    status_.last_error = degraded.empty() ? "" : "degraded: " + degraded;
  }
  changed_.notify_all();
  spdlog::info("{}: connected to {} ({}, gNMI {}, {} models, encoding {}{})",
               log_name_, options_.address,
               options_.plaintext           ? "plaintext"
               : options_.cert_file.empty() ? "TLS"
                                            : "mutual TLS",
               session->gnmi_version, capabilities.supported_models_size(),
               EncodingSummary(),
               degraded.empty() ? "" : ", degraded: " + degraded);
  return absl::OkStatus();
}

absl::Status GnmiDriver::LoadSchema(
    const ::gnmi::CapabilityResponse& capabilities) {
  std::vector<schema::ModuleSpec> specs;
  for (const ::gnmi::ModelData& model : capabilities.supported_models()) {
    if (model.name().empty() || LibyangModules().count(model.name())) continue;
    schema::ModuleSpec spec;
    spec.name = model.name();
    if (IsRevisionDate(model.version())) spec.revision = model.version();
    spec.features = {"*"};
    specs.push_back(std::move(spec));
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (schema_) {
      // The daemon's translator was made from the first schema: keep it. A
      // device whose models changed needs a reload of the device.
      std::set<std::string> now, before;
      for (const auto& spec : specs) now.insert(spec.name);
      for (const auto& model : models_) before.insert(model.name);
      if (!std::includes(now.begin(), now.end(), before.begin(),
                         before.end())) {
        spdlog::warn(
            "{}: the device's models changed since the first connection; "
            "southgate keeps the first set until the device is reloaded",
            log_name_);
      }
      return absl::OkStatus();
    }
  }
  if (specs.empty()) {
    return absl::FailedPreconditionError(
        "the device advertises no models in Capabilities");
  }
  auto build = [&](const std::vector<schema::ModuleSpec>& modules)
      -> absl::StatusOr<std::shared_ptr<const schema::YangContext>> {
    if (context_.schemas) return context_.schemas->Get(modules);
    return absl::FailedPreconditionError("no schema cache");
  };
  std::vector<std::string> problems;
  auto context = build(specs);
  if (!context.ok()) {
    // Models southgate does not have must not cost the device the ones it
    // has: keep those that compile, report the rest.
    std::vector<schema::ModuleSpec> good;
    for (const auto& spec : specs) {
      auto alone = build({spec});
      if (alone.ok()) {
        good.push_back(spec);
      } else {
        problems.push_back(spec.revision.empty()
                               ? spec.name
                               : absl::StrCat(spec.name, "@", spec.revision));
      }
    }
    if (good.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "none of the device's ", specs.size(),
          " models is in southgate's YANG search path (yang.dirs): ",
          absl::StrJoin(problems, ", ")));
    }
    context = build(good);
    if (!context.ok()) {
      return absl::Status(context.status().code(),
                          absl::StrCat("cannot compile the device's models: ",
                                       context.status().message()));
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  schema_ = *context;
  translator_ = std::make_shared<const schema::GnmiTranslator>(schema_);
  models_ = schema_->Models();
  device_models_.clear();
  for (const ::gnmi::ModelData& model : capabilities.supported_models()) {
    if (model.name().empty() || LibyangModules().count(model.name())) continue;
    device_models_.push_back(
        ModelInfo{model.name(), model.organization(), model.version()});
  }
  degraded_reason_ =
      problems.empty()
          ? ""
          : absl::StrCat("models not in southgate's YANG search path: ",
                         absl::StrJoin(problems, ", "),
                         options_.pass_through
                             ? " (passed through unvalidated)"
                             : " (pass_through is off: unreachable)");
  if (!problems.empty()) spdlog::warn("{}: {}", log_name_, degraded_reason_);
  return absl::OkStatus();
}

void GnmiDriver::LinkLostLocked(const absl::Status& cause) {
  session_.reset();
  link_lost_ = true;
  status_.state = ConnectionState::kError;
  status_.last_error = absl::StrCat("connection lost: ", Explain(cause, false));
  spdlog::warn("{}: {}", log_name_, status_.last_error);
}

void GnmiDriver::ReportLinkLoss(const Session& session,
                                const absl::Status& cause) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!session_ || session_->generation != session.generation) return;
    LinkLostLocked(cause);
  }
  changed_.notify_all();
}

void GnmiDriver::Worker() {
  std::mt19937_64 random(
      std::hash<std::string>{}(settings_.name) ^
      static_cast<uint64_t>(
          std::chrono::steady_clock::now().time_since_epoch().count()));
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  while (true) {
    std::shared_ptr<const Session> session;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
      session = session_;
    }
    if (session) {
      // Watch the channel: leaving READY (peer closed, keepalive failed)
      // is checked with a Capabilities probe.
      grpc_connectivity_state state = session->channel->GetState(false);
      if (state == GRPC_CHANNEL_READY) {
        session->channel->WaitForStateChange(
            state,
            std::chrono::system_clock::now() + std::chrono::milliseconds(250));
        continue;
      }
      ::gnmi::CapabilityRequest request;
      ::gnmi::CapabilityResponse response;
      grpc::ClientContext call;
      PrepareContext(call, options_.connect_timeout);
      grpc::Status probe =
          session->stub->Capabilities(&call, request, &response);
      if (probe.ok()) continue;
      ReportLinkLoss(*session, FromGrpc(probe, "Capabilities"));
    }
    // Reconnect with backoff; the delay starts over after every success.
    auto delay = options_.backoff_initial;
    for (uint64_t attempt = 1;; ++attempt) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) return;
      }
      absl::Status status = Establish();
      if (status.ok()) {
        std::lock_guard<std::mutex> lock(mutex_);
        ++status_.reconnects;
        break;
      }
      auto wait = std::chrono::milliseconds(
          static_cast<int64_t>(delay.count() * jitter(random)));
      SetState(ConnectionState::kError,
               absl::StrCat("connection lost; reconnecting (attempt ", attempt,
                            "): ", Status().last_error));
      spdlog::warn("{}: reconnect attempt {} failed: {}; retrying in {} ms",
                   log_name_, attempt, std::string(status.message()),
                   wait.count());
      std::unique_lock<std::mutex> lock(mutex_);
      if (changed_.wait_for(lock, wait, [this] { return stopping_; })) return;
      delay = std::min(options_.backoff_max,
                       std::chrono::milliseconds(static_cast<int64_t>(
                           delay.count() * options_.backoff_multiplier)));
    }
  }
}

void GnmiDriver::Close() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    session_.reset();
    status_.state = ConnectionState::kDisconnected;
    status_.last_error = "";
  }
  changed_.notify_all();
  if (worker_.joinable() && worker_.get_id() != std::this_thread::get_id()) {
    worker_.join();
  }
}

DeviceStatus GnmiDriver::Status() const {
  std::lock_guard<std::mutex> lock(mutex_);
  DeviceStatus status = status_;
  if (session_) {
    status.encoding = WireEncodingName(session_->encoding);
    status.device_encodings = session_->device_encodings;
  }
  return status;
}

std::shared_ptr<const schema::YangContext> GnmiDriver::Schema() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return schema_;
}

std::shared_ptr<const schema::GnmiTranslator> GnmiDriver::Translator() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return translator_;
}

std::vector<ModelInfo> GnmiDriver::Models() const {
  std::lock_guard<std::mutex> lock(mutex_);
  // Passed-through models are served too: clients may ask for them.
  return options_.pass_through ? device_models_ : models_;
}

bool GnmiDriver::PassesThroughUnknownPaths() const {
  return options_.pass_through;
}

std::string GnmiDriver::EncodingSummary() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return encoding_summary_;
}

std::string GnmiDriver::degraded_reason() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return degraded_reason_;
}

bool GnmiDriver::SupportsConfirmedCommit() const {
  return options_.commit_extension;
}

bool GnmiDriver::closed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stopping_;
}

std::shared_ptr<const Session> GnmiDriver::CurrentSession() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return session_;
}

std::shared_ptr<const Session> GnmiDriver::WaitSession(
    uint64_t after_generation, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_for(lock, timeout, [&] {
    return stopping_ || (session_ && session_->generation > after_generation);
  });
  if (session_ && session_->generation > after_generation) return session_;
  return nullptr;
}

absl::StatusOr<std::shared_ptr<const Session>> GnmiDriver::ConnectedSession()
    const {
  auto session = CurrentSession();
  if (!session || !Translator()) {
    return absl::UnavailableError(
        absl::StrCat(log_name_, " is not connected: ", Status().last_error));
  }
  return session;
}

absl::Status GnmiDriver::Answered(const Session& session,
                                  const grpc::Status& answer,
                                  const char* operation) {
  if (answer.ok()) return absl::OkStatus();
  absl::Status status =
      FromGrpc(answer, absl::StrCat(log_name_, ": ", operation));
  if (status.code() == absl::StatusCode::kUnavailable) {
    ReportLinkLoss(session, status);
  }
  return status;
}

absl::StatusOr<std::string> GnmiDriver::Get(
    const std::vector<std::string>& xpaths, DataType type) {
  ASSIGN_OR_RETURN(GetResult result, GetWithTimestamp(xpaths, type));
  return std::move(result.document);
}

absl::StatusOr<GetResult> GnmiDriver::GetWithTimestamp(
    const std::vector<std::string>& xpaths_in, DataType type) {
  ASSIGN_OR_RETURN(auto session, ConnectedSession());
  auto translator = Translator();
  ::gnmi::GetRequest request;
  if (options_.target) request.mutable_prefix()->set_target(*options_.target);
  request.set_type(ToProtoType(type));
  request.set_encoding(ToProtoEncoding(session->encoding));
  std::vector<std::string> xpaths = xpaths_in;
  if (xpaths.empty()) xpaths.push_back("/");
  for (const std::string& xpath : xpaths) {
    ASSIGN_OR_RETURN(*request.add_path(), translator->ToGnmiPath(xpath));
  }
  ::gnmi::GetResponse response;
  grpc::ClientContext call;
  PrepareContext(call, options_.rpc_timeout);
  RETURN_IF_ERROR(
      Answered(*session, session->stub->Get(&call, request, &response), "Get"));
  GetResult result;
  schema::DataTree tree(translator->context());
  for (const ::gnmi::Notification& notification : response.notification()) {
    // The newest of the device's notifications dates the answer.
    result.timestamp_ns =
        std::max(result.timestamp_ns, notification.timestamp());
    const ::gnmi::Path prefix = WithoutTarget(notification.prefix());
    for (const ::gnmi::Update& update : notification.update()) {
      absl::Status merged = MergeUpdate(*translator, prefix, update, tree);
      if (merged.code() == absl::StatusCode::kNotFound) {
        // A module southgate has not loaded: nothing can address it.
        spdlog::debug("{}: Get: skipped data outside the loaded models: {}",
                      log_name_, std::string(merged.message()));
        continue;
      }
      if (!merged.ok()) {
        return absl::InternalError(absl::StrCat(
            log_name_,
            " answered Get with data its models reject: ", merged.message()));
      }
    }
  }
  ASSIGN_OR_RETURN(result.document, tree.ToJsonIetf());
  return result;
}

template <typename Request, typename Response>
absl::StatusOr<std::string> GnmiDriver::Forward(
    const std::string& request_bytes, const char* operation,
    grpc::Status (::gnmi::gNMI::Stub::*rpc)(grpc::ClientContext*,
                                            const Request&, Response*)) {
  ASSIGN_OR_RETURN(auto session, ConnectedSession());
  Request request;
  if (!request.ParseFromString(request_bytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unreadable ", operation, "Request"));
  }
  if (options_.target) {
    request.mutable_prefix()->set_target(*options_.target);
  } else {
    request.mutable_prefix()->clear_target();
  }
  Response response;
  grpc::ClientContext call;
  PrepareContext(call, options_.rpc_timeout);
  RETURN_IF_ERROR(
      Answered(*session, (session->stub.get()->*rpc)(&call, request, &response),
               operation));
  return response.SerializeAsString();
}

absl::StatusOr<std::string> GnmiDriver::GetNative(
    const std::string& get_request) {
  if (!options_.pass_through) return Driver::GetNative(get_request);
  return Forward<::gnmi::GetRequest, ::gnmi::GetResponse>(
      get_request, "Get", &::gnmi::gNMI::Stub::Get);
}

absl::StatusOr<std::string> GnmiDriver::SetNative(
    const std::string& set_request) {
  if (!options_.pass_through) return Driver::SetNative(set_request);
  return Forward<::gnmi::SetRequest, ::gnmi::SetResponse>(
      set_request, "Set", &::gnmi::gNMI::Stub::Set);
}

absl::Status GnmiDriver::Set(const Transaction& transaction) {
  return SetWithTimestamp(transaction).status();
}

absl::StatusOr<int64_t> GnmiDriver::SetWithTimestamp(
    const Transaction& transaction) {
  ASSIGN_OR_RETURN(auto session, ConnectedSession());
  auto translator = Translator();
  ::gnmi::SetRequest request;
  if (options_.target) request.mutable_prefix()->set_target(*options_.target);
  const WireEncoding encoding = session->encoding;
  for (const Edit& edit : transaction.edits) {
    if (edit.op == Edit::Op::kDelete) {
      ASSIGN_OR_RETURN(*request.add_delete_(),
                       translator->ToGnmiPath(edit.xpath));
      continue;
    }
    ASSIGN_OR_RETURN(std::vector<::gnmi::Update> updates,
                     EditToUpdates(*translator, edit, encoding));
    // PROTO carries leaves only: is this edit's node itself a leaf?
    ASSIGN_OR_RETURN(::gnmi::Path node_path,
                     translator->ToGnmiPath(edit.xpath));
    const bool per_leaf =
        encoding == WireEncoding::kProto &&
        !(updates.size() == 1 && updates.front().path().SerializeAsString() ==
                                     node_path.SerializeAsString());
    if (edit.op == Edit::Op::kReplace && per_leaf) {
      // PROTO carries leaves only: a replace of an inner node is a delete
      // of it followed by its leaves (gNMI applies deletes first).
      ASSIGN_OR_RETURN(*request.add_delete_(),
                       translator->ToGnmiPath(edit.xpath));
      for (auto& update : updates) *request.add_update() = std::move(update);
      continue;
    }
    auto* list = edit.op == Edit::Op::kReplace ? request.mutable_replace()
                                               : request.mutable_update();
    for (auto& update : updates) *list->Add() = std::move(update);
  }
  const CommitAction& commit = transaction.commit;
  if (commit.kind != CommitAction::Kind::kNone) {
    ::gnmi_ext::Commit* ext = request.add_extension()->mutable_commit();
    ext->set_id(commit.id);
    switch (commit.kind) {
      case CommitAction::Kind::kCommit:
        SetDuration(commit.rollback_duration_ms,
                    ext->mutable_commit()->mutable_rollback_duration());
        break;
      case CommitAction::Kind::kConfirm:
        ext->mutable_confirm();
        break;
      case CommitAction::Kind::kCancel:
        ext->mutable_cancel();
        break;
      case CommitAction::Kind::kSetRollbackDuration:
        SetDuration(
            commit.rollback_duration_ms,
            ext->mutable_set_rollback_duration()->mutable_rollback_duration());
        break;
      case CommitAction::Kind::kNone:
        break;
    }
  }
  ::gnmi::SetResponse response;
  grpc::ClientContext call;
  PrepareContext(call, options_.rpc_timeout);
  RETURN_IF_ERROR(
      Answered(*session, session->stub->Set(&call, request, &response), "Set"));
  return response.timestamp();
}

absl::StatusOr<std::unique_ptr<Subscription>> GnmiDriver::Subscribe(
    const std::vector<SubscriptionSpec>& specs,
    std::shared_ptr<NotificationSink> sink) {
  if (!sink) return absl::InvalidArgumentError("no sink");
  if (specs.empty()) return absl::InvalidArgumentError("no subscription paths");
  RETURN_IF_ERROR(ConnectedSession().status());
  auto translator = Translator();
  for (const SubscriptionSpec& spec : specs) {
    if (!spec.native_path.empty() && !options_.pass_through) {
      return absl::NotFoundError(
          absl::StrCat(spec.xpath, " is outside the loaded models"));
    }
  }
  ASSIGN_OR_RETURN(auto request,
                   BuildSubscribeRequest(*this, *translator, specs));
  return GnmiSubscription::Start(this, std::move(request), specs,
                                 std::move(sink));
}

absl::StatusOr<std::unique_ptr<Driver>> CreateGnmiDriver(
    const DeviceSettings& settings, const DriverContext& context) {
  ASSIGN_OR_RETURN(GnmiOptions options, ParseGnmiOptions(settings));
  return std::make_unique<GnmiDriver>(settings, context, std::move(options));
}

}  // namespace southgate::drivers::gnmi_driver
