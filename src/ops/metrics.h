// A small Prometheus metrics registry (text exposition format 0.0.4):
// counters, gauges and histograms with labels, plus collectors evaluated at
// scrape time. Debian 12 has no Prometheus C++ client, hence this.
//
// The hot path is lock-free: Family::With() takes a mutex and returns a
// reference that stays valid for the registry's lifetime, so callers look a
// label set up once and keep the handle; Inc/Set/Observe are atomics.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace southgate::ops {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Inc(double amount = 1.0) {
    if (amount > 0) value_.fetch_add(amount, std::memory_order_relaxed);
  }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Inc(double amount = 1.0) {
    value_.fetch_add(amount, std::memory_order_relaxed);
  }
  void Dec(double amount = 1.0) {
    value_.fetch_sub(amount, std::memory_order_relaxed);
  }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  // `bounds`: the upper bounds of the buckets, ascending; +Inf is implied.
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);
  void ObserveSince(std::chrono::steady_clock::time_point start) {
    Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count());
  }

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot Read() const;

  // 5 ms .. 10 s, for RPC latencies.
  static std::vector<double> LatencyBuckets();

 private:
  const std::vector<double> bounds_;
  // Non-cumulative counts, one per bound plus +Inf; summed at scrape time so
  // that Observe touches one bucket only.
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<double> sum_{0.0};
};

enum class MetricType { kCounter, kGauge, kHistogram };

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, MetricType type,
             std::vector<std::string> label_names);
  virtual ~FamilyBase() = default;
  const std::string& name() const { return name_; }
  // Appends "# HELP", "# TYPE" and every sample.
  void Write(std::string& out) const;

 protected:
  virtual void WriteChildren(std::string& out) const = 0;
  const std::string name_;
  const std::string help_;
  const MetricType type_;
  const std::vector<std::string> label_names_;
};

// A metric with a fixed list of label names; one child per label values.
template <typename T>
class Family final : public FamilyBase {
 public:
  Family(std::string name, std::string help, MetricType type,
         std::vector<std::string> label_names, std::vector<double> buckets = {})
      : FamilyBase(std::move(name), std::move(help), type,
                   std::move(label_names)),
        buckets_(std::move(buckets)) {}

  // The child for these label values (in label_names order; missing values
  // are empty). The reference is stable: cache it.
  T& With(const std::vector<std::string>& values);
  // Forgets a child (e.g. a device removed by a reload). References to it
  // stay valid but are no longer exported.
  void Remove(const std::vector<std::string>& values);

 protected:
  void WriteChildren(std::string& out) const override;

 private:
  const std::vector<double> buckets_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::shared_ptr<T>> children_;
  // Removed children are kept alive so cached references never dangle.
  std::vector<std::shared_ptr<T>> retired_;
};

// A metric computed when scraped (e.g. per-device state read from the
// device manager): returns (labels, value) pairs.
struct Sample {
  Labels labels;
  double value = 0;
};
using CollectFn = std::function<std::vector<Sample>()>;

class Registry {
 public:
  Family<Counter>& AddCounter(std::string name, std::string help,
                              std::vector<std::string> label_names = {});
  Family<Gauge>& AddGauge(std::string name, std::string help,
                          std::vector<std::string> label_names = {});
  Family<Histogram>& AddHistogram(std::string name, std::string help,
                                  std::vector<std::string> label_names,
                                  std::vector<double> buckets);
  // Registers (or replaces, by name) a scrape-time collector.
  void SetCollector(std::string name, std::string help, MetricType type,
                    CollectFn collect);
  void RemoveCollector(const std::string& name);

  // The text exposition format 0.0.4.
  std::string Expose() const;

 private:
  struct Collector {
    std::string help;
    MetricType type;
    CollectFn collect;
  };
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<FamilyBase>> families_;
  std::map<std::string, std::shared_ptr<Collector>> collectors_;
};

// Escapes a label value (backslash, double quote, newline) and HELP text
// (backslash, newline) as the exposition format requires.
std::string EscapeLabelValue(std::string_view value);
std::string EscapeHelp(std::string_view help);
// A sample value: integers without a fraction, +Inf, -Inf, NaN.
std::string FormatValue(double value);

// The daemon's metrics, one process-wide instance. Handles are created at
// start and never change; label children can be cached by callers.
struct Metrics {
  static Metrics& Default();
  explicit Metrics(Registry& registry);

  Registry& registry;

  // gNMI RPCs by method and gRPC code name ("OK", "UNAUTHENTICATED", ...).
  Family<Counter>& gnmi_requests;           // {method, code}
  Family<Histogram>& gnmi_request_seconds;  // {method, code}
  // Calls into drivers.
  Family<Histogram>& device_rpc_seconds;  // {device, operation, result}
  // Connection attempts made by the device manager.
  Family<Counter>& device_connect_attempts;  // {device, result}
  // Streaming (client Subscribe RPCs, upstream device streams, telemetry
  // cache, slow clients cut off) is exported by scrape-time collectors over
  // telemetry::Hub::Stats() that the daemon registers; see main.cc.
  // Requests refused because the server is busy (work queue full).
  Family<Counter>& rate_limited;    // {method}
  Family<Counter>& auth_failures;   // {reason}
  Family<Counter>& config_reloads;  // {result}: success, failure
  Family<Gauge>& build_info;        // {version}
};

// Counts and times one RPC method by status code: the children for each
// code are looked up once and cached, so Record() is two atomic adds.
class RpcRecorder {
 public:
  RpcRecorder(Metrics& metrics, std::string method);
  // `code` is a gRPC status code number (0..16).
  void Record(int code, std::chrono::steady_clock::time_point start);

 private:
  struct Children {
    Counter* count;
    Histogram* latency;
  };
  const Children& For(int code);
  Metrics& metrics_;
  const std::string method_;
  std::mutex mutex_;
  std::atomic<const Children*> children_[17] = {};
  std::vector<std::unique_ptr<Children>> owned_;
};

// "OK", "CANCELLED", ... "UNAUTHENTICATED" for gRPC code numbers 0..16.
const char* GrpcCodeName(int code);

}  // namespace southgate::ops
