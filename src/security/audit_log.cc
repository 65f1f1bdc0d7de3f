#include "security/audit_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "spdlog/spdlog.h"

namespace southgate::security {
namespace {

absl::StatusOr<int> OpenAppend(const std::string& path) {
  int fd =
      ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        "cannot open audit log ", path, ": ", std::strerror(errno)));
  }
  return fd;
}

}  // namespace

std::string AuditJson(const AuditRecord& record, const std::string& time) {
  nlohmann::json line;
  line["time"] = time;
  line["user"] = record.user;
  line["peer"] = record.peer;
  line["target"] = record.target;
  line["operation"] = record.operation;
  line["paths"] = record.paths;
  line["result"] = record.result;
  if (!record.message.empty()) line["message"] = record.message;
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(
    const std::string& path) {
  auto fd = OpenAppend(path);
  if (!fd.ok()) return fd.status();
  std::unique_ptr<AuditLog> log(new AuditLog(path));
  absl::MutexLock lock(&log->mu_);
  log->fd_ = *fd;
  return log;
}

AuditLog::~AuditLog() {
  absl::MutexLock lock(&mu_);
  if (fd_ >= 0) ::close(fd_);
}

absl::Status AuditLog::Reopen() {
  auto fd = OpenAppend(path_);
  if (!fd.ok()) return fd.status();
  absl::MutexLock lock(&mu_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = *fd;
  return absl::OkStatus();
}

void AuditLog::Write(const AuditRecord& record) {
  std::string line =
      AuditJson(record, absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                         absl::UTCTimeZone()));
  line.push_back('\n');
  absl::MutexLock lock(&mu_);
  // One write() of the whole line: O_APPEND keeps lines whole.
  size_t written = 0;
  while (written < line.size()) {
    ssize_t n = ::write(fd_, line.data() + written, line.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      spdlog::error("audit log {}: write failed: {}", path_,
                    std::strerror(errno));
      return;
    }
    written += static_cast<size_t>(n);
  }
}

}  // namespace southgate::security
