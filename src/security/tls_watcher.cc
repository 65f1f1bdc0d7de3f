#include "security/tls_watcher.h"

#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "spdlog/spdlog.h"

namespace southgate::security {
namespace {

constexpr char kActiveCert[] = "server.crt";
constexpr char kActiveKey[] = "server.key";
constexpr char kActiveCa[] = "ca.crt";

}  // namespace

TlsWatcher::TlsWatcher(Sources sources, std::string active_dir,
                       absl::Duration interval, Observer observer)
    : sources_(std::move(sources)),
      active_dir_(std::move(active_dir)),
      interval_(interval),
      observer_(std::move(observer)) {}

absl::StatusOr<std::unique_ptr<TlsWatcher>> TlsWatcher::Start(
    Sources sources, std::string active_dir, absl::Duration interval,
    Observer observer) {
  std::error_code ec;
  std::filesystem::create_directories(active_dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create ", active_dir, ": ", ec.message()));
  }
  std::filesystem::permissions(active_dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  std::unique_ptr<TlsWatcher> watcher(
      new TlsWatcher(std::move(sources), std::move(active_dir), interval,
                     std::move(observer)));
  RETURN_IF_ERROR(watcher->CheckNow());
  if (watcher->fingerprint().empty()) {
    return absl::InternalError("TLS material was not published");
  }
  TlsWatcher* self = watcher.get();
  watcher->thread_ = std::thread([self] {
    std::unique_lock lock(self->stop_mutex_);
    while (!self->stop_cv_.wait_for(lock,
                                    absl::ToChronoMilliseconds(self->interval_),
                                    [self] { return self->stop_; })) {
      lock.unlock();
      (void)self->CheckNow();  // errors are logged inside
      lock.lock();
    }
  });
  return watcher;
}

TlsWatcher::~TlsWatcher() {
  {
    std::lock_guard lock(stop_mutex_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string TlsWatcher::active_cert_file() const {
  return active_dir_ + "/" + kActiveCert;
}
std::string TlsWatcher::active_key_file() const {
  return active_dir_ + "/" + kActiveKey;
}
std::string TlsWatcher::active_ca_file() const {
  return sources_.ca_file.empty() ? "" : active_dir_ + "/" + kActiveCa;
}
std::string TlsWatcher::fingerprint() const {
  std::lock_guard lock(mutex_);
  return fingerprint_;
}

absl::Status TlsWatcher::Publish(const TlsMaterial& material) {
  // CA first, then key and certificate: the provider re-reads when it sees
  // new files, and a key without its certificate is the shortest window.
  if (!sources_.ca_file.empty()) {
    RETURN_IF_ERROR(
        WriteFileAtomically(active_ca_file(), material.ca_pem, 0644));
  }
  RETURN_IF_ERROR(
      WriteFileAtomically(active_key_file(), material.key_pem, 0600));
  RETURN_IF_ERROR(
      WriteFileAtomically(active_cert_file(), material.cert_pem, 0644));
  return absl::OkStatus();
}

absl::Status TlsWatcher::CheckNow() {
  std::lock_guard check(check_mutex_);
  TlsMaterial material;
  material.cert_file = sources_.cert_file;
  material.key_file = sources_.key_file;
  material.ca_file = sources_.ca_file;
  auto cert = ReadTextFile(sources_.cert_file, "TLS certificate");
  auto key = ReadTextFile(sources_.key_file, "TLS private key");
  absl::StatusOr<std::string> ca = std::string();
  if (!sources_.ca_file.empty()) {
    ca = ReadTextFile(sources_.ca_file, "TLS CA bundle");
  }
  absl::Status status = absl::OkStatus();
  if (!cert.ok()) status = cert.status();
  if (status.ok() && !key.ok()) status = key.status();
  if (status.ok() && !ca.ok()) status = ca.status();
  std::string seen;
  if (status.ok()) {
    material.cert_pem = *std::move(cert);
    material.key_pem = *std::move(key);
    material.ca_pem = *std::move(ca);
    seen = Sha256(absl::StrCat(material.cert_pem.size(), ":", material.cert_pem,
                               material.key_pem.size(), ":", material.key_pem,
                               material.ca_pem));
  } else {
    seen = absl::StrCat("error:", status.ToString());
  }
  if (seen == seen_) return absl::OkStatus();  // nothing new
  seen_ = seen;
  // Back to what is in use (after a rejected change was undone).
  if (seen == published_) return absl::OkStatus();
  const bool first = fingerprint().empty();
  if (status.ok()) status = ValidateServerMaterial(material);
  if (status.ok()) status = Publish(material);
  if (!status.ok()) {
    if (!first) {
      spdlog::error(
          "TLS: new certificate files rejected, keeping the current ones "
          "(SHA-256 {}): {}",
          fingerprint(), std::string(status.message()));
      if (observer_) observer_(false);
    }
    return status;
  }
  published_ = seen;
  std::string fingerprint = CertificateFingerprint(material.cert_pem);
  {
    std::lock_guard lock(mutex_);
    fingerprint_ = fingerprint;
  }
  if (!first) {
    spdlog::info(
        "TLS: certificate files changed; new connections use certificate "
        "{} SHA-256 {}{}",
        sources_.cert_file, fingerprint,
        sources_.ca_file.empty()
            ? ""
            : absl::StrCat(" and CA bundle ", sources_.ca_file));
    if (observer_) observer_(true);
  }
  return absl::OkStatus();
}

}  // namespace southgate::security
