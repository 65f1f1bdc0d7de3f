#include "drivers/netconf/netconf_runtime.h"

namespace southgate::drivers::netconf {

NetconfRuntime::NetconfRuntime() = default;

NetconfRuntime& NetconfRuntime::Get() {
  // A static object (not a leaked pointer): its threads are joined when the
  // plugin is unloaded, before its code goes away.
  static NetconfRuntime runtime;
  return runtime;
}

std::shared_ptr<NetconfRuntime::SchemaGate> NetconfRuntime::SchemaGateFor(
    const std::string& cache_dir) {
  std::lock_guard<std::mutex> lock(gates_mutex_);
  auto& gate = gates_[cache_dir];
  if (!gate) gate = std::make_shared<SchemaGate>();
  return gate;
}

}  // namespace southgate::drivers::netconf
