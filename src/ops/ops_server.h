// The operations HTTP endpoint on its own port (ops.listen): Prometheus
// /metrics, /healthz (the process answers) and /readyz (ready to serve;
// 503 with the reason otherwise), for Kubernetes probes and scrapers.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ops/metrics.h"

namespace southgate::ops {

struct Readiness {
  bool ready = false;
  std::string reason;  // why not ready; shown in the 503 body
};

class OpsServer {
 public:
  // Binds host:port (port 0 = any free port) and serves in the background.
  // `readiness` is called for every /readyz request.
  static absl::StatusOr<std::unique_ptr<OpsServer>> Start(
      const std::string& host, int port, Registry& registry,
      std::function<Readiness()> readiness);
  ~OpsServer();
  int port() const { return port_; }
  // Stops accepting and waits for requests in flight.
  void Stop();

 private:
  struct Impl;
  explicit OpsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace southgate::ops
