#include "ops/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace southgate::ops {

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<int64_t>(value));
  }
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.17g", value);
  return buffer;
}

namespace {

const char* TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// `{a="x",b="y"}` or nothing; `extra` (e.g. le) is appended last.
void WriteLabels(std::string& out, const Labels& labels,
                 const std::pair<std::string, std::string>* extra = nullptr) {
  if (labels.empty() && extra == nullptr) return;
  out.push_back('{');
  bool first = true;
  auto one = [&](const std::string& name, const std::string& value) {
    if (!first) out.push_back(',');
    first = false;
    out += name;
    out += "=\"";
    out += EscapeLabelValue(value);
    out.push_back('"');
  };
  for (const auto& [name, value] : labels) one(name, value);
  if (extra) one(extra->first, extra->second);
  out.push_back('}');
}

void WriteHeader(std::string& out, const std::string& name,
                 const std::string& help, MetricType type) {
  out += "# HELP " + name + " " + EscapeHelp(help) + "\n";
  out += "# TYPE " + name + " " + TypeName(type) + "\n";
}

void WriteSample(std::string& out, const std::string& name,
                 const Labels& labels, double value) {
  out += name;
  WriteLabels(out, labels);
  out.push_back(' ');
  out += FormatValue(value);
  out.push_back('\n');
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_([&] {
        std::sort(bounds.begin(), bounds.end());
        bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
        return bounds;
      }()),
      counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::Observe(double value) {
  // Buckets are "less or equal": the first bound >= value.
  size_t index =
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  counts_[index].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot snapshot;
  snapshot.bounds = bounds_;
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    snapshot.cumulative.push_back(running);
  }
  // _count is the +Inf bucket so the two always agree within one scrape.
  snapshot.count = running;
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

std::vector<double> Histogram::LatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
          0.25,  0.5,    1,     2.5,  5,     10};
}

FamilyBase::FamilyBase(std::string name, std::string help, MetricType type,
                       std::vector<std::string> label_names)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)) {}

void FamilyBase::Write(std::string& out) const {
  WriteHeader(out, name_, help_, type_);
  WriteChildren(out);
}

template <typename T>
T& Family<T>::With(const std::vector<std::string>& values) {
  std::vector<std::string> key = values;
  key.resize(label_names_.size());
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = children_.find(key);
  if (it == children_.end()) {
    std::shared_ptr<T> child;
    if constexpr (std::is_same_v<T, Histogram>) {
      child = std::make_shared<Histogram>(buckets_);
    } else {
      child = std::make_shared<T>();
    }
    it = children_.emplace(std::move(key), std::move(child)).first;
  }
  return *it->second;
}

template <typename T>
void Family<T>::Remove(const std::vector<std::string>& values) {
  std::vector<std::string> key = values;
  key.resize(label_names_.size());
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = children_.find(key);
  if (it == children_.end()) return;
  retired_.push_back(std::move(it->second));
  children_.erase(it);
}

template <typename T>
void Family<T>::WriteChildren(std::string& out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [values, child] : children_) {
    Labels labels;
    for (size_t i = 0; i < label_names_.size(); ++i) {
      labels.emplace_back(label_names_[i], values[i]);
    }
    if constexpr (std::is_same_v<T, Histogram>) {
      Histogram::Snapshot snapshot = child->Read();
      for (size_t i = 0; i <= snapshot.bounds.size(); ++i) {
        std::pair<std::string, std::string> le{
            "le", i < snapshot.bounds.size() ? FormatValue(snapshot.bounds[i])
                                             : std::string("+Inf")};
        out += name_ + "_bucket";
        WriteLabels(out, labels, &le);
        out += " " + std::to_string(snapshot.cumulative[i]) + "\n";
      }
      WriteSample(out, name_ + "_sum", labels, snapshot.sum);
      WriteSample(out, name_ + "_count", labels,
                  static_cast<double>(snapshot.count));
    } else {
      WriteSample(out, name_, labels, child->Value());
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Family<Counter>& Registry::AddCounter(std::string name, std::string help,
                                      std::vector<std::string> label_names) {
  auto family = std::make_unique<Family<Counter>>(
      std::move(name), std::move(help), MetricType::kCounter,
      std::move(label_names));
  auto& ref = *family;
  std::lock_guard<std::mutex> lock(mutex_);
  families_.push_back(std::move(family));
  return ref;
}

Family<Gauge>& Registry::AddGauge(std::string name, std::string help,
                                  std::vector<std::string> label_names) {
  auto family = std::make_unique<Family<Gauge>>(
      std::move(name), std::move(help), MetricType::kGauge,
      std::move(label_names));
  auto& ref = *family;
  std::lock_guard<std::mutex> lock(mutex_);
  families_.push_back(std::move(family));
  return ref;
}

Family<Histogram>& Registry::AddHistogram(std::string name, std::string help,
                                          std::vector<std::string> label_names,
                                          std::vector<double> buckets) {
  auto family = std::make_unique<Family<Histogram>>(
      std::move(name), std::move(help), MetricType::kHistogram,
      std::move(label_names), std::move(buckets));
  auto& ref = *family;
  std::lock_guard<std::mutex> lock(mutex_);
  families_.push_back(std::move(family));
  return ref;
}

void Registry::SetCollector(std::string name, std::string help, MetricType type,
                            CollectFn collect) {
  auto collector = std::make_shared<Collector>(
      Collector{std::move(help), type, std::move(collect)});
  std::lock_guard<std::mutex> lock(mutex_);
  collectors_[std::move(name)] = std::move(collector);
}

void Registry::RemoveCollector(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  collectors_.erase(name);
}

std::string Registry::Expose() const {
  std::vector<const FamilyBase*> families;
  std::vector<std::pair<std::string, std::shared_ptr<Collector>>> collectors;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& family : families_) families.push_back(family.get());
    collectors.assign(collectors_.begin(), collectors_.end());
  }
  std::string out;
  for (const FamilyBase* family : families) family->Write(out);
  // Collectors run without the registry lock: they may take their own
  // locks (the device manager's) and must not deadlock with registration.
  for (const auto& [name, collector] : collectors) {
    WriteHeader(out, name, collector->help, collector->type);
    for (const Sample& sample : collector->collect()) {
      WriteSample(out, name, sample.labels, sample.value);
    }
  }
  return out;
}

Metrics& Metrics::Default() {
  // Leaked on purpose: handles are used from threads that may outlive main's
  // locals during shutdown.
  static Registry* registry = new Registry();
  static Metrics* metrics = new Metrics(*registry);
  return *metrics;
}

Metrics::Metrics(Registry& r)
    : registry(r),
      gnmi_requests(r.AddCounter("southgate_gnmi_requests_total",
                                 "gNMI RPCs finished, by method and gRPC code",
                                 {"method", "code"})),
      gnmi_request_seconds(r.AddHistogram(
          "southgate_gnmi_request_duration_seconds",
          "gNMI unary RPC latency from arrival to Finish, by method and code",
          {"method", "code"}, Histogram::LatencyBuckets())),
      device_rpc_seconds(r.AddHistogram(
          "southgate_device_rpc_duration_seconds",
          "Latency of driver calls to devices, by device, operation and "
          "result (ok or the status code name)",
          {"device", "operation", "result"}, Histogram::LatencyBuckets())),
      device_connect_attempts(r.AddCounter(
          "southgate_device_connect_attempts_total",
          "Device connection attempts, by device and result (ok, error)",
          {"device", "result"})),
      rate_limited(r.AddCounter("southgate_gnmi_rate_limited_total",
                                "Requests refused with RESOURCE_EXHAUSTED "
                                "because the server was busy, by method",
                                {"method"})),
      auth_failures(r.AddCounter(
          "southgate_auth_failures_total",
          "Requests refused by authentication or authorization, by reason "
          "(no_credentials, invalid_credentials, permission_denied)",
          {"reason"})),
      config_reloads(r.AddCounter("southgate_config_reloads_total",
                                  "Configuration reloads (SIGHUP), by result",
                                  {"result"})),
      build_info(r.AddGauge("southgate_build_info",
                            "Always 1; the labels describe the build",
                            {"version"})) {}

const char* GrpcCodeName(int code) {
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  return code >= 0 && code <= 16 ? kNames[code] : "UNKNOWN";
}

RpcRecorder::RpcRecorder(Metrics& metrics, std::string method)
    : metrics_(metrics), method_(std::move(method)) {}

const RpcRecorder::Children& RpcRecorder::For(int code) {
  if (code < 0 || code > 16) code = 2;  // UNKNOWN
  if (const Children* cached =
          children_[code].load(std::memory_order_acquire)) {
    return *cached;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (const Children* cached = children_[code].load()) return *cached;
  std::vector<std::string> labels = {method_, GrpcCodeName(code)};
  auto children = std::make_unique<Children>(
      Children{&metrics_.gnmi_requests.With(labels),
               &metrics_.gnmi_request_seconds.With(labels)});
  children_[code].store(children.get(), std::memory_order_release);
  owned_.push_back(std::move(children));
  return *owned_.back();
}

void RpcRecorder::Record(int code,
                         std::chrono::steady_clock::time_point start) {
  const Children& children = For(code);
  children.count->Inc();
  children.latency->ObserveSince(start);
}

}  // namespace southgate::ops
