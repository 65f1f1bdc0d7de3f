// A NETCONF session that only receives RFC 5277 notifications: connected
// like Session (SSH, host-key check, authentication), then
// <create-subscription> on one stream. It is kept apart from the session
// that carries RPCs so that notifications never wait behind (or starve)
// replies, and libnetconf2's one-reader-per-session rule holds: one thread
// calls Receive.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "netconf/session.h"

namespace southgate::netconf {

class NotificationSession {
 public:
  // Connects and subscribes to `stream` ("NETCONF" is RFC 5277's default
  // stream). Errors as Session::ConnectSsh; the device's rpc-error when it
  // refuses the subscription. `cancel` (optional) abandons the open from
  // another thread: CANCELLED or UNAVAILABLE at once.
  static absl::StatusOr<std::unique_ptr<NotificationSession>> Open(
      const SshOptions& options, const std::string& stream,
      std::chrono::milliseconds rpc_timeout, ConnectCancel* cancel = nullptr);
  ~NotificationSession();
  NotificationSession(const NotificationSession&) = delete;
  NotificationSession& operator=(const NotificationSession&) = delete;

  const std::vector<std::string>& capabilities() const;
  uint32_t id() const;
  // The socket to poll(2) for readability before Receive(0). libssh may
  // hold a whole message already read from it: after it was readable,
  // call Receive until it returns nullopt.
  int socket_fd() const;

  // Waits up to `timeout` for the next notification and returns its content
  // (the event element, e.g. netconf-config-change) as RFC 7951 JSON;
  // nullopt when none arrived in time. UNAVAILABLE once the session is gone;
  // DATA_LOSS for a notification that arrived but could not be read (the
  // session goes on).
  absl::StatusOr<std::optional<std::string>> Receive(
      std::chrono::milliseconds timeout);

 private:
  explicit NotificationSession(std::unique_ptr<Session> session);
  std::unique_ptr<Session> session_;
};

}  // namespace southgate::netconf
