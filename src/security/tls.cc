#include "security/tls.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace southgate::security {
namespace {

namespace fs = std::filesystem;

// RAII owners for OpenSSL objects.
struct BioDeleter {
  void operator()(BIO* p) const { BIO_free_all(p); }
};
struct X509Deleter {
  void operator()(X509* p) const { X509_free(p); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct ExtDeleter {
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
struct GeneralNamesDeleter {
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
};
struct BasicConstraintsDeleter {
  void operator()(BASIC_CONSTRAINTS* p) const { BASIC_CONSTRAINTS_free(p); }
};
struct BignumDeleter {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, ExtDeleter>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, GeneralNamesDeleter>;
using BasicConstraintsPtr =
    std::unique_ptr<BASIC_CONSTRAINTS, BasicConstraintsDeleter>;
using BignumPtr = std::unique_ptr<BIGNUM, BignumDeleter>;

// Drains OpenSSL's error queue into one string.
std::string OpenSslErrors() {
  std::vector<std::string> errors;
  unsigned long code;
  while ((code = ERR_get_error()) != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    errors.emplace_back(buffer);
  }
  if (errors.empty()) return "unknown OpenSSL error";
  return absl::StrJoin(errors, "; ");
}

BioPtr MemBio(std::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string BioToString(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, len > 0 ? static_cast<size_t>(len) : 0);
}

int NoPassword(char*, int, int, void*) { return 0; }

absl::StatusOr<X509Ptr> ParseCertificate(std::string_view pem) {
  BioPtr bio = MemBio(pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, NoPassword, nullptr));
  if (!cert) {
    return absl::InvalidArgumentError(
        absl::StrCat("no PEM certificate found (", OpenSslErrors(), ")"));
  }
  ERR_clear_error();
  return cert;
}

absl::StatusOr<PkeyPtr> ParsePrivateKey(std::string_view pem) {
  BioPtr bio = MemBio(pem);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassword, nullptr));
  if (!key) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no unencrypted PEM private key found (", OpenSslErrors(), ")"));
  }
  return key;
}

absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     const char* what) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return absl::NotFoundError(absl::StrCat(what, " ", path, ": no such file"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::PermissionDeniedError(
        absl::StrCat(what, " ", path, ": cannot open: ", std::strerror(errno)));
  }
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) {
    return absl::DataLossError(absl::StrCat(what, " ", path, ": read error"));
  }
  return content.str();
}

// Writes `content` to `path` atomically (temp file + rename) with `mode`.
absl::Status WriteFileAtomic(const fs::path& path, std::string_view content,
                             mode_t mode) {
  fs::path tmp = path;
  tmp += ".tmp";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        "cannot create ", tmp.string(), ": ", std::strerror(errno)));
  }
  ::fchmod(fd, mode);  // not subject to umask
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return absl::InternalError(absl::StrCat("cannot write ", tmp.string(),
                                              ": ", std::strerror(err)));
    }
    written += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat("cannot rename ", tmp.string(),
                                            " to ", path.string(), ": ",
                                            std::strerror(err)));
  }
  return absl::OkStatus();
}

std::string HexColon(const unsigned char* data, size_t len) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (size_t i = 0; i < len; ++i) {
    if (i > 0) out.push_back(':');
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0xF]);
  }
  return out;
}

std::string Fingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &len) != 1) {
    ERR_clear_error();
    return "";
  }
  return HexColon(md, len);
}

absl::Time Asn1ToTime(const ASN1_TIME* time) {
  struct tm tm {};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) {
    return absl::InfinitePast();
  }
  return absl::FromTimeT(timegm(&tm));
}

std::string NameToString(X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  return BioToString(bio.get());
}

// Returns the canonical text form of an IP literal (brackets allowed), or
// "" when `host` is not an IP address.
std::string CanonicalIp(std::string_view host) {
  std::string text(host);
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  unsigned char buffer[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, text.c_str(), buffer) == 1) {
    return inet_ntop(AF_INET, buffer, out, sizeof(out));
  }
  if (inet_pton(AF_INET6, text.c_str(), buffer) == 1) {
    return inet_ntop(AF_INET6, buffer, out, sizeof(out));
  }
  return "";
}

bool IsWildcard(std::string_view host) {
  if (host.empty()) return true;
  std::string ip = CanonicalIp(host);
  return ip == "0.0.0.0" || ip == "::";
}

struct SanList {
  std::vector<std::string> dns;
  std::vector<std::string> ips;
};

SanList RequiredSans(const std::vector<std::string>& hosts) {
  SanList sans{{"localhost"}, {"127.0.0.1", "::1"}};
  for (const auto& host : hosts) {
    if (IsWildcard(host)) continue;
    std::string ip = CanonicalIp(host);
    if (!ip.empty()) {
      if (std::find(sans.ips.begin(), sans.ips.end(), ip) == sans.ips.end()) {
        sans.ips.push_back(ip);
      }
    } else {
      std::string dns = absl::AsciiStrToLower(host);
      if (std::find(sans.dns.begin(), sans.dns.end(), dns) == sans.dns.end()) {
        sans.dns.push_back(dns);
      }
    }
  }
  return sans;
}

absl::Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid,
                          const std::string& value) {
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return absl::InternalError(
        absl::StrCat("cannot add extension ", value, ": ", OpenSslErrors()));
  }
  return absl::OkStatus();
}

// Signs `cert` with `signer` and returns it with its own `key`, both PEM.
absl::StatusOr<IssuedCertificate> SignAndEncode(X509* cert, EVP_PKEY* signer,
                                                EVP_PKEY* key) {
  if (X509_sign(cert, signer, EVP_sha256()) == 0) {
    return absl::InternalError(
        absl::StrCat("certificate signing failed: ", OpenSslErrors()));
  }
  BioPtr cert_bio(BIO_new(BIO_s_mem()));
  BioPtr key_bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(cert_bio.get(), cert) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), key, nullptr, nullptr, 0, nullptr,
                               nullptr) != 1) {
    return absl::InternalError(
        absl::StrCat("PEM encoding failed: ", OpenSslErrors()));
  }
  return IssuedCertificate{BioToString(cert_bio.get()),
                           BioToString(key_bio.get())};
}

absl::StatusOr<IssuedCertificate> GenerateSelfSigned(const SanList& sans) {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) {
    return absl::InternalError(
        absl::StrCat("EC key generation failed: ", OpenSslErrors()));
  }
  X509Ptr cert(X509_new());
  if (!cert) return absl::InternalError("X509_new failed");
  X509_set_version(cert.get(), 2);  // v3

  // Random positive 127-bit serial.
  ASSIGN_OR_RETURN(std::string serial_bytes, RandomBytes(16));
  serial_bytes[0] &= 0x7F;
  BignumPtr serial(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(serial_bytes.data()),
                static_cast<int>(serial_bytes.size()), nullptr));
  if (!serial ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()))) {
    return absl::InternalError("cannot set certificate serial");
  }
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60 * 60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 60 * 60);
  X509_set_pubkey(cert.get(), key.get());

  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(
      name, "O", MBSTRING_ASC,
      reinterpret_cast<const unsigned char*>("southgate"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(
      name, "CN", MBSTRING_ASC,
      reinterpret_cast<const unsigned char*>("southgate self-signed"), -1, -1,
      0);
  X509_set_issuer_name(cert.get(), name);

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  std::vector<std::string> entries;
  for (const auto& dns : sans.dns) entries.push_back("DNS:" + dns);
  for (const auto& ip : sans.ips) entries.push_back("IP:" + ip);
  RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_subject_alt_name,
                               absl::StrJoin(entries, ",")));
  RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_basic_constraints,
                               "critical,CA:FALSE"));
  RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_key_usage,
                               "critical,digitalSignature"));
  RETURN_IF_ERROR(
      AddExtension(cert.get(), &ctx, NID_ext_key_usage, "serverAuth"));
  RETURN_IF_ERROR(
      AddExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));

  return SignAndEncode(cert.get(), key.get(), key.get());
}

// Checks a cert/key pair; errors name the files.
absl::Status CheckPair(const std::string& cert_pem, const std::string& key_pem,
                       const std::string& cert_file,
                       const std::string& key_file) {
  auto cert = ParseCertificate(cert_pem);
  if (!cert.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TLS certificate ", cert_file, ": ", cert.status().message()));
  }
  auto key = ParsePrivateKey(key_pem);
  if (!key.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TLS private key ", key_file, ": ", key.status().message()));
  }
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("TLS private key ", key_file,
                     " does not match certificate ", cert_file));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> LoadCaBundle(const std::string& ca_file) {
  ASSIGN_OR_RETURN(std::string pem, ReadFile(ca_file, "TLS CA bundle"));
  BioPtr bio = MemBio(pem);
  int count = 0;
  while (X509Ptr cert{
      PEM_read_bio_X509(bio.get(), nullptr, NoPassword, nullptr)}) {
    ++count;
  }
  ERR_clear_error();
  if (count == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS CA bundle ", ca_file, ": no PEM certificate found"));
  }
  return pem;
}

// Whether a previously generated certificate can be used again.
bool Reusable(const std::string& cert_pem, const SanList& required) {
  auto info = InspectCertificate(cert_pem);
  if (!info.ok()) return false;
  if (info->not_after < absl::Now() + absl::Hours(24)) return false;
  for (const auto& dns : required.dns) {
    bool found = false;
    for (const auto& have : info->dns_names) {
      if (absl::AsciiStrToLower(have) == dns) found = true;
    }
    if (!found) return false;
  }
  for (const auto& ip : required.ips) {
    if (std::find(info->ip_addresses.begin(), info->ip_addresses.end(), ip) ==
        info->ip_addresses.end()) {
      return false;
    }
  }
  return true;
}

absl::Status CheckValidNow(const std::string& cert_pem,
                           const std::string& cert_file) {
  ASSIGN_OR_RETURN(CertificateInfo info, InspectCertificate(cert_pem));
  absl::Time now = absl::Now();
  if (info.not_before > now) {
    return absl::FailedPreconditionError(absl::StrCat(
        "TLS certificate ", cert_file, " is not valid yet (not before ",
        absl::FormatTime(info.not_before, absl::UTCTimeZone()), ")"));
  }
  if (info.not_after <= now) {
    return absl::FailedPreconditionError(absl::StrCat(
        "TLS certificate ", cert_file, " has expired (not after ",
        absl::FormatTime(info.not_after, absl::UTCTimeZone()), ")"));
  }
  return absl::OkStatus();
}

absl::Status CheckCaBundle(const std::string& pem, const std::string& file) {
  BioPtr bio = MemBio(pem);
  int count = 0;
  while (X509Ptr cert{
      PEM_read_bio_X509(bio.get(), nullptr, NoPassword, nullptr)}) {
    ++count;
  }
  ERR_clear_error();
  if (count == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS CA bundle ", file, ": no PEM certificate found"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateServerMaterial(const TlsMaterial& material) {
  RETURN_IF_ERROR(CheckPair(material.cert_pem, material.key_pem,
                            material.cert_file, material.key_file));
  RETURN_IF_ERROR(CheckValidNow(material.cert_pem, material.cert_file));
  if (!material.ca_pem.empty() || !material.ca_file.empty()) {
    RETURN_IF_ERROR(CheckCaBundle(material.ca_pem, material.ca_file));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadTextFile(const std::string& path,
                                         const char* what) {
  return ReadFile(path, what);
}

absl::Status WriteFileAtomically(const std::string& path,
                                 std::string_view content, unsigned mode) {
  return WriteFileAtomic(fs::path(path), content, static_cast<mode_t>(mode));
}

absl::StatusOr<IssuedCertificate> IssueCertificate(
    const CertificateRequest& request, const IssuedCertificate* issuer) {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) {
    return absl::InternalError(
        absl::StrCat("EC key generation failed: ", OpenSslErrors()));
  }
  X509Ptr issuer_cert;
  PkeyPtr issuer_key;
  if (issuer != nullptr) {
    ASSIGN_OR_RETURN(issuer_cert, ParseCertificate(issuer->cert_pem));
    ASSIGN_OR_RETURN(issuer_key, ParsePrivateKey(issuer->key_pem));
  }
  X509Ptr cert(X509_new());
  if (!cert) return absl::InternalError("X509_new failed");
  X509_set_version(cert.get(), 2);
  ASSIGN_OR_RETURN(std::string serial_bytes, RandomBytes(16));
  serial_bytes[0] &= 0x7F;
  BignumPtr serial(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(serial_bytes.data()),
                static_cast<int>(serial_bytes.size()), nullptr));
  if (!serial ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()))) {
    return absl::InternalError("cannot set certificate serial");
  }
  if (!ASN1_TIME_set(X509_getm_notBefore(cert.get()),
                     absl::ToTimeT(request.not_before)) ||
      !ASN1_TIME_set(X509_getm_notAfter(cert.get()),
                     absl::ToTimeT(request.not_after))) {
    return absl::InternalError("cannot set certificate validity");
  }
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(
      name, "CN", MBSTRING_UTF8,
      reinterpret_cast<const unsigned char*>(request.common_name.c_str()), -1,
      -1, 0);
  X509_set_issuer_name(
      cert.get(),
      issuer_cert ? X509_get_subject_name(issuer_cert.get()) : name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer_cert ? issuer_cert.get() : cert.get(), cert.get(),
                 nullptr, nullptr, 0);
  std::vector<std::string> entries;
  for (const auto& dns : request.dns_names) entries.push_back("DNS:" + dns);
  for (const auto& ip : request.ip_addresses) entries.push_back("IP:" + ip);
  for (const auto& email : request.emails) entries.push_back("email:" + email);
  if (!entries.empty()) {
    RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_subject_alt_name,
                                 absl::StrJoin(entries, ",")));
  }
  RETURN_IF_ERROR(
      AddExtension(cert.get(), &ctx, NID_basic_constraints,
                   request.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE"));
  RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_key_usage,
                               request.is_ca ? "critical,keyCertSign,cRLSign"
                                             : "critical,digitalSignature"));
  if (!request.is_ca) {
    RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_ext_key_usage,
                                 "serverAuth,clientAuth"));
  }
  RETURN_IF_ERROR(
      AddExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  return SignAndEncode(cert.get(), issuer_key ? issuer_key.get() : key.get(),
                       key.get());
}

absl::StatusOr<std::string> RandomBytes(size_t count) {
  std::string out(count, '\0');
  if (count > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()),
                              static_cast<int>(count)) != 1) {
    return absl::InternalError(
        absl::StrCat("RAND_bytes failed: ", OpenSslErrors()));
  }
  return out;
}

std::string Sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), len);
}

std::string CertificateFingerprint(std::string_view cert_pem) {
  auto cert = ParseCertificate(cert_pem);
  if (!cert.ok()) return "";
  return Fingerprint(cert->get());
}

absl::StatusOr<CertificateInfo> InspectCertificate(std::string_view cert_pem) {
  ASSIGN_OR_RETURN(X509Ptr cert, ParseCertificate(cert_pem));
  CertificateInfo info;
  info.subject = NameToString(X509_get_subject_name(cert.get()));
  info.issuer = NameToString(X509_get_issuer_name(cert.get()));
  info.not_before = Asn1ToTime(X509_get0_notBefore(cert.get()));
  info.not_after = Asn1ToTime(X509_get0_notAfter(cert.get()));

  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  if (names) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
      if (name->type == GEN_DNS) {
        const ASN1_STRING* s = name->d.dNSName;
        info.dns_names.emplace_back(
            reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
            ASN1_STRING_length(s));
      } else if (name->type == GEN_IPADD) {
        const ASN1_OCTET_STRING* s = name->d.iPAddress;
        char out[INET6_ADDRSTRLEN];
        int len = ASN1_STRING_length(s);
        const unsigned char* data = ASN1_STRING_get0_data(s);
        if (len == 4 && inet_ntop(AF_INET, data, out, sizeof(out))) {
          info.ip_addresses.emplace_back(out);
        } else if (len == 16 && inet_ntop(AF_INET6, data, out, sizeof(out))) {
          info.ip_addresses.emplace_back(out);
        }
      }
    }
  }
  BasicConstraintsPtr constraints(static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(cert.get(), NID_basic_constraints, nullptr, nullptr)));
  info.is_ca = constraints && constraints->ca;

  EVP_PKEY* key = X509_get0_pubkey(cert.get());
  if (key != nullptr) {
    int id = EVP_PKEY_get_base_id(key);
    if (id == EVP_PKEY_EC) {
      char group[64] = {0};
      size_t len = 0;
      EVP_PKEY_get_group_name(key, group, sizeof(group), &len);
      std::string g(group, len);
      info.key_type = absl::StrCat("EC ", g == "prime256v1"  ? "P-256"
                                          : g == "secp384r1" ? "P-384"
                                                             : g);
    } else if (id == EVP_PKEY_RSA) {
      info.key_type = absl::StrCat("RSA ", EVP_PKEY_get_bits(key));
    } else {
      info.key_type = OBJ_nid2sn(id);
    }
  }
  ERR_clear_error();
  return info;
}

absl::StatusOr<TlsMaterial> LoadOrCreateServerCertificate(
    const std::string& cert_file, const std::string& key_file,
    const std::string& state_dir,
    const std::vector<std::string>& host_names_or_ips,
    const std::string& ca_file) {
  TlsMaterial material;
  if (!ca_file.empty()) {
    ASSIGN_OR_RETURN(material.ca_pem, LoadCaBundle(ca_file));
    material.ca_file = ca_file;
  }

  if (!cert_file.empty() || !key_file.empty()) {
    if (cert_file.empty() || key_file.empty()) {
      return absl::InvalidArgumentError(
          "TLS needs both a certificate and a private key file (got only " +
          std::string(cert_file.empty() ? "the key " + key_file
                                        : "the certificate " + cert_file) +
          ")");
    }
    ASSIGN_OR_RETURN(material.cert_pem, ReadFile(cert_file, "TLS certificate"));
    ASSIGN_OR_RETURN(material.key_pem, ReadFile(key_file, "TLS private key"));
    material.cert_file = cert_file;
    material.key_file = key_file;
    material.ca_file = ca_file;
    RETURN_IF_ERROR(ValidateServerMaterial(material));
    material.sha256_fingerprint = CertificateFingerprint(material.cert_pem);
    material.cert_file = cert_file;
    material.key_file = key_file;
    return material;
  }

  if (state_dir.empty()) {
    return absl::InvalidArgumentError(
        "no TLS certificate configured and no state_dir to keep a generated "
        "one in");
  }
  fs::path dir(state_dir);
  fs::path cert_path = dir / kGeneratedCertName;
  fs::path key_path = dir / kGeneratedKeyName;
  material.cert_file = cert_path.string();
  material.key_file = key_path.string();
  SanList sans = RequiredSans(host_names_or_ips);

  std::error_code ec;
  if (fs::exists(cert_path, ec) && fs::exists(key_path, ec)) {
    auto cert_pem = ReadFile(cert_path.string(), "TLS certificate");
    auto key_pem = ReadFile(key_path.string(), "TLS private key");
    if (cert_pem.ok() && key_pem.ok() &&
        CheckPair(*cert_pem, *key_pem, cert_path.string(), key_path.string())
            .ok() &&
        Reusable(*cert_pem, sans)) {
      material.cert_pem = std::move(cert_pem).value();
      material.key_pem = std::move(key_pem).value();
      material.sha256_fingerprint = CertificateFingerprint(material.cert_pem);
      return material;
    }
  }

  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) {
      return absl::PermissionDeniedError(absl::StrCat(
          "cannot create state_dir ", state_dir, ": ", ec.message()));
    }
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  } else if (!fs::is_directory(dir, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat("state_dir ", state_dir, " is not a directory"));
  }

  ASSIGN_OR_RETURN(IssuedCertificate pair, GenerateSelfSigned(sans));
  RETURN_IF_ERROR(WriteFileAtomic(key_path, pair.key_pem, 0600));
  RETURN_IF_ERROR(WriteFileAtomic(cert_path, pair.cert_pem, 0644));
  material.cert_pem = std::move(pair.cert_pem);
  material.key_pem = std::move(pair.key_pem);
  material.sha256_fingerprint = CertificateFingerprint(material.cert_pem);
  material.self_signed_generated = true;
  return material;
}

}  // namespace southgate::security
