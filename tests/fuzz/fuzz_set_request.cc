// Whole SetRequest handling: a serialized gnmi.SetRequest through the real
// GnmiHandler (target routing, extensions, commit actions, every path and
// value through the translator) to sim devices, then a Get of the same
// paths. Oracle (besides the sanitizers): a Set that fails leaves every
// device exactly as it was (the project's rule for Set).
#include <cstdio>
#include <cstdlib>
#include <map>

#include "fuzz_support.h"
#include "gateway.h"

namespace southgate::fuzz {
namespace {

// Each device's content as seeded; empty when the sim is not deterministic
// (then the oracle is off and says so).
std::map<std::string, std::string>& Pristine() {
  static auto* pristine = new std::map<std::string, std::string>();
  return *pristine;
}

void CheckUnchanged(Gateway& gateway, const gnmi::SetRequest& request,
                    const absl::Status& status) {
  for (const auto& [device, before] : Pristine()) {
    const std::string after = gateway.Snapshot(device);
    if (after == before) continue;
    std::fprintf(stderr,
                 "failed Set changed device '%s'\nstatus: %s\nrequest: %s\n",
                 device.c_str(), status.ToString().c_str(),
                 request.ShortDebugString().c_str());
    std::abort();
  }
}

void GetSamePaths(Gateway& gateway, const gnmi::SetRequest& set,
                  size_t variant) {
  gnmi::GetRequest get;
  *get.mutable_prefix() = set.prefix();
  for (const gnmi::Path& path : set.delete_()) *get.add_path() = path;
  for (const auto* updates : {&set.replace(), &set.update()}) {
    for (const gnmi::Update& update : *updates) {
      *get.add_path() = update.path();
    }
  }
  const gnmi::Encoding encodings[] = {gnmi::JSON_IETF, gnmi::JSON, gnmi::PROTO};
  get.set_encoding(encodings[variant % 3]);
  (void)gateway.handler().Get(get);
}

}  // namespace
}  // namespace southgate::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  using namespace southgate::fuzz;
  Gateway& gateway = Gateway::Instance();
  for (const std::string& device : gateway.device_names()) {
    const std::string first = gateway.Snapshot(device);
    if (gateway.Snapshot(device) == first) {
      Pristine()[device] = first;
    } else {
      std::fprintf(stderr, "device %s is not deterministic: no oracle\n",
                   device.c_str());
    }
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace southgate::fuzz;
  gnmi::SetRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  Gateway& gateway = Gateway::Instance();
  auto response = gateway.handler().Set(request);
  if (!response.ok()) {
    GetSamePaths(gateway, request, size);
    CheckUnchanged(gateway, request, response.status());
    return 0;
  }
  GetSamePaths(gateway, request, size);
  // The next input starts from the seed again (with a new boot time).
  const std::string& device = response->prefix().target();
  gateway.Reseed(device);
  if (Pristine().count(device)) Pristine()[device] = gateway.Snapshot(device);
  return 0;
}
