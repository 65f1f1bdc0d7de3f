// Certificate rotation without downtime. The configured certificate, key
// and CA bundle are checked for changes every `interval` (and at once on
// CheckNow, i.e. SIGHUP). A changed set is validated (ValidateServerMaterial)
// and only then published into `active_dir`, the files gRPC's
// FileWatcherCertificateProvider serves new handshakes from; a broken set is
// rejected with an error logged and the published one stays. Established
// connections and their streams are not touched.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "security/tls.h"

namespace southgate::security {

class TlsWatcher {
 public:
  struct Sources {
    std::string cert_file;
    std::string key_file;
    std::string ca_file;  // empty: no client CA
  };
  // Called after every change attempt: true = published, false = rejected.
  using Observer = std::function<void(bool published)>;

  // Validates and publishes the current files, then starts watching.
  // Fails (nothing published) when the current files are not usable.
  static absl::StatusOr<std::unique_ptr<TlsWatcher>> Start(
      Sources sources, std::string active_dir, absl::Duration interval,
      Observer observer = nullptr);
  ~TlsWatcher();

  // Checks the files now; OK when unchanged or published, the validation
  // error when a changed set was rejected.
  absl::Status CheckNow();

  // The published files, for the certificate provider.
  std::string active_cert_file() const;
  std::string active_key_file() const;
  std::string active_ca_file() const;  // empty without a CA bundle
  std::string fingerprint() const;

 private:
  TlsWatcher(Sources sources, std::string active_dir, absl::Duration interval,
             Observer observer);
  absl::Status Publish(const TlsMaterial& material);

  const Sources sources_;
  const std::string active_dir_;
  const absl::Duration interval_;
  const Observer observer_;

  std::mutex check_mutex_;  // one check at a time
  std::string seen_;        // digest of the contents last examined
  std::string published_;   // digest of the contents in use
  mutable std::mutex mutex_;
  std::string fingerprint_;

  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace southgate::security
