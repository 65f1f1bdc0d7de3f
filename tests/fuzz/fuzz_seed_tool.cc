// Converts the proto seeds (text format, readable and reviewable in
// tests/fuzz/corpus/) to the binary inputs the fuzz targets read, and back
// (to read a crash input):
//   fuzz_seed_tool to-binary set|subscribe IN.txtpb OUT
//   fuzz_seed_tool to-text set|subscribe IN
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "fuzz_inputs.pb.h"
#include "github.com/openconfig/gnmi/proto/gnmi/gnmi.pb.h"
#include "google/protobuf/text_format.h"

namespace {

std::unique_ptr<google::protobuf::Message> NewMessage(const std::string& kind) {
  if (kind == "set") return std::make_unique<gnmi::SetRequest>();
  if (kind == "subscribe") {
    return std::make_unique<southgate::fuzz::SubscribeSession>();
  }
  return nullptr;
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  *out = text.str();
  return static_cast<bool>(in);
}

int Usage() {
  std::cerr << "usage: fuzz_seed_tool to-binary set|subscribe IN.txtpb OUT\n"
               "       fuzz_seed_tool to-text set|subscribe IN\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) return Usage();
  const std::string command = argv[1];
  auto message = NewMessage(argv[2]);
  std::string input;
  if (!message) return Usage();
  if (!ReadFile(argv[3], &input)) {
    std::cerr << "cannot read " << argv[3] << "\n";
    return 1;
  }
  if (command == "to-binary" && argc == 5) {
    if (!google::protobuf::TextFormat::ParseFromString(input, message.get())) {
      std::cerr << argv[3] << ": not a valid text proto\n";
      return 1;
    }
    std::ofstream out(argv[4], std::ios::binary | std::ios::trunc);
    out << message->SerializeAsString();
    return out ? 0 : 1;
  }
  if (command == "to-text" && argc == 4) {
    if (!message->ParseFromString(input)) {
      std::cerr << argv[3] << ": not a serialized message\n";
      return 1;
    }
    std::string text;
    google::protobuf::TextFormat::PrintToString(*message, &text);
    std::cout << text;
    return 0;
  }
  return Usage();
}
