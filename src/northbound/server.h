// The gRPC server: TLS (or, only when configured, plaintext), gNMI,
// grpc.health.v1 and server reflection.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "config/limits.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/security/tls_certificate_provider.h"

namespace southgate::northbound {

struct ServerOptions {
  std::string listen = "127.0.0.1:9339";
  bool insecure = false;
  // TLS material as files, re-read when they change (rotation): gRPC's
  // FileWatcherCertificateProvider checks them every `tls_refresh_seconds`
  // and new handshakes use what it read last. Only ever point these at
  // validated files (security::TlsWatcher publishes them).
  std::string cert_file;
  std::string key_file;
  std::string ca_file;  // client CA bundle; empty = none
  unsigned tls_refresh_seconds = 1;
  // none / request (verify when presented) / require (and verify).
  grpc_ssl_client_certificate_request_type client_cert =
      GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
  int max_message_bytes = 64 << 20;  // largest response sent
  // Receive size, HTTP/2 streams, keepalive, connection age, memory.
  config::Limits limits;
};

class Server {
 public:
  // Listens and serves `services` (not owned; they outlive the server).
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const ServerOptions& options,
      const std::vector<grpc::Service*>& services);
  grpc::HealthCheckServiceInterface* health() const;
  // The port actually bound (useful with port 0).
  int port() const { return port_; }
  // Stops accepting, cancels calls still running after `grace`, waits.
  void Shutdown(std::chrono::milliseconds grace);

 private:
  std::shared_ptr<grpc::experimental::CertificateProviderInterface>
      certificates_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace southgate::northbound
