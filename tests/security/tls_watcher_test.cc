#include "security/tls_watcher.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace southgate::security {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class TlsWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("southgate_tls_watcher_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    CertificateRequest ca_request{"ca",
                                  {},
                                  {},
                                  {},
                                  absl::Now() - absl::Hours(1),
                                  absl::Now() + absl::Hours(48),
                                  true};
    auto ca = IssueCertificate(ca_request, nullptr);
    ASSERT_TRUE(ca.ok());
    ca_ = *ca;
    Write("ca.crt", ca_.cert_pem);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) { return (dir_ / name).string(); }
  void Write(const std::string& name, const std::string& content) {
    ASSERT_TRUE(WriteFileAtomically(Path(name), content, 0600).ok());
  }
  IssuedCertificate Server(const std::string& cn,
                           absl::Duration offset = absl::Hours(-1)) {
    CertificateRequest request{
        cn,   {"localhost"},        {},
        {},   absl::Now() + offset, absl::Now() + offset + absl::Hours(24),
        false};
    auto issued = IssueCertificate(request, &ca_);
    EXPECT_TRUE(issued.ok());
    return *issued;
  }
  void Install(const IssuedCertificate& cert) {
    Write("server.key", cert.key_pem);
    Write("server.crt", cert.cert_pem);
  }
  TlsWatcher::Sources Sources() {
    return {Path("server.crt"), Path("server.key"), Path("ca.crt")};
  }
  fs::path dir_;
  IssuedCertificate ca_;
};

TEST_F(TlsWatcherTest, PublishesValidChangesAndKeepsTheOldOnBrokenOnes) {
  IssuedCertificate v1 = Server("v1");
  Install(v1);
  int published = 0, rejected = 0;
  auto watcher = TlsWatcher::Start(
      Sources(), Path("active"), absl::Hours(1),  // checked by hand below
      [&](bool ok) { ++(ok ? published : rejected); });
  ASSERT_TRUE(watcher.ok()) << watcher.status();
  TlsWatcher& w = **watcher;
  EXPECT_EQ(Read(w.active_cert_file()), v1.cert_pem);
  EXPECT_EQ(Read(w.active_key_file()), v1.key_pem);
  EXPECT_EQ(Read(w.active_ca_file()), ca_.cert_pem);
  EXPECT_EQ(fs::status(w.active_key_file()).permissions() &
                (fs::perms::group_all | fs::perms::others_all),
            fs::perms::none);
  const std::string v1_fingerprint = w.fingerprint();

  EXPECT_TRUE(w.CheckNow().ok());  // unchanged: nothing happens
  EXPECT_EQ(published + rejected, 0);

  IssuedCertificate v2 = Server("v2");
  Install(v2);
  EXPECT_TRUE(w.CheckNow().ok());
  EXPECT_EQ(published, 1);
  EXPECT_EQ(Read(w.active_cert_file()), v2.cert_pem);
  EXPECT_NE(w.fingerprint(), v1_fingerprint);

  // Garbage, a key that does not match, an expired and a future
  // certificate: each rejected, v2 stays published.
  Write("server.crt", "not a certificate");
  EXPECT_THAT(std::string(w.CheckNow().message()),
              HasSubstr("no PEM certificate"));
  Write("server.crt", Server("v3").cert_pem);
  EXPECT_THAT(std::string(w.CheckNow().message()),
              HasSubstr("does not match certificate"));
  Install(Server("old", absl::Hours(-48)));
  EXPECT_THAT(std::string(w.CheckNow().message()), HasSubstr("has expired"));
  Install(Server("future", absl::Hours(2)));
  EXPECT_THAT(std::string(w.CheckNow().message()),
              HasSubstr("is not valid yet"));
  Write("ca.crt", "no CA here");
  Install(v2);
  EXPECT_THAT(std::string(w.CheckNow().message()),
              HasSubstr("no PEM certificate found"));
  EXPECT_EQ(rejected, 5);
  EXPECT_EQ(Read(w.active_cert_file()), v2.cert_pem);
  EXPECT_EQ(Read(w.active_key_file()), v2.key_pem);
  EXPECT_EQ(Read(w.active_ca_file()), ca_.cert_pem);

  // Fixed again: published.
  Write("ca.crt", ca_.cert_pem);
  EXPECT_TRUE(w.CheckNow().ok());
  EXPECT_EQ(published, 1);  // same content as published: nothing to do
  IssuedCertificate v4 = Server("v4");
  Install(v4);
  EXPECT_TRUE(w.CheckNow().ok());
  EXPECT_EQ(published, 2);
  EXPECT_EQ(Read(w.active_cert_file()), v4.cert_pem);
}

TEST_F(TlsWatcherTest, TheWatcherThreadNoticesChanges) {
  Install(Server("v1"));
  std::atomic<int> published{0};
  auto watcher =
      TlsWatcher::Start(Sources(), Path("active"), absl::Milliseconds(20),
                        [&](bool ok) { published += ok; });
  ASSERT_TRUE(watcher.ok());
  IssuedCertificate v2 = Server("v2");
  Install(v2);
  for (int i = 0; i < 500 && published == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(published, 1);
  EXPECT_EQ(Read((*watcher)->active_cert_file()), v2.cert_pem);
}

TEST_F(TlsWatcherTest, UnusableFilesAtStartAreAnError) {
  Write("server.crt", "junk");
  Write("server.key", "junk");
  auto watcher = TlsWatcher::Start(Sources(), Path("active"), absl::Hours(1));
  EXPECT_FALSE(watcher.ok());
  EXPECT_FALSE(fs::exists(Path("active/server.crt")));
}

}  // namespace
}  // namespace southgate::security
