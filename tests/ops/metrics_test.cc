#include "ops/metrics.h"

#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace southgate::ops {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsTest, CounterWithLabelsAndHeader) {
  Registry registry;
  auto& requests =
      registry.AddCounter("x_requests_total", "Requests.", {"method", "code"});
  requests.With({"Get", "OK"}).Inc();
  requests.With({"Get", "OK"}).Inc(2);
  requests.With({"Set", "ABORTED"}).Inc();
  std::string text = registry.Expose();
  EXPECT_THAT(text, HasSubstr("# HELP x_requests_total Requests.\n"
                              "# TYPE x_requests_total counter\n"));
  EXPECT_THAT(text,
              HasSubstr("x_requests_total{method=\"Get\",code=\"OK\"} 3\n"));
  EXPECT_THAT(
      text, HasSubstr("x_requests_total{method=\"Set\",code=\"ABORTED\"} 1\n"));
}

TEST(MetricsTest, CounterIgnoresNegativeIncrements) {
  Counter counter;
  counter.Inc(-5);
  EXPECT_EQ(counter.Value(), 0);
}

TEST(MetricsTest, GaugeWithoutLabels) {
  Registry registry;
  Gauge& gauge = registry.AddGauge("x_streams", "Streams.").With({});
  gauge.Inc();
  gauge.Inc();
  gauge.Dec();
  gauge.Set(gauge.Value() + 0.5);
  EXPECT_THAT(registry.Expose(), HasSubstr("\nx_streams 1.5\n"));
}

TEST(MetricsTest, LabelAndHelpEscaping) {
  Registry registry;
  registry.AddGauge("x_info", "Line one\nback\\slash", {"v"})
      .With({"a\"b\\c\nd"})
      .Set(1);
  std::string text = registry.Expose();
  EXPECT_THAT(text, HasSubstr("# HELP x_info Line one\\nback\\\\slash\n"));
  EXPECT_THAT(text, HasSubstr("x_info{v=\"a\\\"b\\\\c\\nd\"} 1\n"));
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInf) {
  Registry registry;
  auto& latency =
      registry.AddHistogram("x_seconds", "Latency.", {"m"}, {0.1, 1, 0.5});
  Histogram& h = latency.With({"Get"});
  h.Observe(0.05);
  h.Observe(0.1);  // le is inclusive
  h.Observe(0.7);
  h.Observe(30);
  std::string text = registry.Expose();
  EXPECT_THAT(text, HasSubstr("# TYPE x_seconds histogram\n"));
  EXPECT_THAT(
      text,
      HasSubstr("x_seconds_bucket{m=\"Get\",le=\"0.10000000000000001\"} 2\n"
                "x_seconds_bucket{m=\"Get\",le=\"0.5\"} 2\n"
                "x_seconds_bucket{m=\"Get\",le=\"1\"} 3\n"
                "x_seconds_bucket{m=\"Get\",le=\"+Inf\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("x_seconds_sum{m=\"Get\"} 30.850000000000001\n"));
  EXPECT_THAT(text, HasSubstr("x_seconds_count{m=\"Get\"} 4\n"));
}

TEST(MetricsTest, ValuesFormatting) {
  EXPECT_EQ(FormatValue(3), "3");
  EXPECT_EQ(FormatValue(-2), "-2");
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatValue(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(FormatValue(0.0 / 0.0), "NaN");
}

TEST(MetricsTest, RemovedChildIsNotExportedButHandleStaysValid) {
  Registry registry;
  auto& family = registry.AddGauge("x_cache", "Cache.", {"device"});
  Gauge& cached = family.With({"r1"});
  family.With({"r2"}).Set(2);
  family.Remove({"r1"});
  cached.Set(7);  // must not crash
  std::string text = registry.Expose();
  EXPECT_THAT(text, Not(HasSubstr("r1")));
  EXPECT_THAT(text, HasSubstr("x_cache{device=\"r2\"} 2\n"));
}

TEST(MetricsTest, CollectorRunsAtScrapeTimeAndCanBeReplaced) {
  Registry registry;
  int calls = 0;
  registry.SetCollector("x_state", "State.", MetricType::kGauge, [&] {
    ++calls;
    return std::vector<Sample>{{{{"device", "r1"}}, 1}};
  });
  EXPECT_THAT(registry.Expose(), HasSubstr("x_state{device=\"r1\"} 1\n"));
  EXPECT_THAT(registry.Expose(), HasSubstr("# TYPE x_state gauge\n"));
  EXPECT_EQ(calls, 2);
  registry.RemoveCollector("x_state");
  EXPECT_THAT(registry.Expose(), Not(HasSubstr("x_state")));
}

TEST(MetricsTest, ConcurrentIncrementsAreNotLost) {
  Registry registry;
  auto& family = registry.AddCounter("x_total", "Total.", {"t"});
  auto& histogram = registry.AddHistogram("x_h", "H.", {}, {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      Counter& counter = family.With({"a"});
      Histogram& h = histogram.With({});
      for (int i = 0; i < 10000; ++i) {
        counter.Inc();
        h.Observe(0.5);
      }
    });
  }
  std::thread scraper([&] {
    for (int i = 0; i < 50; ++i) registry.Expose();
  });
  for (auto& thread : threads) thread.join();
  scraper.join();
  EXPECT_EQ(family.With({"a"}).Value(), 40000);
  EXPECT_EQ(histogram.With({}).Read().count, 40000u);
}

TEST(MetricsTest, DefaultMetricsExposeEveryFamily) {
  Metrics& metrics = Metrics::Default();
  metrics.build_info.With({"1.2.3"}).Set(1);
  std::string text = metrics.registry.Expose();
  for (const char* name :
       {"southgate_gnmi_requests_total",
        "southgate_gnmi_request_duration_seconds",
        "southgate_device_rpc_duration_seconds",
        "southgate_gnmi_rate_limited_total", "southgate_auth_failures_total",
        "southgate_config_reloads_total"}) {
    EXPECT_THAT(text, HasSubstr(std::string("# TYPE ") + name)) << name;
  }
  EXPECT_THAT(text, HasSubstr("southgate_build_info{version=\"1.2.3\"} 1\n"));
}

}  // namespace
}  // namespace southgate::ops
