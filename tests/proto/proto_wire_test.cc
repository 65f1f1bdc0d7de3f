// Checks the compiled gNMI descriptors against the published wire table in
// ${SOUTHGATE_SHARED_DIR}/gnmi-wire.txt, line by line, in both directions:
// every table line matches a descriptor and every field, enum value, method
// and extension in our proto files appears in the table.
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "github.com/openconfig/gnmi/proto/gnmi/gnmi.pb.h"
#include "github.com/openconfig/gnmi/proto/gnmi_ext/gnmi_ext.pb.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"

namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;
using google::protobuf::MethodDescriptor;
using google::protobuf::ServiceDescriptor;

constexpr char kWireFile[] = SOUTHGATE_SHARED_DIR "/gnmi-wire.txt";

struct Line {
  int number;
  std::string text;
};

std::string Where(const Line& line) {
  return absl::StrCat(kWireFile, ":", line.number, ": \"", line.text, "\"");
}

// The type of a field as the table writes it.
std::string TypeName(const FieldDescriptor* field) {
  std::string name;
  switch (field->type()) {
    case FieldDescriptor::TYPE_MESSAGE:
    case FieldDescriptor::TYPE_GROUP:
      name = field->message_type()->full_name();
      break;
    case FieldDescriptor::TYPE_ENUM:
      name = field->enum_type()->full_name();
      break;
    default:
      name = field->type_name();
  }
  return field->is_repeated() ? absl::StrCat("repeated ", name) : name;
}

class WireTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Referencing the descriptors links the generated code (and registers
    // the files in the generated pool).
    ASSERT_NE(gnmi::GetRequest::descriptor(), nullptr);
    ASSERT_NE(gnmi_ext::Extension::descriptor(), nullptr);
    pool_ = DescriptorPool::generated_pool();

    std::ifstream in(kWireFile);
    ASSERT_TRUE(in) << "cannot read " << kWireFile;
    std::string text;
    int number = 0;
    while (std::getline(in, text)) {
      ++number;
      absl::string_view stripped = absl::StripAsciiWhitespace(text);
      if (stripped.empty()) continue;
      if (absl::ConsumePrefix(&stripped, "#")) {
        stripped = absl::StripLeadingAsciiWhitespace(stripped);
        if (absl::StartsWith(stripped, "file ")) {
          file_lines_.push_back({number, std::string(stripped)});
        }
        continue;
      }
      lines_.push_back({number, std::string(stripped)});
    }
  }

  // Checks one "# file PATH package PKG" line; returns the file.
  const FileDescriptor* CheckFileLine(const Line& line) {
    std::vector<std::string> words = absl::StrSplit(line.text, ' ');
    if (words.size() != 4 || words[0] != "file" || words[2] != "package") {
      ADD_FAILURE() << Where(line) << ": malformed file line";
      return nullptr;
    }
    const FileDescriptor* file = pool_->FindFileByName(words[1]);
    if (file == nullptr) {
      ADD_FAILURE() << Where(line) << ": no compiled proto file " << words[1];
      return nullptr;
    }
    EXPECT_EQ(file->package(), words[3]) << Where(line);
    files_.insert(file);
    return file;
  }

  void ExpectInFile(const Line& line, const FileDescriptor* actual) {
    if (current_file_ != nullptr) {
      EXPECT_EQ(actual->name(), current_file_->name())
          << Where(line) << ": defined in another file";
    }
  }

  // "X enum: A=0, B=1"
  bool CheckEnum(const Line& line) {
    auto pos = line.text.find(" enum: ");
    if (pos == std::string::npos) return false;
    std::string name = line.text.substr(0, pos);
    const EnumDescriptor* e = pool_->FindEnumTypeByName(name);
    if (e == nullptr) {
      ADD_FAILURE() << Where(line) << ": no enum " << name;
      return true;
    }
    ExpectInFile(line, e->file());
    std::map<std::string, int> expected;
    for (absl::string_view item :
         absl::StrSplit(line.text.substr(pos + 7), ", ")) {
      std::vector<std::string> kv = absl::StrSplit(item, '=');
      if (kv.size() != 2) {
        ADD_FAILURE() << Where(line) << ": malformed enum value " << item;
        continue;
      }
      expected[kv[0]] = std::stoi(kv[1]);
    }
    std::map<std::string, int> actual;
    for (int i = 0; i < e->value_count(); ++i) {
      actual[e->value(i)->name()] = e->value(i)->number();
    }
    EXPECT_EQ(actual, expected) << Where(line) << ": enum values differ";
    checked_enums_.insert(e->full_name());
    return true;
  }

  // "service gnmi.gNMI.Subscribe(stream A) returns (stream B)"
  bool CheckService(const Line& line) {
    absl::string_view rest = line.text;
    if (!absl::ConsumePrefix(&rest, "service ")) return false;
    auto open = rest.find('(');
    auto close = rest.find(')');
    auto ret_open = rest.find("returns (");
    auto ret_close = rest.rfind(')');
    if (open == rest.npos || close == rest.npos || ret_open == rest.npos) {
      ADD_FAILURE() << Where(line) << ": malformed service line";
      return true;
    }
    std::string method_name(rest.substr(0, open));
    absl::string_view input = rest.substr(open + 1, close - open - 1);
    absl::string_view output =
        rest.substr(ret_open + 9, ret_close - ret_open - 9);
    bool client_streaming = absl::ConsumePrefix(&input, "stream ");
    bool server_streaming = absl::ConsumePrefix(&output, "stream ");
    const MethodDescriptor* method = pool_->FindMethodByName(method_name);
    if (method == nullptr) {
      ADD_FAILURE() << Where(line) << ": no method " << method_name;
      return true;
    }
    ExpectInFile(line, method->file());
    EXPECT_EQ(method->input_type()->full_name(), input) << Where(line);
    EXPECT_EQ(method->output_type()->full_name(), output) << Where(line);
    EXPECT_EQ(method->client_streaming(), client_streaming) << Where(line);
    EXPECT_EQ(method->server_streaming(), server_streaming) << Where(line);
    checked_methods_.insert(method->full_name());
    return true;
  }

  // "extension .google.protobuf.FileOptions.gnmi_service = 1001"
  bool CheckExtension(const Line& line) {
    absl::string_view rest = line.text;
    if (!absl::ConsumePrefix(&rest, "extension ")) return false;
    std::vector<std::string> parts = absl::StrSplit(rest, " = ");
    if (parts.size() != 2) {
      ADD_FAILURE() << Where(line) << ": malformed extension line";
      return true;
    }
    absl::string_view target = absl::StripPrefix(parts[0], ".");
    auto dot = target.rfind('.');
    std::string extendee(target.substr(0, dot));
    std::string name(target.substr(dot + 1));
    const FieldDescriptor* found = nullptr;
    for (const FileDescriptor* file : files_) {
      for (int i = 0; i < file->extension_count(); ++i) {
        const FieldDescriptor* ext = file->extension(i);
        if (ext->name() == name &&
            ext->containing_type()->full_name() == extendee) {
          found = ext;
        }
      }
    }
    if (found == nullptr) {
      ADD_FAILURE() << Where(line) << ": no extension " << name << " of "
                    << extendee;
      return true;
    }
    EXPECT_EQ(found->number(), std::stoi(parts[1])) << Where(line);
    checked_extensions_.insert(found->full_name());
    return true;
  }

  // "message.field = number : type [oneof=NAME] [deprecated]"
  void CheckField(const Line& line) {
    std::vector<std::string> halves = absl::StrSplit(line.text, " : ");
    std::vector<std::string> head;
    if (halves.size() == 2) head = absl::StrSplit(halves[0], " = ");
    if (halves.size() != 2 || head.size() != 2) {
      ADD_FAILURE() << Where(line) << ": malformed line";
      return;
    }
    auto dot = head[0].rfind('.');
    std::string message_name = head[0].substr(0, dot);
    std::string field_name = head[0].substr(dot + 1);
    const Descriptor* message = pool_->FindMessageTypeByName(message_name);
    if (message == nullptr) {
      ADD_FAILURE() << Where(line) << ": no message " << message_name;
      return;
    }
    ExpectInFile(line, message->file());
    const FieldDescriptor* field = message->FindFieldByName(field_name);
    if (field == nullptr) {
      ADD_FAILURE() << Where(line) << ": no field " << field_name << " in "
                    << message_name;
      return;
    }
    EXPECT_EQ(field->number(), std::stoi(head[1]))
        << Where(line) << ": field number";

    std::vector<std::string> words =
        absl::StrSplit(halves[1], ' ', absl::SkipEmpty());
    std::string type;
    std::string oneof;
    bool deprecated = false;
    for (const std::string& word : words) {
      if (word == "[deprecated]" || word == "deprecated") {
        deprecated = true;
      } else if (absl::StartsWith(word, "oneof=")) {
        oneof = word.substr(6);
      } else if (absl::StartsWith(word, "[oneof=")) {
        oneof = word.substr(7, word.size() - 8);
      } else {
        type = type.empty() ? word : absl::StrCat(type, " ", word);
      }
    }
    EXPECT_EQ(TypeName(field), type) << Where(line) << ": field type";
    const auto* containing_oneof = field->real_containing_oneof();
    EXPECT_EQ(containing_oneof != nullptr ? containing_oneof->name() : "",
              oneof)
        << Where(line) << ": oneof";
    EXPECT_EQ(field->options().deprecated(), deprecated)
        << Where(line) << ": deprecated option";
    checked_fields_.insert(field->full_name());
  }

  // Collects every field and enum in `message` (recursively; map entry
  // types are the table's "repeated ...KeyEntry" and not listed).
  void CollectMessage(const Descriptor* message) {
    if (message->options().map_entry()) return;
    for (int i = 0; i < message->field_count(); ++i) {
      all_fields_.insert(message->field(i)->full_name());
    }
    for (int i = 0; i < message->nested_type_count(); ++i) {
      CollectMessage(message->nested_type(i));
    }
    for (int i = 0; i < message->enum_type_count(); ++i) {
      all_enums_.insert(message->enum_type(i)->full_name());
    }
  }

  const DescriptorPool* pool_ = nullptr;
  std::vector<Line> lines_;
  std::vector<Line> file_lines_;
  const FileDescriptor* current_file_ = nullptr;
  std::set<const FileDescriptor*> files_;
  std::set<std::string> checked_fields_, checked_enums_, checked_methods_,
      checked_extensions_;
  std::set<std::string> all_fields_, all_enums_, all_methods_, all_extensions_;
};

TEST_F(WireTableTest, EveryLineMatchesTheCompiledDescriptors) {
  ASSERT_GT(lines_.size(), 100u);
  ASSERT_EQ(file_lines_.size(), 2u);
  for (const Line& line : file_lines_) CheckFileLine(line);

  // Walk the file again so "# file" lines scope the lines after them.
  std::ifstream in(kWireFile);
  std::string text;
  int number = 0;
  size_t checked = 0;
  size_t next_line = 0;
  while (std::getline(in, text)) {
    ++number;
    for (const Line& file_line : file_lines_) {
      if (file_line.number == number) {
        current_file_ = pool_->FindFileByName(
            std::vector<std::string>(absl::StrSplit(file_line.text, ' '))[1]);
      }
    }
    if (next_line >= lines_.size() || lines_[next_line].number != number) {
      continue;
    }
    const Line& line = lines_[next_line++];
    if (!CheckEnum(line) && !CheckService(line) && !CheckExtension(line)) {
      CheckField(line);
    }
    ++checked;
  }
  EXPECT_EQ(checked, lines_.size()) << "every non-comment line is checked";
  EXPECT_EQ(checked, checked_fields_.size() + checked_enums_.size() +
                         checked_methods_.size() + checked_extensions_.size())
      << "every line matched exactly one distinct descriptor";
}

TEST_F(WireTableTest, TableListsEverythingInOurProtoFiles) {
  current_file_ = nullptr;
  for (const Line& line : file_lines_) CheckFileLine(line);
  for (const Line& line : lines_) {
    if (!CheckEnum(line) && !CheckService(line) && !CheckExtension(line)) {
      CheckField(line);
    }
  }
  ASSERT_EQ(files_.size(), 2u);
  for (const FileDescriptor* file : files_) {
    for (int i = 0; i < file->message_type_count(); ++i) {
      CollectMessage(file->message_type(i));
    }
    for (int i = 0; i < file->enum_type_count(); ++i) {
      all_enums_.insert(file->enum_type(i)->full_name());
    }
    for (int i = 0; i < file->service_count(); ++i) {
      const ServiceDescriptor* service = file->service(i);
      for (int j = 0; j < service->method_count(); ++j) {
        all_methods_.insert(service->method(j)->full_name());
      }
    }
    for (int i = 0; i < file->extension_count(); ++i) {
      all_extensions_.insert(file->extension(i)->full_name());
    }
  }
  auto expect_covered = [](const std::set<std::string>& all,
                           const std::set<std::string>& checked,
                           const char* what) {
    for (const std::string& name : all) {
      EXPECT_TRUE(checked.contains(name))
          << what << " " << name << " is in our proto files but not in "
          << kWireFile;
    }
  };
  expect_covered(all_fields_, checked_fields_, "field");
  expect_covered(all_enums_, checked_enums_, "enum");
  expect_covered(all_methods_, checked_methods_, "method");
  expect_covered(all_extensions_, checked_extensions_, "extension");
}

}  // namespace
