// What every NETCONF device of the process shares: a few worker threads for
// background work (keepalives, polls) run through one Strand per device, a
// separate small pool for reconnects, a bound on concurrent connects, and
// the gate that makes the first connect of a cold schema cache run alone.
// Devices do not own threads: 1,000 devices share these.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <semaphore>
#include <string>

#include "common/executor.h"

namespace southgate::drivers::netconf {

class NetconfRuntime {
 public:
  // Worker threads for keepalives and polls (short RPCs, one per device at
  // a time).
  static constexpr size_t kWorkThreads = 4;
  // Connects (TCP, SSH, hello, schema) in progress at once, over the whole
  // process: a connect storm (daemon start, netconfd restart) cannot starve
  // the work pool or the device, and every connect has its own timeouts.
  static constexpr size_t kConnectConcurrency = 16;

  // The process-wide instance, created on first use; stopped when the
  // plugin is unloaded (after every driver is gone).
  static NetconfRuntime& Get();

  Executor& work() { return work_; }
  Executor& reconnects() { return reconnects_; }

  // Held for the duration of one connect.
  class ConnectSlot {
   public:
    explicit ConnectSlot(NetconfRuntime& runtime) : runtime_(runtime) {
      runtime_.connect_slots_.acquire();
    }
    ~ConnectSlot() { runtime_.connect_slots_.release(); }
    ConnectSlot(const ConnectSlot&) = delete;
    ConnectSlot& operator=(const ConnectSlot&) = delete;

   private:
    NetconfRuntime& runtime_;
  };

  // netconfd 2.13 crashes when sessions download modules with get-schema
  // while others are open (../shared/netconfd.md): until one connect with a
  // schema cache folder has succeeded, connects using that folder run one
  // at a time; later ones find the modules on disk and run in parallel.
  class SchemaGate {
   public:
    std::mutex mutex;
    std::atomic<bool> warm{false};
  };
  std::shared_ptr<SchemaGate> SchemaGateFor(const std::string& cache_dir);

 private:
  NetconfRuntime();

  Executor work_{kWorkThreads};
  Executor reconnects_{kConnectConcurrency};
  std::counting_semaphore<kConnectConcurrency> connect_slots_{
      kConnectConcurrency};
  std::mutex gates_mutex_;
  std::map<std::string, std::shared_ptr<SchemaGate>> gates_;
};

}  // namespace southgate::drivers::netconf
