// The audit log: one JSON object per line for every Set and every denied
// request (time, user, peer, target, paths, operation, result). Paths only,
// never values, so no secret that a Set carries ends up in the file.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace southgate::security {

struct AuditRecord {
  std::string user;  // empty when authentication failed before a name
  std::string peer;  // gRPC peer, e.g. "ipv4:127.0.0.1:5555"
  std::string target;
  std::string operation;  // "Set", "Get", "Subscribe", "Capabilities"
  std::vector<std::string> paths;
  std::string result;   // "OK" or the gRPC code name
  std::string message;  // the error message, empty on success
};

// The record as one JSON line (without the newline).
std::string AuditJson(const AuditRecord& record, const std::string& time);

class AuditLog {
 public:
  // Opens (creating, mode 0600) `path` for appending.
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(
      const std::string& path);
  ~AuditLog();

  // Appends one line and flushes it; errors are logged, never thrown at
  // the request.
  void Write(const AuditRecord& record);
  // Re-opens the file (after log rotation moved it away): SIGHUP.
  absl::Status Reopen();
  const std::string& path() const { return path_; }

 private:
  explicit AuditLog(std::string path) : path_(std::move(path)) {}
  const std::string path_;
  absl::Mutex mu_;
  int fd_ ABSL_GUARDED_BY(mu_) = -1;
};

}  // namespace southgate::security
