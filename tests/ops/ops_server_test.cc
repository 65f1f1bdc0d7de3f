#include "ops/ops_server.h"

#include <atomic>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"

namespace southgate::ops {
namespace {

using ::testing::HasSubstr;

TEST(OpsServerTest, ServesMetricsHealthAndReadiness) {
  Registry registry;
  registry.AddCounter("x_total", "X.").With({}).Inc(4);
  std::atomic<bool> ready{false};
  auto server = OpsServer::Start("127.0.0.1", 0, registry, [&] {
    return ready ? Readiness{true, ""} : Readiness{false, "devices starting"};
  });
  ASSERT_TRUE(server.ok()) << server.status();
  httplib::Client client("127.0.0.1", (*server)->port());
  client.set_connection_timeout(5);
  client.set_read_timeout(5);

  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_THAT(metrics->get_header_value("Content-Type"),
              HasSubstr("version=0.0.4"));
  EXPECT_THAT(metrics->body, HasSubstr("x_total 4\n"));

  auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);

  auto not_ready = client.Get("/readyz");
  ASSERT_TRUE(not_ready);
  EXPECT_EQ(not_ready->status, 503);
  EXPECT_THAT(not_ready->body, HasSubstr("devices starting"));
  ready = true;
  auto now_ready = client.Get("/readyz");
  ASSERT_TRUE(now_ready);
  EXPECT_EQ(now_ready->status, 200);

  auto missing = client.Get("/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  (*server)->Stop();
  (*server)->Stop();  // idempotent
}

TEST(OpsServerTest, PortInUseIsAnError) {
  Registry registry;
  auto first = OpsServer::Start("127.0.0.1", 0, registry, [] {
    return Readiness{true, ""};
  });
  ASSERT_TRUE(first.ok());
  auto second = OpsServer::Start("127.0.0.1", (*first)->port(), registry, [] {
    return Readiness{true, ""};
  });
  EXPECT_FALSE(second.ok());
}

TEST(OpsServerTest, ImmediateStopDoesNotHang) {
  Registry registry;
  for (int i = 0; i < 5; ++i) {
    auto server = OpsServer::Start("127.0.0.1", 0, registry, [] {
      return Readiness{true, ""};
    });
    ASSERT_TRUE(server.ok());
  }
}

}  // namespace
}  // namespace southgate::ops
