// The gRPC server: TLS (or, only when configured, plaintext), gNMI,
// grpc.health.v1 and server reflection.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"

namespace southgate::northbound {

struct ServerOptions {
  std::string listen = "127.0.0.1:9339";
  bool insecure = false;
  std::string cert_pem;
  std::string key_pem;
  std::string client_ca_pem;  // optional: request and verify client certs
  int max_message_bytes = 64 << 20;
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
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace southgate::northbound
