// Text-proto config files: parse with errors that name the file, line and field.
#ifndef MOCHI_PORT_TEXT_PROTO_H_
#define MOCHI_PORT_TEXT_PROTO_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace mochi {

// Parses `text` into `message` (cleared first). Unknown fields, bad values and syntax errors
// become InvalidArgument "<source_name>:<line>:<col>: <parser message>".
absl::Status ParseTextProto(absl::string_view text, absl::string_view source_name,
                            google::protobuf::Message* message);

// Merges `text` over `message` (repeated fields append), for --override fragments.
absl::Status MergeTextProto(absl::string_view text, absl::string_view source_name,
                            google::protobuf::Message* message);

// Reads and parses a file. A `# proto-message: mochi.proto.X` header line, when present, must
// name `message`'s type. NotFound if the file does not exist.
absl::Status ParseTextProtoFile(const std::string& path, google::protobuf::Message* message);

// Reads the message type a text-proto file declares in its `# proto-message:` header,
// or NotFound if it has none.
absl::StatusOr<std::string> DeclaredProtoMessage(const std::string& path);

absl::StatusOr<std::string> ReadFileToString(const std::string& path);

// Writes `contents` to a temporary file beside `path` and renames it over `path`
// (CommitFile), so readers (and an interrupted run) never see a half-written file.
absl::Status WriteFileAtomically(const std::string& path, const std::string& contents);

// Publishes a fully written `temp` as `path`: flushes it to disk, renames it over `path` and
// flushes the directory, so `path` is the old file or the new one even after a kill or a crash
// of the machine, never a mix or an empty file.
absl::Status CommitFile(const std::string& temp, const std::string& path);

// Text format of `message`, for resolved-config dumps.
std::string ToTextProto(const google::protobuf::Message& message);

template <typename T>
absl::StatusOr<T> ParseTextProtoFile(const std::string& path) {
  T message;
  absl::Status status = ParseTextProtoFile(path, &message);
  if (!status.ok()) return status;
  return message;
}

}  // namespace mochi

#endif  // MOCHI_PORT_TEXT_PROTO_H_
