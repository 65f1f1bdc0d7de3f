// The OpenSSL wrapper: the only place in southgate that calls OpenSSL.
// Server certificate loading and self-signed generation, fingerprints,
// certificate inspection, and the few crypto primitives other parts need.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace southgate::security {

struct TlsMaterial {
  std::string
      cert_pem;  // the server certificate (and chain, if the file has one)
  std::string key_pem;  // its private key
  std::string ca_pem;   // client CA bundle; empty when none is configured
  std::string sha256_fingerprint;      // of the leaf, "AB:CD:..."
  bool self_signed_generated = false;  // created by this call
  std::string cert_file;  // where the certificate was read or written
  std::string key_file;
  std::string ca_file;  // where the CA bundle was read; empty when none
};

// File names used inside state_dir for the generated certificate.
inline constexpr char kGeneratedCertName[] = "server.crt";
inline constexpr char kGeneratedKeyName[] = "server.key";

// With cert_file and key_file set: reads both (and ca_file, if set), checks
// that they parse and that the key matches the certificate; errors name the
// file at fault.
//
// With both empty: reuses state_dir/server.crt + server.key when they are
// present, match, are valid for more than a day and cover every name in
// `host_names_or_ips`; otherwise generates a self-signed certificate (EC
// P-256, SHA-256, one year, SANs localhost, 127.0.0.1, ::1 plus the given
// names), creating state_dir with mode 0700 and the key file with 0600.
// Wildcard addresses ("0.0.0.0", "::", "") in host_names_or_ips are skipped.
//
// One of cert_file/key_file without the other is INVALID_ARGUMENT.
absl::StatusOr<TlsMaterial> LoadOrCreateServerCertificate(
    const std::string& cert_file, const std::string& key_file,
    const std::string& state_dir,
    const std::vector<std::string>& host_names_or_ips,
    const std::string& ca_file = "");

// SHA-256 of the first certificate's DER form, as "AB:CD:...";
// empty string when `cert_pem` holds no certificate.
std::string CertificateFingerprint(std::string_view cert_pem);

struct CertificateInfo {
  std::string subject;  // one-line form, e.g. "CN=southgate"
  std::string issuer;
  std::vector<std::string> dns_names;     // subjectAltName DNS entries
  std::vector<std::string> ip_addresses;  // subjectAltName IPs, text form
  absl::Time not_before;
  absl::Time not_after;
  bool is_ca = false;
  std::string key_type;  // "EC P-256", "RSA 2048", ...
};

// Parses the first certificate in `cert_pem`.
absl::StatusOr<CertificateInfo> InspectCertificate(std::string_view cert_pem);

// Checks server material before it is used (at start and on rotation):
// the certificate and key parse and match, the certificate is valid now
// (not expired, not yet valid), and the CA bundle, when given, holds at
// least one certificate. Errors name the file at fault.
absl::Status ValidateServerMaterial(const TlsMaterial& material);

// Reads a whole file; errors name `what` and the path.
absl::StatusOr<std::string> ReadTextFile(const std::string& path,
                                         const char* what);
// Writes `content` to `path` through a temporary file and a rename, so a
// reader sees the old or the new content, never half of it.
absl::Status WriteFileAtomically(const std::string& path,
                                 std::string_view content, unsigned mode);

// Issuing certificates, for tests and lab set-ups: an EC P-256 key and a
// certificate signed by `issuer` (self-signed when null).
struct CertificateRequest {
  std::string common_name;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  std::vector<std::string> emails;
  absl::Time not_before;
  absl::Time not_after;
  bool is_ca = false;
};
struct IssuedCertificate {
  std::string cert_pem;
  std::string key_pem;
};
absl::StatusOr<IssuedCertificate> IssueCertificate(
    const CertificateRequest& request, const IssuedCertificate* issuer);

// `count` cryptographically secure random bytes (RAND_bytes).
absl::StatusOr<std::string> RandomBytes(size_t count);

// Raw 32-byte SHA-256 digest.
std::string Sha256(std::string_view data);

}  // namespace southgate::security
