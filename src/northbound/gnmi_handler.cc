#include "northbound/gnmi_handler.h"

#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "common/time.h"
#include "ops/metrics.h"
#include "schema/data_tree.h"

namespace southgate::northbound {

// Driver call latency for southgate_device_rpc_duration_seconds. The label
// lookup takes a mutex; it is negligible next to a device round trip.
static void ObserveDeviceRpc(const std::string& device, const char* operation,
                             const absl::Status& status,
                             std::chrono::steady_clock::time_point start) {
  ops::Metrics::Default()
      .device_rpc_seconds
      .With({device, operation,
             status.ok() ? "ok"
                         : ops::GrpcCodeName(static_cast<int>(status.code()))})
      .ObserveSince(start);
}
namespace {

absl::StatusOr<DataType> ToDataType(gnmi::GetRequest::DataType type) {
  switch (type) {
    case gnmi::GetRequest::ALL:
      return DataType::kAll;
    case gnmi::GetRequest::CONFIG:
      return DataType::kConfig;
    case gnmi::GetRequest::STATE:
      return DataType::kState;
    case gnmi::GetRequest::OPERATIONAL:
      return DataType::kOperational;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("unknown GetRequest type ", static_cast<int>(type)));
  }
}

absl::Status CheckEncoding(gnmi::Encoding encoding) {
  switch (encoding) {
    case gnmi::JSON:
    case gnmi::JSON_IETF:
    case gnmi::PROTO:
      return absl::OkStatus();
    default:
      return absl::UnimplementedError(
          absl::StrCat("encoding ", gnmi::Encoding_Name(encoding),
                       " is not supported; use JSON, JSON_IETF or PROTO"));
  }
}

// Extensions southgate does not implement are refused rather than ignored,
// so a client never believes e.g. a history request was honoured.
absl::Status CheckExtensions(
    const google::protobuf::RepeatedPtrField<gnmi_ext::Extension>& extensions,
    const std::string& target, const Driver* commit_driver = nullptr) {
  for (const auto& extension : extensions) {
    switch (extension.ext_case()) {
      case gnmi_ext::Extension::kCommit:
        // Only a Set reaches a driver with it, and only drivers that map it
        // (NETCONF confirmed-commit) accept it.
        if (commit_driver && commit_driver->SupportsConfirmedCommit()) break;
        return absl::UnimplementedError(absl::StrCat(
            "target '", target,
            "' does not support the commit (confirmed-commit) extension"));
      case gnmi_ext::Extension::kMasterArbitration:
        return absl::UnimplementedError(
            "the master_arbitration extension is not supported");
      case gnmi_ext::Extension::kHistory:
        return absl::UnimplementedError(
            "the history extension is not supported");
      case gnmi_ext::Extension::kDepth:
        return absl::UnimplementedError("the depth extension is not supported");
      default:
        break;
    }
  }
  return absl::OkStatus();
}

// The rollback duration of a commit that gives none (gNMI commit-confirmed
// spec: 10 minutes).
constexpr int64_t kDefaultRollbackMs = 10 * 60 * 1000;

// The gnmi_ext Commit extension of a SetRequest as the driver's CommitAction.
absl::StatusOr<CommitAction> CommitActionOf(
    const google::protobuf::RepeatedPtrField<gnmi_ext::Extension>& extensions) {
  CommitAction action;
  for (const auto& extension : extensions) {
    if (extension.ext_case() != gnmi_ext::Extension::kCommit) continue;
    if (action.kind != CommitAction::Kind::kNone) {
      return absl::InvalidArgumentError("more than one commit extension");
    }
    const gnmi_ext::Commit& commit = extension.commit();
    action.id = commit.id();
    // gNMI commit-confirmed spec: every action names its commit.
    if (action.id.empty()) {
      return absl::InvalidArgumentError("commit extension without an id");
    }
    auto millis = [](const google::protobuf::Duration& d) {
      return d.seconds() * 1000 + d.nanos() / 1000000;
    };
    switch (commit.action_case()) {
      case gnmi_ext::Commit::kCommit:
        action.kind = CommitAction::Kind::kCommit;
        // The spec's default when the client gives none: 10 minutes. An
        // explicit 0 is a commit without rollback.
        action.rollback_duration_ms =
            commit.commit().has_rollback_duration()
                ? millis(commit.commit().rollback_duration())
                : kDefaultRollbackMs;
        if (action.rollback_duration_ms < 0) {
          return absl::InvalidArgumentError("negative rollback_duration");
        }
        break;
      case gnmi_ext::Commit::kConfirm:
        action.kind = CommitAction::Kind::kConfirm;
        break;
      case gnmi_ext::Commit::kCancel:
        action.kind = CommitAction::Kind::kCancel;
        break;
      case gnmi_ext::Commit::kSetRollbackDuration:
        action.kind = CommitAction::Kind::kSetRollbackDuration;
        action.rollback_duration_ms =
            millis(commit.set_rollback_duration().rollback_duration());
        if (action.rollback_duration_ms <= 0) {
          return absl::InvalidArgumentError(
              "set_rollback_duration needs a positive rollback_duration");
        }
        break;
      default:
        return absl::InvalidArgumentError("commit extension without an action");
    }
  }
  return action;
}

// The deprecated Update.value field, as sent by old clients, as a TypedValue.
gnmi::TypedValue ValueOf(const gnmi::Update& update) {
  if (update.has_val() || !update.has_value()) return update.val();
  gnmi::TypedValue value;
  if (update.value().type() == gnmi::JSON_IETF) {
    value.set_json_ietf_val(update.value().value());
  } else {
    value.set_json_val(update.value().value());
  }
  return value;
}

// Device names for an error message: the first ten, then "...", so that a
// daemon with thousands of devices does not answer with a huge message.
std::string FirstNames(const std::vector<std::string>& names) {
  constexpr size_t kShown = 10;
  if (names.size() <= kShown) return absl::StrJoin(names, ", ");
  return absl::StrCat(
      absl::StrJoin(names.begin(), names.begin() + kShown, ", "), ", ...");
}

gnmi::Path ResponsePrefix(const gnmi::Path& request_prefix,
                          const std::string& target) {
  gnmi::Path prefix;
  prefix.set_target(target);
  if (!request_prefix.origin().empty()) {
    prefix.set_origin(request_prefix.origin());
  }
  return prefix;
}

}  // namespace

GnmiHandler::GnmiHandler(devices::DeviceManager& devices) : devices_(devices) {}

absl::StatusOr<std::shared_ptr<devices::Device>> GnmiHandler::ResolveTarget(
    const std::string& target) const {
  if (target.empty()) {
    std::vector<std::string> names = devices_.Names();
    if (names.size() == 1) return devices_.Find(names.front());
    if (names.empty()) {
      return absl::FailedPreconditionError("no devices are configured");
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "the request has no target and southgate manages ", names.size(),
        " devices (", FirstNames(names),
        "): set prefix.target to the device name (gnmic --target NAME)"));
  }
  auto device = devices_.Find(target);
  if (!device) {
    return absl::NotFoundError(
        absl::StrCat("unknown target '", target,
                     "'; known targets: ", FirstNames(devices_.Names())));
  }
  return device;
}

absl::StatusOr<gnmi::CapabilityResponse> GnmiHandler::Capabilities(
    const gnmi::CapabilityRequest& request) const {
  RETURN_IF_ERROR(CheckExtensions(request.extension(), ""));
  gnmi::CapabilityResponse response;
  std::set<std::tuple<std::string, std::string, std::string>> models;
  std::vector<std::shared_ptr<devices::Device>> all;
  for (const std::string& name : devices_.Names()) {
    all.push_back(devices_.Find(name));
  }
  all.push_back(devices_.internal_device());
  for (const auto& device : all) {
    if (!device || !device->Translator().ok()) continue;
    for (const ModelInfo& model : device->driver().Models()) {
      models.emplace(model.name, model.organization, model.version);
    }
  }
  for (const auto& [name, organization, version] : models) {
    gnmi::ModelData* model = response.add_supported_models();
    model->set_name(name);
    model->set_organization(organization);
    model->set_version(version);
  }
  response.add_supported_encodings(gnmi::JSON);
  response.add_supported_encodings(gnmi::JSON_IETF);
  response.add_supported_encodings(gnmi::PROTO);
  response.set_gnmi_version(kGnmiVersion);
  return response;
}

absl::StatusOr<gnmi::GetResponse> GnmiHandler::Get(
    const gnmi::GetRequest& request) const {
  ASSIGN_OR_RETURN(auto device, ResolveTarget(request.prefix().target()));
  RETURN_IF_ERROR(CheckExtensions(request.extension(), device->name()));
  RETURN_IF_ERROR(CheckEncoding(request.encoding()));
  ASSIGN_OR_RETURN(DataType type, ToDataType(request.type()));
  ASSIGN_OR_RETURN(auto translator, device->Translator());

  if (!request.use_models().empty()) {
    std::set<std::string> known;
    for (const ModelInfo& model : device->driver().Models()) {
      known.insert(model.name);
    }
    for (const auto& model : request.use_models()) {
      if (!known.count(model.name())) {
        return absl::InvalidArgumentError(
            absl::StrCat("target '", device->name(),
                         "' does not implement model '", model.name(), "'"));
      }
    }
  }

  // A Get without paths asks for everything: the root path.
  std::vector<gnmi::Path> paths(request.path().begin(), request.path().end());
  if (paths.empty()) paths.emplace_back();

  std::vector<schema::ResolvedPath> resolved;
  std::vector<std::string> xpaths;
  for (const gnmi::Path& path : paths) {
    absl::StatusOr<schema::ResolvedPath> one =
        translator->ToXPath(request.prefix(), path);
    if (PassesThrough(*device, one.status()))
      return GetNative(*device, request);
    if (!one.ok()) return one.status();
    xpaths.push_back(one->xpath);
    resolved.push_back(*std::move(one));
  }

  auto driver_started = std::chrono::steady_clock::now();
  absl::StatusOr<GetResult> fetched =
      device->driver().GetWithTimestamp(xpaths, type);
  ObserveDeviceRpc(device->name(), "get", fetched.status(), driver_started);
  ASSIGN_OR_RETURN(GetResult result, std::move(fetched));
  ASSIGN_OR_RETURN(
      schema::DataTree tree,
      schema::DataTree::ParseJsonIetf(translator->context(), result.document,
                                      schema::DataTree::Parse::kPartial));

  gnmi::GetResponse response;
  const int64_t timestamp =
      result.timestamp_ns > 0 ? result.timestamp_ns : NowNanos();
  for (size_t i = 0; i < resolved.size(); ++i) {
    ASSIGN_OR_RETURN(
        std::vector<gnmi::Update> updates,
        translator->ToUpdates(tree, resolved[i].xpath, request.encoding()));
    // A concrete path that names nothing is an error (gNMI 3.3.4); with
    // wildcards or a type filter, an empty answer is a valid answer.
    if (updates.empty() && !resolved[i].has_wildcards &&
        type == DataType::kAll && paths[i].elem_size() > 0) {
      return absl::NotFoundError(absl::StrCat("path ", resolved[i].xpath,
                                              " does not exist on target '",
                                              device->name(), "'"));
    }
    gnmi::Notification* notification = response.add_notification();
    notification->set_timestamp(timestamp);
    *notification->mutable_prefix() =
        ResponsePrefix(request.prefix(), device->name());
    for (gnmi::Update& update : updates) {
      *notification->add_update() = std::move(update);
    }
  }
  return response;
}

absl::StatusOr<gnmi::SetResponse> GnmiHandler::Set(
    const gnmi::SetRequest& request) const {
  ASSIGN_OR_RETURN(auto device, ResolveTarget(request.prefix().target()));
  RETURN_IF_ERROR(
      CheckExtensions(request.extension(), device->name(), &device->driver()));
  ASSIGN_OR_RETURN(auto translator, device->Translator());

  Transaction transaction;
  ASSIGN_OR_RETURN(transaction.commit, CommitActionOf(request.extension()));
  gnmi::SetResponse response;
  auto add_result = [&response](const gnmi::Path& path,
                                gnmi::UpdateResult::Operation op) {
    gnmi::UpdateResult* result = response.add_response();
    *result->mutable_path() = path;
    result->set_op(op);
  };
  // A path into a model southgate lacks sends the whole request through
  // unchanged: the device keeps it atomic.
  if (device->driver().PassesThroughUnknownPaths()) {
    std::vector<const gnmi::Path*> named(request.delete_().pointer_begin(),
                                         request.delete_().pointer_end());
    for (const auto* updates :
         {&request.replace(), &request.union_replace(), &request.update()}) {
      for (const gnmi::Update& update : *updates) {
        named.push_back(&update.path());
      }
    }
    for (const gnmi::Path* path : named) {
      if (PassesThrough(
              *device, translator->ToXPath(request.prefix(), *path).status())) {
        return SetNative(*device, request, transaction.commit);
      }
    }
  }
  // gNMI order: all deletes, then replaces, then updates.
  for (const gnmi::Path& path : request.delete_()) {
    ASSIGN_OR_RETURN(
        Edit edit,
        translator->ToEdit(Edit::Op::kDelete, request.prefix(), path, nullptr));
    transaction.edits.push_back(std::move(edit));
    add_result(path, gnmi::UpdateResult::DELETE);
  }
  auto add_updates =
      [&](const google::protobuf::RepeatedPtrField<gnmi::Update>& updates,
          Edit::Op op,
          gnmi::UpdateResult::Operation result_op) -> absl::Status {
    for (const gnmi::Update& update : updates) {
      gnmi::TypedValue value = ValueOf(update);
      ASSIGN_OR_RETURN(Edit edit, translator->ToEdit(op, request.prefix(),
                                                     update.path(), &value));
      transaction.edits.push_back(std::move(edit));
      add_result(update.path(), result_op);
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(add_updates(request.replace(), Edit::Op::kReplace,
                              gnmi::UpdateResult::REPLACE));
  // One origin per device here, so union_replace is a replace of the union
  // of what the request names.
  RETURN_IF_ERROR(add_updates(request.union_replace(), Edit::Op::kReplace,
                              gnmi::UpdateResult::UNION_REPLACE));
  RETURN_IF_ERROR(add_updates(request.update(), Edit::Op::kUpdate,
                              gnmi::UpdateResult::UPDATE));
  // Confirm, cancel and set_rollback_duration are Sets without edits.
  if (transaction.edits.empty() && !transaction.commit.IsFollowUp()) {
    return absl::InvalidArgumentError(
        "SetRequest has no delete, replace, update or union_replace");
  }

  auto driver_started = std::chrono::steady_clock::now();
  absl::StatusOr<int64_t> applied =
      device->driver().SetWithTimestamp(transaction);
  ObserveDeviceRpc(device->name(), "set", applied.status(), driver_started);
  if (!applied.ok()) {
    return NotApplied(*device, applied.status(), transaction.commit);
  }
  *response.mutable_prefix() = request.prefix();
  response.mutable_prefix()->set_target(device->name());
  response.set_timestamp(*applied > 0 ? *applied : NowNanos());
  return response;
}

bool GnmiHandler::PassesThrough(const devices::Device& device,
                                const absl::Status& resolution) {
  return resolution.code() == absl::StatusCode::kNotFound &&
         device.driver().PassesThroughUnknownPaths();
}

absl::Status GnmiHandler::NotApplied(const devices::Device& device,
                                     const absl::Status& status,
                                     const CommitAction& commit) {
  // The commit extension's refusals keep their code (gNMI commit-confirmed
  // spec): FAILED_PRECONDITION for a commit or a plain Set while a commit
  // waits for confirmation, or a follow-up without one; INVALID_ARGUMENT
  // for a follow-up (no edits, so not a schema refusal) with the wrong id.
  // Any other refusal is ABORTED.
  const absl::StatusCode code =
      status.code() == absl::StatusCode::kFailedPrecondition ||
              (commit.IsFollowUp() &&
               status.code() == absl::StatusCode::kInvalidArgument)
          ? status.code()
          : absl::StatusCode::kAborted;
  return absl::Status(
      code, absl::StrCat("Set on target '", device.name(),
                         "' was not applied, nothing changed: ",
                         absl::StatusCodeToString(status.code()), ": ",
                         status.message()));
}

absl::StatusOr<gnmi::GetResponse> GnmiHandler::GetNative(
    devices::Device& device, const gnmi::GetRequest& request) const {
  gnmi::GetRequest forwarded = request;
  forwarded.mutable_prefix()->clear_target();
  auto driver_started = std::chrono::steady_clock::now();
  absl::StatusOr<std::string> answer =
      device.driver().GetNative(forwarded.SerializeAsString());
  ObserveDeviceRpc(device.name(), "get", answer.status(), driver_started);
  if (!answer.ok()) return answer.status();
  gnmi::GetResponse response;
  if (!response.ParseFromString(*answer)) {
    return absl::InternalError(
        absl::StrCat("target '", device.name(),
                     "' answered Get with an unreadable message"));
  }
  for (gnmi::Notification& notification : *response.mutable_notification()) {
    notification.mutable_prefix()->set_target(device.name());
  }
  return response;
}

absl::StatusOr<gnmi::SetResponse> GnmiHandler::SetNative(
    devices::Device& device, const gnmi::SetRequest& request,
    const CommitAction& commit) const {
  gnmi::SetRequest forwarded = request;
  forwarded.mutable_prefix()->clear_target();
  auto driver_started = std::chrono::steady_clock::now();
  absl::StatusOr<std::string> answer =
      device.driver().SetNative(forwarded.SerializeAsString());
  ObserveDeviceRpc(device.name(), "set", answer.status(), driver_started);
  if (!answer.ok()) return NotApplied(device, answer.status(), commit);
  gnmi::SetResponse response;
  if (!response.ParseFromString(*answer)) {
    return absl::InternalError(
        absl::StrCat("target '", device.name(),
                     "' answered Set with an unreadable message"));
  }
  response.mutable_prefix()->set_target(device.name());
  return response;
}

}  // namespace southgate::northbound
