// gNMI Subscribe: one callback-API bidi reactor per stream, fed by the
// telemetry hub. See docs/architecture.md, "A Subscribe, step by step".
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include "common/work_queue.h"
#include "devices/device_manager.h"
#include "github.com/openconfig/gnmi/proto/gnmi/gnmi.grpc.pb.h"
#include "northbound/access.h"
#include "northbound/gnmi_handler.h"
#include "telemetry/hub.h"
#include "telemetry/timer_service.h"

namespace southgate::northbound {

// Defaults here; the daemon sets them from the `telemetry:` section.
struct SubscribeLimits {
  // Distinct leaves waiting for one stream (after coalescing by path).
  size_t max_pending = 50000;
  // A client whose write stays unacknowledged this long while more data
  // waits is too slow: RESOURCE_EXHAUSTED.
  std::chrono::milliseconds stall{5000};
  // The fastest SAMPLE and heartbeat interval (what sample_interval 0 means).
  std::chrono::milliseconds min_interval{10};
  size_t max_updates_per_notification = 256;
  // A stream keeps up to this many deliveries from the hub as separate
  // Notifications (each change is sent, not only the latest value); more
  // waiting than that coalesce by path. Flow control asks the hub for
  // more when at most half of them wait.
  size_t pipeline_notifications = 8;
  // After a slow client is cut, the RPC is cancelled if it has not ended by
  // then (its unread messages would otherwise stay buffered).
  std::chrono::milliseconds cancel_grace{20000};
};

struct SubscribeContext {
  GnmiHandler* handler = nullptr;
  devices::DeviceManager* devices = nullptr;
  AccessControl* access = nullptr;
  WorkQueue* work = nullptr;
  telemetry::Hub* hub = nullptr;
  telemetry::TimerService* timers = nullptr;
  SubscribeLimits limits;
  // Admission control (northbound/admission.h), set per stream by
  // GnmiService; empty when off. Called once authenticated, before
  // set-up: a non-OK status ends the stream with it.
  std::function<absl::Status(const std::string& user,
                             const gnmi::SubscriptionList& list)>
      admit_subscription;
  std::function<void()> authentication_failed;
};

// A new reactor for one Subscribe RPC; it deletes itself in OnDone.
// The stream keeps a copy of `subscribe`; what it points to must outlive
// every stream (stop the server first).
grpc::ServerBidiReactor<gnmi::SubscribeRequest, gnmi::SubscribeResponse>*
NewSubscribeReactor(grpc::CallbackServerContext* context,
                    const SubscribeContext& subscribe);

}  // namespace southgate::northbound
