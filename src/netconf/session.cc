#include "netconf/session.h"

// Debian builds libnetconf2 with SSH and TLS; its headers declare the SSH
// client API only with this defined.
#ifndef NC_ENABLED_SSH
#define NC_ENABLED_SSH
#endif

#include <arpa/inet.h>
#include <fcntl.h>
#include <libnetconf2/log.h>
#include <libnetconf2/messages_client.h>
#include <libnetconf2/netconf.h>
#include <libnetconf2/session_client.h>
#include <libssh/libssh.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/executor.h"
#include "schema/netconf_xml.h"
#include "spdlog/spdlog.h"

namespace southgate::netconf {
namespace {

void LogFromLibnetconf2(const struct nc_session*, NC_VERB_LEVEL level,
                        const char* message) {
  // libnetconf2 reports expected fallbacks (no yang-library get-data on
  // older servers) as errors; the driver reports what matters itself.
  switch (level) {
    case NC_VERB_ERROR:
    case NC_VERB_WARNING:
      spdlog::debug("libnetconf2: {}", message);
      break;
    default:
      spdlog::trace("libnetconf2: {}", message);
  }
}

void InitOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    nc_client_init();
    nc_verbosity(spdlog::should_log(spdlog::level::trace) ? NC_VERB_VERBOSE
                                                          : NC_VERB_WARNING);
    nc_set_print_clb_session(&LogFromLibnetconf2);
  });
}

// What the per-thread libnetconf2 callbacks need while one connect runs.
struct AuthState {
  const SshOptions* options = nullptr;
  std::string host_key_problem;
};

// Checks the server's host key against the pinned fingerprint or the
// known_hosts file; 0 when it matches.
int HostKeyCallback(const char*, ssh_session ssh, void* priv) {
  auto* state = static_cast<AuthState*>(priv);
  const SshOptions& options = *state->options;
  if (options.insecure_skip_host_key_check) return 0;
  if (!options.host_key_sha256.empty()) {
    ssh_key key = nullptr;
    if (ssh_get_server_publickey(ssh, &key) != SSH_OK) {
      state->host_key_problem = "the server sent no host key";
      return -1;
    }
    unsigned char* hash = nullptr;
    size_t length = 0;
    int rc =
        ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &length);
    ssh_key_free(key);
    if (rc != 0) {
      state->host_key_problem = "cannot hash the host key";
      return -1;
    }
    char* text =
        ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, length);
    ssh_clean_pubkey_hash(&hash);
    std::string fingerprint = text ? text : "";
    ssh_string_free_char(text);
    // ssh-keygen prints the base64 without padding, as libssh does.
    std::string pinned = options.host_key_sha256;
    while (!pinned.empty() && pinned.back() == '=') pinned.pop_back();
    if (pinned.rfind("SHA256:", 0) != 0) pinned = "SHA256:" + pinned;
    if (fingerprint == pinned) return 0;
    state->host_key_problem =
        absl::StrCat("host key mismatch: the server's key is ", fingerprint,
                     ", the pinned fingerprint is ", pinned);
    return -1;
  }
  if (!options.known_hosts_file.empty()) {
    ssh_options_set(ssh, SSH_OPTIONS_KNOWNHOSTS,
                    options.known_hosts_file.c_str());
    switch (ssh_session_is_known_server(ssh)) {
      case SSH_KNOWN_HOSTS_OK:
        return 0;
      case SSH_KNOWN_HOSTS_CHANGED:
      case SSH_KNOWN_HOSTS_OTHER:
        state->host_key_problem = absl::StrCat(
            "host key mismatch: the server's key differs from the one in ",
            options.known_hosts_file);
        return -1;
      case SSH_KNOWN_HOSTS_UNKNOWN:
      case SSH_KNOWN_HOSTS_NOT_FOUND:
        state->host_key_problem =
            absl::StrCat("host key unknown: no entry for the server in ",
                         options.known_hosts_file);
        return -1;
      default:
        state->host_key_problem =
            absl::StrCat("cannot read known_hosts ", options.known_hosts_file);
        return -1;
    }
  }
  state->host_key_problem =
      "no host key check configured (host_key_sha256 or known_hosts)";
  return -1;
}

// Connects a TCP socket within `timeout`: libnetconf2's own SSH connect has
// no timeout at all.
absl::StatusOr<int> ConnectSocket(const std::string& host, uint16_t port,
                                  std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* result = nullptr;
  std::string service = std::to_string(port);
  int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &result);
  if (rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot resolve ", host, ": ", gai_strerror(rc)));
  }
  std::string last_error = "no address";
  for (addrinfo* ai = result; ai; ai = ai->ai_next) {
    int fd =
        socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    int c = connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (c != 0 && errno == EINPROGRESS) {
      pollfd pfd{fd, POLLOUT, 0};
      int ready = poll(&pfd, 1, static_cast<int>(timeout.count()));
      if (ready == 0) {
        last_error = absl::StrCat("timed out after ", timeout.count(), " ms");
        close(fd);
        continue;
      }
      int err = 0;
      socklen_t len = sizeof(err);
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      c = err == 0 ? 0 : -1;
      errno = err;
    }
    if (c != 0) {
      last_error = strerror(errno);
      close(fd);
      continue;
    }
    fcntl(fd, F_SETFL, flags);
    // TCP keepalive as a second line behind the NETCONF keepalive.
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
    // RPCs are small request/reply exchanges: without TCP_NODELAY, Nagle
    // and delayed ACKs cost about 40 ms per RPC.
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    freeaddrinfo(result);
    return fd;
  }
  freeaddrinfo(result);
  return absl::UnavailableError(
      absl::StrCat("cannot connect to ", host, ":", port, ": ", last_error));
}

NC_DATASTORE ToNc(Datastore datastore) {
  switch (datastore) {
    case Datastore::kRunning:
      return NC_DATASTORE_RUNNING;
    case Datastore::kCandidate:
      return NC_DATASTORE_CANDIDATE;
    case Datastore::kStartup:
      return NC_DATASTORE_STARTUP;
  }
  return NC_DATASTORE_RUNNING;
}

// Texts of every <name> element (any prefix) in `xml`, within [begin, end).
std::string ElementText(std::string_view xml, std::string_view name) {
  size_t pos = 0;
  while ((pos = xml.find(name, pos)) != std::string_view::npos) {
    bool open = pos > 0 && (xml[pos - 1] == '<' || xml[pos - 1] == ':');
    size_t after = pos + name.size();
    if (!open || after >= xml.size() ||
        (xml[after] != '>' && xml[after] != ' ')) {
      pos = after;
      continue;
    }
    // Not a closing tag.
    size_t lt = xml.rfind('<', pos);
    if (lt != std::string_view::npos && lt + 1 < xml.size() &&
        xml[lt + 1] == '/') {
      pos = after;
      continue;
    }
    size_t gt = xml.find('>', after);
    if (gt == std::string_view::npos) return "";
    if (xml[gt - 1] == '/') return "";
    size_t end = xml.find('<', gt);
    if (end == std::string_view::npos) return "";
    std::string text(xml.substr(gt + 1, end - gt - 1));
    // Undo the XML escapes a printer uses.
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '&') {
        size_t semi = text.find(';', i);
        std::string_view entity(text.data() + i, semi - i + 1);
        if (entity == "&lt;")
          out += '<';
        else if (entity == "&gt;")
          out += '>';
        else if (entity == "&amp;")
          out += '&';
        else if (entity == "&quot;")
          out += '"';
        else if (entity == "&apos;")
          out += '\'';
        else
          out += entity;
        i = semi;
      } else {
        out += text[i];
      }
    }
    return out;
  }
  return "";
}

}  // namespace

class ServerContext {
 public:
  ~ServerContext() { schema::foreign::DestroyContext(context); }
  std::timed_mutex setup_mutex;
  ly_ctx* context = nullptr;  // created by the first set-up
};

namespace {

// netconfd 2.13 now and then never answers the first RPCs libnetconf2
// sends while setting a session up (the yang-library <get>, <get-schema>;
// seen under load and with many sessions), and libnetconf2 then waits for
// minutes. The set-up holds the server's set-up lock, so every connect to
// that server would stall: a watchdog shuts the socket down when the set-up
// outlives connect_timeout, libnetconf2 fails at once and the caller
// retries with backoff.
Executor& SetupWatchdog() {
  // A static object: joined when the library is unloaded.
  static Executor watchdog(1);
  return watchdog;
}

struct SetupWatch {
  std::mutex mutex;
  bool done = false;
  bool fired = false;
  int socket = -1;  // a dup of the session's socket, closed by the caller
};

std::shared_ptr<ServerContext> ServerContextFor(const SshOptions& options) {
  static std::mutex mutex;
  static auto* servers =
      new std::map<std::string, std::weak_ptr<ServerContext>>();
  const std::string key = absl::StrCat(options.host, "\n", options.port, "\n",
                                       options.schema_searchpath);
  std::lock_guard<std::mutex> lock(mutex);
  for (auto it = servers->begin(); it != servers->end();) {
    it = it->second.expired() ? servers->erase(it) : std::next(it);
  }
  auto& slot = (*servers)[key];
  auto server = slot.lock();
  if (!server) {
    server = std::make_shared<ServerContext>();
    slot = server;
  }
  return server;
}

}  // namespace

absl::StatusCode CodeForErrorTag(std::string_view tag) {
  if (tag == "invalid-value" || tag == "unknown-element" ||
      tag == "bad-element" || tag == "missing-element" ||
      tag == "unknown-attribute" || tag == "bad-attribute" ||
      tag == "missing-attribute" || tag == "unknown-namespace" ||
      tag == "data-missing" || tag == "data-exists" || tag == "too-big") {
    return tag == "data-exists"    ? absl::StatusCode::kAlreadyExists
           : tag == "data-missing" ? absl::StatusCode::kNotFound
           : tag == "too-big"      ? absl::StatusCode::kResourceExhausted
                                   : absl::StatusCode::kInvalidArgument;
  }
  if (tag == "access-denied") return absl::StatusCode::kPermissionDenied;
  if (tag == "lock-denied" || tag == "in-use" || tag == "resource-denied" ||
      tag == "rollback-failed") {
    return absl::StatusCode::kAborted;
  }
  if (tag == "operation-not-supported") return absl::StatusCode::kUnimplemented;
  if (tag == "operation-failed") return absl::StatusCode::kFailedPrecondition;
  return absl::StatusCode::kUnknown;
}

std::vector<RpcError> ParseRpcErrors(std::string_view xml) {
  std::vector<RpcError> errors;
  size_t pos = 0;
  while (true) {
    size_t start = xml.find("rpc-error", pos);
    if (start == std::string_view::npos) break;
    size_t end = xml.find("rpc-error", start + 9);
    // `end` is the closing tag of this error (errors do not nest).
    std::string_view one =
        xml.substr(start, end == std::string_view::npos ? std::string_view::npos
                                                        : end - start);
    RpcError error;
    error.type = ElementText(one, "error-type");
    error.tag = ElementText(one, "error-tag");
    error.message = ElementText(one, "error-message");
    error.path = ElementText(one, "error-path");
    if (!error.tag.empty()) errors.push_back(std::move(error));
    if (end == std::string_view::npos) break;
    pos = end + 9;
  }
  return errors;
}

absl::Status ErrorStatus(std::string_view what,
                         const std::vector<RpcError>& errors) {
  if (errors.empty()) {
    return absl::UnknownError(
        absl::StrCat(std::string(what), ": the device returned an error"));
  }
  std::vector<std::string> parts;
  for (const RpcError& error : errors) {
    std::string part = error.tag;
    if (!error.message.empty()) absl::StrAppend(&part, ": ", error.message);
    if (!error.path.empty()) absl::StrAppend(&part, " (at ", error.path, ")");
    parts.push_back(std::move(part));
  }
  return absl::Status(
      CodeForErrorTag(errors.front().tag),
      absl::StrCat(std::string(what), " failed: ", absl::StrJoin(parts, "; ")));
}

Session::Session(nc_session* session, std::shared_ptr<ServerContext> server)
    : session_(session), server_(std::move(server)) {
  if (const char* const* caps = nc_session_get_cpblts(session)) {
    for (; *caps; ++caps) capabilities_.emplace_back(*caps);
  }
}

Session::~Session() {
  if (session_) nc_session_free(session_, nullptr);
}

void ConnectCancel::Cancel() {
  std::lock_guard<std::mutex> lock(mutex_);
  cancelled_ = true;
  if (socket_ >= 0) shutdown(socket_, SHUT_RDWR);
}

bool ConnectCancel::cancelled() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cancelled_;
}

bool ConnectCancel::Attach(int socket) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (cancelled_) return false;
  if (socket_ >= 0) close(socket_);
  socket_ = dup(socket);
  return true;
}

void ConnectCancel::Detach() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (socket_ >= 0) close(socket_);
  socket_ = -1;
}

absl::StatusOr<std::unique_ptr<Session>> Session::ConnectSsh(
    const SshOptions& options, ConnectCancel* cancel) {
  InitOnce();
  if (!options.insecure_skip_host_key_check &&
      options.host_key_sha256.empty() && options.known_hosts_file.empty()) {
    return absl::FailedPreconditionError(
        "no host key check configured: set host_key_sha256 or known_hosts "
        "(or insecure_skip_host_key_check)");
  }
  auto fd = ConnectSocket(options.host, options.port, options.connect_timeout);
  if (!fd.ok()) return fd.status();
  if (cancel && !cancel->Attach(*fd)) {
    close(*fd);
    return absl::CancelledError("the connect was cancelled");
  }

  // SSH is set up here, with libssh directly, and handed to libnetconf2
  // already authenticated: exact errors (host key vs credentials vs
  // NETCONF), no per-thread libnetconf2 callbacks, no /dev/tty.
  const std::string where = absl::StrCat(options.host, ":", options.port);
  ssh_session ssh = ssh_new();
  if (!ssh) {
    close(*fd);
    return absl::InternalError("cannot create an SSH session");
  }
  struct SshOwner {
    ssh_session ssh;
    ~SshOwner() {
      if (ssh) {
        ssh_disconnect(ssh);
        ssh_free(ssh);
      }
    }
  } owner{ssh};
  socket_t sock = *fd;
  long timeout_s =
      std::max<long>(1, (options.connect_timeout.count() + 999) / 1000);
  unsigned int port = options.port;
  bool process_config = false;
  // Never read ~/.ssh/config: the daemon's settings are the only ones.
  ssh_options_set(ssh, SSH_OPTIONS_PROCESS_CONFIG, &process_config);
  ssh_options_set(ssh, SSH_OPTIONS_HOST, options.host.c_str());
  ssh_options_set(ssh, SSH_OPTIONS_PORT, &port);
  ssh_options_set(ssh, SSH_OPTIONS_USER, options.username.c_str());
  ssh_options_set(ssh, SSH_OPTIONS_FD, &sock);
  ssh_options_set(ssh, SSH_OPTIONS_TIMEOUT, &timeout_s);
  if (ssh_connect(ssh) != SSH_OK) {
    return absl::UnavailableError(
        absl::StrCat(where, ": SSH handshake failed: ", ssh_get_error(ssh)));
  }
  AuthState state;
  state.options = &options;
  if (HostKeyCallback(options.host.c_str(), ssh, &state) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat(where, ": ", state.host_key_problem));
  }
  bool authenticated = false;
  std::vector<std::string> tried;
  if (!options.private_key_file.empty()) {
    tried.push_back("publickey");
    ssh_key key = nullptr;
    if (ssh_pki_import_privkey_file(options.private_key_file.c_str(), nullptr,
                                    nullptr, nullptr, &key) != SSH_OK) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot read the private key ", options.private_key_file));
    }
    authenticated =
        ssh_userauth_publickey(ssh, nullptr, key) == SSH_AUTH_SUCCESS;
    ssh_key_free(key);
  }
  if (!authenticated && !options.password.empty()) {
    tried.push_back("password");
    authenticated =
        ssh_userauth_password(ssh, nullptr, options.password.c_str()) ==
        SSH_AUTH_SUCCESS;
  }
  if (!authenticated) {
    return absl::UnauthenticatedError(absl::StrCat(
        where, ": SSH authentication failed for user '", options.username,
        "' (tried ", absl::StrJoin(tried, ", "), ")"));
  }
  if (!options.schema_searchpath.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.schema_searchpath, ec);
  }
  // The schema search path is a per-thread libnetconf2 client setting
  // (where <get-schema> results are stored).
  nc_client_set_schema_searchpath(options.schema_searchpath.empty()
                                      ? nullptr
                                      : options.schema_searchpath.c_str());
  std::shared_ptr<ServerContext> server = ServerContextFor(options);
  // Each set-up holding the lock ends within connect_timeout (watchdog
  // below); a bounded wait keeps a connect from waiting on forever if one
  // does not (the caller retries with backoff).
  std::unique_lock<std::timed_mutex> setup(server->setup_mutex,
                                           std::defer_lock);
  if (!setup.try_lock_for(2 * options.connect_timeout)) {
    return absl::UnavailableError(absl::StrCat(
        where,
        ": another NETCONF session set-up with this device is still "
        "running after ",
        2 * options.connect_timeout.count(), " ms"));
  }
  if (cancel && cancel->cancelled()) {
    return absl::CancelledError("the connect was cancelled");
  }
  if (!server->context) {
    server->context =
        schema::foreign::NewSessionContext(options.schema_searchpath);
    if (!server->context) {
      return absl::InternalError("cannot create a libyang context");
    }
  }
  // A duplicate of the socket for the watchdog: its number stays ours even
  // after libnetconf2 closed the original on a failure.
  auto watch = std::make_shared<SetupWatch>();
  watch->socket = dup(sock);
  // Fires when the task is released, after it ran or when the watchdog
  // dropped it unrun (stopped at process exit, static objects going in
  // reverse order): a set-up still running then must not outlive it.
  struct FireUnlessDone {
    std::shared_ptr<SetupWatch> watch;
    ~FireUnlessDone() {
      if (!watch) return;
      std::lock_guard<std::mutex> lock(watch->mutex);
      if (watch->done || watch->socket < 0) return;
      watch->fired = true;
      shutdown(watch->socket, SHUT_RDWR);
    }
  };
  // Built in place: a temporary's destructor would fire right away.
  auto fire = std::make_shared<FireUnlessDone>();
  fire->watch = watch;
  SetupWatchdog().PostAfter(options.connect_timeout,
                            [fire = std::move(fire)] {});
  // libnetconf2 owns (and frees) `ssh` from here on, also on failure.
  owner.ssh = nullptr;
  nc_session* session = nc_connect_libssh(ssh, server->context);
  bool timed_out;
  {
    std::lock_guard<std::mutex> lock(watch->mutex);
    watch->done = true;
    timed_out = watch->fired;
    if (watch->socket >= 0) close(watch->socket);
    watch->socket = -1;
  }
  if (session && timed_out) {
    nc_session_free(session, nullptr);
    session = nullptr;
  }
  if (!session && cancel && cancel->cancelled()) {
    return absl::CancelledError("the connect was cancelled");
  }
  if (!session) {
    return absl::UnavailableError(absl::StrCat(
        where, timed_out
                   ? absl::StrCat(": NETCONF session set-up got no answer "
                                  "within ",
                                  options.connect_timeout.count(), " ms")
                   : std::string(": NETCONF session setup failed (netconf "
                                 "subsystem or hello)")));
  }
  auto result =
      std::unique_ptr<Session>(new Session(session, std::move(server)));
  result->socket_fd_ = sock;
  return result;
}

bool Session::HasCapability(std::string_view prefix) const {
  for (const auto& cap : capabilities_) {
    std::string_view uri(cap);
    uri = uri.substr(0, uri.find('?'));
    if (uri.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

uint32_t Session::id() const { return nc_session_get_id(session_); }

bool Session::alive() const {
  return nc_session_get_status(session_) == NC_STATUS_RUNNING;
}

absl::StatusOr<std::string> Session::Call(nc_rpc* rpc, std::string_view what,
                                          bool want_data) {
  struct RpcOwner {
    nc_rpc* rpc;
    ~RpcOwner() { nc_rpc_free(rpc); }
  } owner{rpc};
  if (!rpc)
    return absl::InternalError(
        absl::StrCat("cannot build ", std::string(what)));
  if (!alive()) {
    return absl::UnavailableError(
        absl::StrCat(std::string(what), ": the NETCONF session is closed"));
  }
  uint64_t msgid = 0;
  NC_MSG_TYPE sent = nc_send_rpc(
      session_, rpc, static_cast<int>(rpc_timeout_.count()), &msgid);
  if (sent == NC_MSG_ERROR && alive()) {
    // libnetconf2 could not build the message (e.g. an XPath its context
    // cannot resolve): the session itself is fine.
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(what), ": libnetconf2 could not build the RPC"));
  }
  if (sent != NC_MSG_RPC) {
    return absl::UnavailableError(
        absl::StrCat(std::string(what), ": cannot send the RPC"));
  }
  while (true) {
    lyd_node* env = nullptr;
    lyd_node* op = nullptr;
    NC_MSG_TYPE got =
        nc_recv_reply(session_, rpc, msgid,
                      static_cast<int>(rpc_timeout_.count()), &env, &op);
    struct TreeOwner {
      lyd_node* tree;
      ~TreeOwner() { schema::foreign::Free(tree); }
    } env_owner{env}, op_owner{op};
    if (got == NC_MSG_NOTIF) continue;
    if (got == NC_MSG_WOULDBLOCK) {
      return absl::DeadlineExceededError(
          absl::StrCat(std::string(what), ": no reply within ",
                       rpc_timeout_.count(), " ms"));
    }
    if (got != NC_MSG_REPLY) {
      return absl::UnavailableError(
          absl::StrCat(std::string(what), ": no valid reply (session lost?)"));
    }
    if (op) {
      if (!want_data) return std::string();
      auto data = schema::foreign::AnyChildText(op, "data");
      if (!data.ok()) return data.status();
      return *data;
    }
    std::string xml = schema::foreign::PrintXml(env);
    if (xml.find("rpc-error") != std::string::npos) {
      return ErrorStatus(what, ParseRpcErrors(xml));
    }
    return std::string();
  }
}

absl::StatusOr<std::string> Session::GetConfig(
    Datastore source, const std::string& subtree_filter) {
  return Call(nc_rpc_getconfig(
                  ToNc(source),
                  subtree_filter.empty() ? nullptr : subtree_filter.c_str(),
                  NC_WD_UNKNOWN, NC_PARAMTYPE_DUP_AND_FREE),
              "get-config", true);
}

absl::StatusOr<std::string> Session::Get(const std::string& subtree_filter) {
  return Call(
      nc_rpc_get(subtree_filter.empty() ? nullptr : subtree_filter.c_str(),
                 NC_WD_UNKNOWN, NC_PARAMTYPE_DUP_AND_FREE),
      "get", true);
}

absl::Status Session::EditConfig(Datastore target, const std::string& content,
                                 bool rollback_on_error) {
  return Call(nc_rpc_edit(ToNc(target), NC_RPC_EDIT_DFLTOP_MERGE,
                          NC_RPC_EDIT_TESTOPT_UNKNOWN,
                          rollback_on_error ? NC_RPC_EDIT_ERROPT_ROLLBACK
                                            : NC_RPC_EDIT_ERROPT_UNKNOWN,
                          content.c_str(), NC_PARAMTYPE_DUP_AND_FREE),
              "edit-config", false)
      .status();
}

absl::Status Session::Lock(Datastore target) {
  return Call(nc_rpc_lock(ToNc(target)), "lock", false).status();
}

absl::Status Session::Unlock(Datastore target) {
  return Call(nc_rpc_unlock(ToNc(target)), "unlock", false).status();
}

absl::Status Session::DiscardChanges() {
  return Call(nc_rpc_discard(), "discard-changes", false).status();
}

absl::Status Session::Commit(bool confirmed, uint32_t confirm_timeout_s) {
  return Call(
             nc_rpc_commit(confirmed ? 1 : 0, confirmed ? confirm_timeout_s : 0,
                           nullptr, nullptr, NC_PARAMTYPE_CONST),
             confirmed ? "confirmed commit" : "commit", false)
      .status();
}

absl::Status Session::CancelCommit() {
  return Call(nc_rpc_cancel(nullptr, NC_PARAMTYPE_CONST), "cancel-commit",
              false)
      .status();
}

absl::StatusOr<std::string> Session::GetSchema(const std::string& identifier,
                                               const std::string& version) {
  return Call(nc_rpc_getschema(identifier.c_str(),
                               version.empty() ? nullptr : version.c_str(),
                               "yang", NC_PARAMTYPE_DUP_AND_FREE),
              absl::StrCat("get-schema ", identifier), true);
}

}  // namespace southgate::netconf
