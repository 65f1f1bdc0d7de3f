// JSON and JSON_IETF values decoded into the schema: a Set's TypedValue
// (json_val / json_ietf_val) checked and turned into an RFC 7951 edit by
// the translator, applied to a libyang data tree as the sim driver does,
// validated and printed; and a driver's leaf value encoded back for a
// client (LeafValue) in every encoding.
//
// Input: line 1 the target path (gnmic style, e.g.
// "/sg-test:top/item[id=1]"), the rest the JSON text.
#include "fuzz_support.h"
#include "schema/gnmi_translator.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  southgate::fuzz::QuietLogs();
  southgate::fuzz::MixedData();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace southgate;
  using namespace southgate::fuzz;
  static const auto* translator = new schema::GnmiTranslator(MixedContext());
  std::string text(reinterpret_cast<const char*>(data), size);
  const size_t newline = text.find('\n');
  if (newline == std::string::npos) return 0;
  const std::string target = text.substr(0, newline);
  const std::string value_text = text.substr(newline + 1);
  auto path = translator->ToGnmiPath(target);
  if (!path.ok() || !WireValid(*path)) return 0;
  gnmi::Path prefix;
  for (bool ietf : {false, true}) {
    gnmi::TypedValue value;
    if (ietf) {
      value.set_json_ietf_val(value_text);
    } else {
      value.set_json_val(value_text);
    }
    for (Edit::Op op : {Edit::Op::kUpdate, Edit::Op::kReplace}) {
      auto edit = translator->ToEdit(op, prefix, *path, &value);
      if (!edit.ok()) continue;
      schema::DataTree tree = MixedData().Clone();
      if (!tree.Apply(*edit).ok()) continue;
      (void)tree.Validate();
      (void)tree.ToJsonIetf();
    }
  }
  // The other direction: a driver's value of that leaf for a client.
  auto resolved = translator->ToXPath(prefix, *path);
  if (resolved.ok() && resolved->is_leaf && !resolved->has_wildcards) {
    for (gnmi::Encoding encoding : {gnmi::JSON, gnmi::JSON_IETF, gnmi::PROTO}) {
      (void)translator->LeafValue(resolved->xpath, value_text, encoding);
    }
  }
  return 0;
}
