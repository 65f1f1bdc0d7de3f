// The one wrapper of libnetconf2 (and libssh): RAII owners of NETCONF
// sessions and replies, SSH connect with a timeout, the daemon's own
// authentication and host-key callbacks. Nothing else in southgate calls
// libnetconf2. Data crosses this boundary as XML text; src/schema parses it.
//
// A Session is used by one thread at a time (callers lock around it):
// libnetconf2 requires nc_recv_reply on one session from a single thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct nc_session;
struct nc_rpc;

namespace southgate::netconf {

// What the sessions to one server (host, port, schema search path) share:
// the libyang context libnetconf2 fills from the server's modules (one copy
// instead of one per session: a context of ~30 modules costs most of a
// megabyte) and the lock that makes their NETCONF set-up (hello, context
// fill, any <get-schema>) run one at a time. netconfd 2.13 leaves sessions
// without a reply when several send <get-schema> at once, and libnetconf2
// sends some on every set-up with a context of its own (imports without a
// revision). TCP and SSH (key exchange, authentication) stay parallel.
class ServerContext;

struct SshOptions {
  std::string host;
  uint16_t port = 830;
  std::string username;
  std::string password;          // empty: no password authentication
  std::string private_key_file;  // empty: no public-key authentication
  std::string public_key_file;   // default: private_key_file + ".pub"
  // Host key check: a pinned "SHA256:<base64>" fingerprint (as ssh-keygen
  // -l prints it) or an OpenSSH known_hosts file. Exactly one of them, unless
  // insecure_skip_host_key_check.
  std::string host_key_sha256;
  std::string known_hosts_file;
  bool insecure_skip_host_key_check = false;
  std::chrono::milliseconds connect_timeout{5000};
  // Directory libnetconf2 searches for YANG modules before using get-schema.
  std::string schema_searchpath;
};

// One <rpc-error> of a reply.
struct RpcError {
  std::string type;
  std::string tag;
  std::string message;
  std::string path;
};

// The gRPC-style code a NETCONF error-tag maps to (RFC 6241 appendix A).
absl::StatusCode CodeForErrorTag(std::string_view tag);
// An error status for rpc-errors: code of the first error, all messages.
absl::Status ErrorStatus(std::string_view what,
                         const std::vector<RpcError>& errors);
// The rpc-errors in an <rpc-reply> printed as XML.
std::vector<RpcError> ParseRpcErrors(std::string_view reply_xml);

enum class Datastore { kRunning, kCandidate, kStartup };

// Lets another thread abandon a connect (and what the caller then does on
// the same socket) that is in progress: Cancel() shuts the socket down, so
// a wait on the device, wherever libssh or libnetconf2 is in it, ends at
// once with an error. Thread-safe; one connect at a time.
class ConnectCancel {
 public:
  ConnectCancel() = default;
  ~ConnectCancel() { Detach(); }
  ConnectCancel(const ConnectCancel&) = delete;
  ConnectCancel& operator=(const ConnectCancel&) = delete;

  void Cancel();
  bool cancelled() const;
  // Watches `socket` (a duplicate is kept, so the number stays valid after
  // the owner closed it); false, and nothing watched, when already
  // cancelled.
  bool Attach(int socket);
  // Stops watching (the connect is over).
  void Detach();

 private:
  mutable std::mutex mutex_;
  bool cancelled_ = false;
  int socket_ = -1;
};

class Session {
 public:
  // TCP connect, SSH (host key check, auth) and the NETCONF set-up (hello,
  // context), each within connect_timeout. UNAVAILABLE when the device cannot
  // be reached, UNAUTHENTICATED for refused credentials, PERMISSION_DENIED for
  // a host key that does not match.
  // With `cancel`, the socket is attached to it as soon as it is connected
  // (the caller detaches); CANCELLED once it was cancelled.
  static absl::StatusOr<std::unique_ptr<Session>> ConnectSsh(
      const SshOptions& options, ConnectCancel* cancel = nullptr);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const std::vector<std::string>& capabilities() const { return capabilities_; }
  // Whether a capability URI starting with `prefix` was advertised (the
  // part before any '?').
  bool HasCapability(std::string_view prefix) const;
  uint32_t id() const;
  // False once the transport failed or the server closed the session.
  bool alive() const;
  // The TCP socket under the session, for poll(2) (-1 if unknown).
  int socket_fd() const { return socket_fd_; }

  void set_rpc_timeout(std::chrono::milliseconds timeout) {
    rpc_timeout_ = timeout;
  }

  // <get-config>/<get> with an optional filter: subtree XML (the children
  // of <filter>, starting with '<') or an XPath (:xpath, module-qualified
  // names; libnetconf2 declares their namespaces). The children of the
  // reply's <data> as XML.
  absl::StatusOr<std::string> GetConfig(Datastore source,
                                        const std::string& subtree_filter);
  absl::StatusOr<std::string> Get(const std::string& subtree_filter);
  // <edit-config> with default-operation merge; `content` holds the
  // children of <config>.
  absl::Status EditConfig(Datastore target, const std::string& content,
                          bool rollback_on_error);
  absl::Status Lock(Datastore target);
  absl::Status Unlock(Datastore target);
  absl::Status DiscardChanges();
  // <commit>; confirmed with `confirm_timeout_s` > 0.
  absl::Status Commit(bool confirmed, uint32_t confirm_timeout_s);
  absl::Status CancelCommit();
  // RFC 6022 <get-schema> in YANG format: the module text.
  absl::StatusOr<std::string> GetSchema(const std::string& identifier,
                                        const std::string& version);

 private:
  // Shares the connect and the raw session (its own reader thread).
  friend class NotificationSession;
  Session(nc_session* session, std::shared_ptr<ServerContext> server);
  struct Reply;
  // Sends `rpc` (taking ownership) and waits for its reply: the printed
  // <data> (or "" for <ok/>), or the mapped rpc-error.
  absl::StatusOr<std::string> Call(nc_rpc* rpc, std::string_view what,
                                   bool want_data);

  nc_session* session_;
  // Outlives session_ (freed first in ~Session): session_ uses its context.
  std::shared_ptr<ServerContext> server_;
  int socket_fd_ = -1;
  std::vector<std::string> capabilities_;
  std::chrono::milliseconds rpc_timeout_{10000};
};

}  // namespace southgate::netconf
