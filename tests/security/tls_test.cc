#include "security/tls.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace southgate::security {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("southgate_tls_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) { return (dir_ / name).string(); }
  void Write(const std::string& name, const std::string& content) {
    std::ofstream(Path(name)) << content;
  }
  fs::path dir_;
};

TEST_F(TlsTest, GeneratesSelfSignedWithSans) {
  std::string state = Path("state/nested");
  auto material = LoadOrCreateServerCertificate("", "", state,
                                                {"gw.example.net", "10.1.2.3"});
  ASSERT_TRUE(material.ok()) << material.status();
  EXPECT_TRUE(material->self_signed_generated);
  EXPECT_TRUE(absl::StartsWith(material->cert_pem, "-----BEGIN CERTIFICATE"));
  EXPECT_THAT(material->key_pem, HasSubstr("PRIVATE KEY"));
  EXPECT_EQ(material->sha256_fingerprint.size(), 32u * 3 - 1);
  EXPECT_EQ(material->sha256_fingerprint,
            CertificateFingerprint(material->cert_pem));
  EXPECT_TRUE(material->ca_pem.empty());

  auto info = InspectCertificate(material->cert_pem);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_THAT(info->dns_names,
              UnorderedElementsAre("localhost", "gw.example.net"));
  EXPECT_THAT(info->ip_addresses,
              UnorderedElementsAre("127.0.0.1", "::1", "10.1.2.3"));
  EXPECT_EQ(info->key_type, "EC P-256");
  EXPECT_FALSE(info->is_ca);
  EXPECT_EQ(info->subject, info->issuer);
  absl::Duration validity = info->not_after - absl::Now();
  EXPECT_GT(validity, absl::Hours(24 * 364));
  EXPECT_LT(validity, absl::Hours(24 * 366));

  struct stat st;
  ASSERT_EQ(::stat(state.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((state + "/server.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(fs::exists(state + "/server.crt"));
}

TEST_F(TlsTest, ReusesGeneratedCertificate) {
  std::string state = Path("state");
  auto first = LoadOrCreateServerCertificate("", "", state, {"127.0.0.1"});
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = LoadOrCreateServerCertificate("", "", state, {"127.0.0.1"});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(second->self_signed_generated);
  EXPECT_EQ(first->sha256_fingerprint, second->sha256_fingerprint);
  EXPECT_EQ(first->key_pem, second->key_pem);
  // Wildcards and bracketed forms of already covered addresses: reused too.
  auto third =
      LoadOrCreateServerCertificate("", "", state, {"0.0.0.0", "[::1]", ""});
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(first->sha256_fingerprint, third->sha256_fingerprint);
}

TEST_F(TlsTest, RegeneratesWhenListenHostNotCovered) {
  std::string state = Path("state");
  auto first = LoadOrCreateServerCertificate("", "", state, {});
  ASSERT_TRUE(first.ok());
  auto second = LoadOrCreateServerCertificate("", "", state, {"192.0.2.7"});
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->self_signed_generated);
  EXPECT_NE(first->sha256_fingerprint, second->sha256_fingerprint);
  auto info = InspectCertificate(second->cert_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_THAT(info->ip_addresses,
              UnorderedElementsAre("127.0.0.1", "::1", "192.0.2.7"));
}

TEST_F(TlsTest, RegeneratesCorruptFiles) {
  std::string state = Path("state");
  fs::create_directories(state);
  Write("state/server.crt", "garbage");
  Write("state/server.key", "garbage");
  auto material = LoadOrCreateServerCertificate("", "", state, {});
  ASSERT_TRUE(material.ok()) << material.status();
  EXPECT_TRUE(material->self_signed_generated);
}

TEST_F(TlsTest, LoadsConfiguredFilesAndCa) {
  auto a = LoadOrCreateServerCertificate("", "", Path("a"), {});
  ASSERT_TRUE(a.ok());
  Write("cert.pem", a->cert_pem);
  Write("key.pem", a->key_pem);
  Write("ca.pem", a->cert_pem);
  auto loaded = LoadOrCreateServerCertificate(Path("cert.pem"), Path("key.pem"),
                                              "", {}, Path("ca.pem"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_FALSE(loaded->self_signed_generated);
  EXPECT_EQ(loaded->sha256_fingerprint, a->sha256_fingerprint);
  EXPECT_EQ(loaded->ca_pem, a->cert_pem);
}

TEST_F(TlsTest, RejectsMismatchedKey) {
  auto a = LoadOrCreateServerCertificate("", "", Path("a"), {});
  auto b = LoadOrCreateServerCertificate("", "", Path("b"), {});
  ASSERT_TRUE(a.ok() && b.ok());
  Write("cert.pem", a->cert_pem);
  Write("key.pem", b->key_pem);
  auto loaded =
      LoadOrCreateServerCertificate(Path("cert.pem"), Path("key.pem"), "", {});
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(loaded.status().message(), HasSubstr(Path("key.pem")));
  EXPECT_THAT(loaded.status().message(), HasSubstr("does not match"));
}

TEST_F(TlsTest, MissingOrBadFilesAreNamed) {
  auto missing =
      LoadOrCreateServerCertificate(Path("nope.crt"), Path("nope.key"), "", {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr(Path("nope.crt")));

  Write("bad.crt", "not a certificate");
  Write("bad.key", "not a key");
  auto bad =
      LoadOrCreateServerCertificate(Path("bad.crt"), Path("bad.key"), "", {});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr(Path("bad.crt")));

  auto a = LoadOrCreateServerCertificate("", "", Path("a"), {});
  ASSERT_TRUE(a.ok());
  Write("cert.pem", a->cert_pem);
  auto bad_key =
      LoadOrCreateServerCertificate(Path("cert.pem"), Path("bad.key"), "", {});
  ASSERT_FALSE(bad_key.ok());
  EXPECT_THAT(bad_key.status().message(), HasSubstr(Path("bad.key")));

  Write("key.pem", a->key_pem);
  auto bad_ca = LoadOrCreateServerCertificate(Path("cert.pem"), Path("key.pem"),
                                              "", {}, Path("bad.crt"));
  ASSERT_FALSE(bad_ca.ok());
  EXPECT_THAT(bad_ca.status().message(), HasSubstr(Path("bad.crt")));

  auto half = LoadOrCreateServerCertificate(Path("cert.pem"), "", "", {});
  ASSERT_FALSE(half.ok());
  EXPECT_EQ(half.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CryptoTest, RandomAndSha256) {
  auto a = RandomBytes(16);
  auto b = RandomBytes(16);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 16u);
  EXPECT_NE(*a, *b);
  std::string digest = Sha256("abc");
  ASSERT_EQ(digest.size(), 32u);
  EXPECT_EQ(static_cast<unsigned char>(digest[0]), 0xba);
  EXPECT_EQ(CertificateFingerprint("nothing"), "");
}

}  // namespace
}  // namespace southgate::security
