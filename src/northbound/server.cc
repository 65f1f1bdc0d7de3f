#include "northbound/server.h"

#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "spdlog/spdlog.h"

namespace southgate::northbound {

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    const ServerOptions& options, const std::vector<grpc::Service*>& services) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  std::shared_ptr<grpc::ServerCredentials> credentials;
  if (options.insecure) {
    spdlog::warn(
        "gNMI on {} is PLAINTEXT (server.insecure: true): credentials and "
        "data cross the network unencrypted; use only in a closed lab",
        options.listen);
    credentials = grpc::InsecureServerCredentials();
  }
  auto server = std::unique_ptr<Server>(new Server());
  if (!options.insecure) {
    // gRPC's TLS stack negotiates TLS 1.2 or newer only. The provider
    // re-reads the files; established connections keep their session.
    server->certificates_ =
        std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
            options.key_file, options.cert_file, options.ca_file,
            options.tls_refresh_seconds);
    grpc::experimental::TlsServerCredentialsOptions tls(server->certificates_);
    tls.watch_identity_key_cert_pairs();
    if (!options.ca_file.empty()) tls.watch_root_certs();
    tls.set_cert_request_type(options.client_cert);
    credentials = grpc::experimental::TlsServerCredentials(tls);
  }

  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, credentials, &server->port_);
  const config::Limits& limits = options.limits;
  builder.SetMaxReceiveMessageSize(static_cast<int>(limits.max_message_bytes));
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  // Flood resistance at the HTTP/2 layer (docs/security.md): streams per
  // connection, header size, ping abuse, connection age, gRPC's memory.
  builder.AddChannelArgument(
      GRPC_ARG_MAX_CONCURRENT_STREAMS,
      static_cast<int>(limits.max_streams_per_connection));
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE,
                             static_cast<int>(limits.max_metadata_bytes));
  // Detect dead clients; allow gnmic's default keepalive pings, refuse
  // more frequent ones (GOAWAY after max_ping_strikes).
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
      static_cast<int>(limits.keepalive_min_ping_interval.count()));
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MAX_PING_STRIKES,
      static_cast<int>(limits.keepalive_max_ping_strikes));
  if (limits.max_connection_age.count() > 0) {
    builder.AddChannelArgument(
        GRPC_ARG_MAX_CONNECTION_AGE_MS,
        static_cast<int>(limits.max_connection_age.count()));
    if (limits.max_connection_age_grace.count() > 0) {
      builder.AddChannelArgument(
          GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
          static_cast<int>(limits.max_connection_age_grace.count()));
    }
  }
  if (limits.max_connection_idle.count() > 0) {
    builder.AddChannelArgument(
        GRPC_ARG_MAX_CONNECTION_IDLE_MS,
        static_cast<int>(limits.max_connection_idle.count()));
  }
  if (limits.grpc_memory_bytes > 0) {
    grpc::ResourceQuota quota("southgate");
    quota.Resize(static_cast<size_t>(limits.grpc_memory_bytes));
    builder.SetResourceQuota(quota);
  }
  for (grpc::Service* service : services) builder.RegisterService(service);
  server->server_ = builder.BuildAndStart();
  if (!server->server_ || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen,
                     " (address in use, not local, or malformed)"));
  }
  if (auto* health = server->server_->GetHealthCheckService()) {
    health->SetServingStatus(true);
  }
  return server;
}

grpc::HealthCheckServiceInterface* Server::health() const {
  return server_->GetHealthCheckService();
}

void Server::Shutdown(std::chrono::milliseconds grace) {
  if (!server_) return;
  if (auto* health = server_->GetHealthCheckService()) {
    health->SetServingStatus(false);
  }
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  server_->Wait();
  server_.reset();
}

}  // namespace southgate::northbound
