#include "ops/ops_server.h"

#include <thread>

#include "absl/strings/str_cat.h"
// The one translation unit that includes cpp-httplib (header-only, large).
#include "httplib.h"
#include "spdlog/spdlog.h"

namespace southgate::ops {

struct OpsServer::Impl {
  httplib::Server http;
  std::thread thread;
};

OpsServer::OpsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

OpsServer::~OpsServer() { Stop(); }

absl::StatusOr<std::unique_ptr<OpsServer>> OpsServer::Start(
    const std::string& host, int port, Registry& registry,
    std::function<Readiness()> readiness) {
  auto impl = std::make_unique<Impl>();
  httplib::Server& http = impl->http;
  // Probes and scrapes are small and rare: two threads are plenty, and a
  // stuck client cannot hold one for long.
  http.new_task_queue = [] { return new httplib::ThreadPool(2); };
  http.set_read_timeout(5, 0);
  http.set_write_timeout(5, 0);
  http.set_keep_alive_max_count(100);
  // cpp-httplib's default also sets SO_REUSEPORT, which would let a second
  // daemon share the port silently; SO_REUSEADDR alone allows a quick
  // restart and still reports "address in use".
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });

  http.Get("/metrics",
           [&registry](const httplib::Request&, httplib::Response& response) {
             response.set_content(registry.Expose(),
                                  "text/plain; version=0.0.4; charset=utf-8");
           });
  http.Get("/healthz",
           [](const httplib::Request&, httplib::Response& response) {
             response.set_content("ok\n", "text/plain");
           });
  http.Get(
      "/readyz", [readiness = std::move(readiness)](
                     const httplib::Request&, httplib::Response& response) {
        Readiness state = readiness();
        if (state.ready) {
          response.set_content("ready\n", "text/plain");
        } else {
          response.status = 503;
          response.set_content(absl::StrCat("not ready: ", state.reason, "\n"),
                               "text/plain");
        }
      });

  // cpp-httplib wants the bare host for IPv6 ("::1"), which is what the
  // caller passes (config::ParseListenAddress strips the brackets).
  int bound = port == 0 ? http.bind_to_any_port(host)
                        : (http.bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    return absl::UnavailableError(
        absl::StrCat("ops endpoint: cannot listen on ", host, ":", port,
                     " (address in use or not local)"));
  }
  impl->thread = std::thread([&http] { http.listen_after_bind(); });
  // stop() is a no-op until the accept loop runs; wait for it (bounded) so
  // that an early Stop() cannot leave the thread listening forever.
  for (int i = 0; i < 5000 && !http.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto server = std::unique_ptr<OpsServer>(new OpsServer(std::move(impl)));
  server->port_ = bound;
  return server;
}

void OpsServer::Stop() {
  if (!impl_) return;
  impl_->http.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_.reset();
}

}  // namespace southgate::ops
