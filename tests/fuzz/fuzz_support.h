// What the fuzz targets share: the schemas, seed data and an in-process
// gateway (sim devices behind the real GnmiHandler and GnmiService).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "google/protobuf/message.h"
#include "schema/data_tree.h"
#include "schema/yang_context.h"

namespace southgate::fuzz {

// The input as lines (split at '\n', nothing else removed).
std::vector<std::string> Lines(const uint8_t* data, size_t size);

// Every kind of YANG node and type (tests/schema/yang), the IETF models the
// sim serves and OpenConfig interfaces and system (../shared), in one
// context: top-level names clash, as on a real multi-vendor target.
std::shared_ptr<const schema::YangContext> MixedContext();

// Data for MixedContext(): both sim seeds and every sg-test leaf type.
const schema::DataTree& MixedData();

// False when `message` could not arrive over gRPC: protobuf refuses to
// parse proto3 string fields that are not UTF-8, so the daemon never sees
// such paths; inputs built from raw fuzz bytes are filtered the same way.
bool WireValid(const google::protobuf::Message& message);

// Quiets the project's logging (spdlog) so that runs stay readable.
void QuietLogs();

// Where the project's files are (compile-time definitions).
std::string SourceDir();
std::string SharedDir();
std::string PluginDir();

}  // namespace southgate::fuzz
