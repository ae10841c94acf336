// Result files as JSON through protobuf's JSON support (mochi/proto/results.proto): field names
// as in the .proto, every set field printed, unknown fields rejected on read, so a misspelt or
// stale key fails loudly instead of reading as 0.
//
// Example:
//   proto::KnnResult knn;
//   knn.set_top1(0.81);
//   MOCHI_RETURN_IF_ERROR(WriteJsonProto(dir + "/knn.json", knn));
//   MOCHI_ASSIGN_OR_RETURN(proto::KnnResult read, ReadJsonProtoFile<proto::KnnResult>(path));
#ifndef MOCHI_PORT_JSON_PROTO_H_
#define MOCHI_PORT_JSON_PROTO_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace mochi {

// One-line JSON of `message` (for JSON Lines files such as metrics.jsonl).
std::string ToJsonLine(const google::protobuf::Message& message);

// Indented JSON of `message` plus a newline, written atomically (WriteFileAtomically).
absl::Status WriteJsonProto(const std::string& path, const google::protobuf::Message& message);

// Parses `text` into `message` (cleared first). InvalidArgument "<source_name>: <why>" for
// invalid JSON, unknown fields and values of the wrong type.
absl::Status ParseJsonProto(absl::string_view text, absl::string_view source_name,
                            google::protobuf::Message* message);

// Reads and parses a file; NotFound if it cannot be read.
absl::Status ReadJsonProtoFile(const std::string& path, google::protobuf::Message* message);

template <typename T>
absl::StatusOr<T> ReadJsonProtoFile(const std::string& path) {
  T message;
  absl::Status status = ReadJsonProtoFile(path, &message);
  if (!status.ok()) return status;
  return message;
}

}  // namespace mochi

#endif  // MOCHI_PORT_JSON_PROTO_H_
