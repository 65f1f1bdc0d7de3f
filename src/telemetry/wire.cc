#include "telemetry/wire.h"

#include "google/protobuf/unknown_field_set.h"
#include "spdlog/spdlog.h"

namespace southgate::telemetry {
namespace {

int EncodingIndex(gnmi::Encoding encoding) {
  switch (encoding) {
    case gnmi::JSON:
      return 0;
    case gnmi::JSON_IETF:
      return 1;
    case gnmi::PROTO:
      return 2;
    default:
      return -1;
  }
}

}  // namespace

void AppendVarint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void AppendTag(std::string& out, int field, int wire_type) {
  AppendVarint(out, (static_cast<uint64_t>(field) << 3) | wire_type);
}

void AppendBytesField(std::string& out, int field, std::string_view bytes) {
  AppendTag(out, field, 2);
  AppendVarint(out, bytes.size());
  out.append(bytes.data(), bytes.size());
}

Leaf::~Leaf() {
  for (auto& slot : encoded_) delete slot.load(std::memory_order_relaxed);
}

const std::string* Leaf::UpdateBytes(
    gnmi::Encoding encoding, const schema::GnmiTranslator& translator) const {
  // Passed through: the device's own bytes, whatever the client asked for.
  if (native_) return &json_;
  const int index = EncodingIndex(encoding);
  if (index < 0) return nullptr;
  if (const std::string* done =
          encoded_[index].load(std::memory_order_acquire)) {
    return done;
  }
  std::string value_bytes;
  if (encoding == gnmi::JSON_IETF) {
    // The cache holds RFC 7951 already: no schema lookup needed.
    gnmi::TypedValue value;
    value.set_json_ietf_val(json_);
    value_bytes = value.SerializeAsString();
  } else {
    auto value = translator.LeafValue(path_->xpath, json_, encoding);
    if (!value.ok()) {
      spdlog::debug("telemetry: cannot encode {} as {}: {}", path_->xpath,
                    gnmi::Encoding_Name(encoding),
                    std::string(value.status().message()));
      return nullptr;
    }
    value_bytes = value->SerializeAsString();
  }
  auto* built = new std::string;
  built->reserve(path_->path_bytes.size() + value_bytes.size() + 8);
  AppendBytesField(*built, 1, path_->path_bytes);
  AppendBytesField(*built, 3, value_bytes);
  const std::string* expected = nullptr;
  if (!encoded_[index].compare_exchange_strong(expected, built,
                                               std::memory_order_acq_rel)) {
    delete built;  // another stream encoded it first
    return expected;
  }
  return built;
}

NotificationWriter::NotificationWriter(int64_t timestamp_ns,
                                       std::string_view prefix_bytes) {
  out_.reserve(4096);
  AppendTag(out_, 1, 0);
  AppendVarint(out_, static_cast<uint64_t>(timestamp_ns));
  AppendBytesField(out_, 2, prefix_bytes);
}

void NotificationWriter::MoveInto(gnmi::SubscribeResponse& response) {
  // An unknown field with the number of `update` serializes exactly as the
  // field would; the client parses an ordinary Notification.
  response.Clear();
  response.GetReflection()
      ->MutableUnknownFields(&response)
      ->AddLengthDelimited(1)
      ->swap(out_);
}

}  // namespace southgate::telemetry
