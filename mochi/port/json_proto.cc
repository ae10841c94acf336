#include "mochi/port/json_proto.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "mochi/port/status_macros.h"
#include "mochi/port/text_proto.h"

namespace mochi {
namespace {

std::string ToJson(const google::protobuf::Message& message, bool indent) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.add_whitespace = indent;
  std::string json;
  // Printing a well-formed message cannot fail (it can only for Any with an unknown type).
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

}  // namespace

std::string ToJsonLine(const google::protobuf::Message& message) { return ToJson(message, false); }

absl::Status WriteJsonProto(const std::string& path, const google::protobuf::Message& message) {
  std::string json = ToJson(message, true);
  if (json.empty() || json.back() != '\n') json += '\n';
  return WriteFileAtomically(path, json);
}

absl::Status ParseJsonProto(absl::string_view text, absl::string_view source_name,
                            google::protobuf::Message* message) {
  message->Clear();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(text.data(), text.size()), message, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(source_name, ": not a valid ",
                                                   message->GetTypeName(),
                                                   " (JSON): ", std::string(status.message())));
  }
  return absl::OkStatus();
}

absl::Status ReadJsonProtoFile(const std::string& path, google::protobuf::Message* message) {
  MOCHI_ASSIGN_OR_RETURN(const std::string text, ReadFileToString(path));
  return ParseJsonProto(text, path, message);
}

}  // namespace mochi
