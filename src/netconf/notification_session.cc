#include "netconf/notification_session.h"

#ifndef NC_ENABLED_SSH
#define NC_ENABLED_SSH
#endif

#include <libnetconf2/messages_client.h>
#include <libnetconf2/netconf.h>
#include <libnetconf2/session_client.h>

#include "absl/strings/str_cat.h"
#include "schema/netconf_xml.h"

namespace southgate::netconf {

NotificationSession::NotificationSession(std::unique_ptr<Session> session)
    : session_(std::move(session)) {}

NotificationSession::~NotificationSession() = default;

absl::StatusOr<std::unique_ptr<NotificationSession>> NotificationSession::Open(
    const SshOptions& options, const std::string& stream,
    std::chrono::milliseconds rpc_timeout, ConnectCancel* cancel) {
  // The socket stays attached to `cancel` through <create-subscription>.
  struct Detacher {
    ConnectCancel* cancel;
    ~Detacher() {
      if (cancel) cancel->Detach();
    }
  } detacher{cancel};
  auto session = Session::ConnectSsh(options, cancel);
  if (!session.ok()) return session.status();
  (*session)->set_rpc_timeout(rpc_timeout);
  auto reply = (*session)->Call(
      nc_rpc_subscribe(stream.c_str(), nullptr, nullptr, nullptr,
                       NC_PARAMTYPE_DUP_AND_FREE),
      absl::StrCat("create-subscription (stream ", stream, ")"), false);
  if (!reply.ok()) return reply.status();
  return std::unique_ptr<NotificationSession>(
      new NotificationSession(std::move(session).value()));
}

const std::vector<std::string>& NotificationSession::capabilities() const {
  return session_->capabilities();
}

uint32_t NotificationSession::id() const { return session_->id(); }

int NotificationSession::socket_fd() const { return session_->socket_fd(); }

absl::StatusOr<std::optional<std::string>> NotificationSession::Receive(
    std::chrono::milliseconds timeout) {
  if (!session_->alive()) {
    return absl::UnavailableError("the notification session is closed");
  }
  lyd_node* envelope = nullptr;
  lyd_node* content = nullptr;
  NC_MSG_TYPE got =
      nc_recv_notif(session_->session_, static_cast<int>(timeout.count()),
                    &envelope, &content);
  struct TreeOwner {
    lyd_node* tree;
    ~TreeOwner() { schema::foreign::Free(tree); }
  } envelope_owner{envelope}, content_owner{content};
  switch (got) {
    case NC_MSG_NOTIF: {
      std::string json = schema::foreign::PrintJson(content);
      if (json.empty()) {
        return absl::DataLossError("a notification could not be printed");
      }
      return json;
    }
    case NC_MSG_WOULDBLOCK:
      return std::optional<std::string>();
    default:
      if (!session_->alive()) {
        return absl::UnavailableError("the notification session was lost");
      }
      // libnetconf2 read a message it could not parse (e.g. a notification
      // of a module its context lacks): the session itself goes on.
      return absl::DataLossError("an unreadable notification arrived");
  }
}

}  // namespace southgate::netconf
