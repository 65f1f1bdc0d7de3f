// Conversions between the driver API (XPath, RFC 7951 JSON) and the gNMI
// messages a device speaks, through the device's schema (GnmiTranslator).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "drivers/gnmi/gnmi_options.h"
#include "github.com/openconfig/gnmi/proto/gnmi/gnmi.pb.h"
#include "grpcpp/support/status.h"
#include "schema/data_tree.h"
#include "schema/gnmi_translator.h"
#include "southgate/driver.h"

namespace southgate::drivers::gnmi_driver {

::gnmi::Encoding ToProtoEncoding(WireEncoding encoding);

// A device's answer as an absl::Status with the device's code; the message
// names the device and the operation.
absl::Status FromGrpc(const grpc::Status& status, const std::string& what);

// The device's prefix without its target: paths are resolved against the
// schema, the target is the device's own name for itself.
::gnmi::Path WithoutTarget(const ::gnmi::Path& prefix);

// Merges one device update (any of JSON_IETF, JSON, scalar or leaf-list
// values) into `tree`, checked against the schema.
absl::Status MergeUpdate(const schema::GnmiTranslator& translator,
                         const ::gnmi::Path& prefix,
                         const ::gnmi::Update& update, schema::DataTree& tree);

// The leaves one device update carries, as data paths and RFC 7951 values
// (a container-valued JSON update yields every leaf under it).
absl::StatusOr<std::vector<Notification::LeafUpdate>> UpdateLeaves(
    const schema::GnmiTranslator& translator, const ::gnmi::Path& prefix,
    const ::gnmi::Update& update);

// A driver Edit (kReplace/kUpdate) as the gNMI updates that carry it in
// `encoding`. Never empty: a replace with nothing below the node sends "{}".
absl::StatusOr<std::vector<::gnmi::Update>> EditToUpdates(
    const schema::GnmiTranslator& translator, const Edit& edit,
    WireEncoding encoding);

}  // namespace southgate::drivers::gnmi_driver
