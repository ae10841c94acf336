#include "mochi/port/text_proto.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "mochi/port/status_macros.h"

namespace mochi {
namespace {

constexpr absl::string_view kMessageHeader = "# proto-message:";

class CollectingErrors : public google::protobuf::io::ErrorCollector {
 public:
  explicit CollectingErrors(absl::string_view source) : source_(source) {}
  void AddError(int line, int column, const std::string& message) override {
    // The parser counts from 0.
    errors_.push_back(absl::StrCat(source_, ":", line + 1, ":", column + 1, ": ", message));
  }
  void AddWarning(int line, int column, const std::string& message) override {
    AddError(line, column, message);
  }
  std::string Joined() const { return absl::StrJoin(errors_, "\n"); }
  bool empty() const { return errors_.empty(); }

 private:
  std::string source_;
  std::vector<std::string> errors_;
};

absl::Status Parse(absl::string_view text, absl::string_view source_name, bool merge,
                   google::protobuf::Message* message) {
  CollectingErrors errors(source_name);
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  const std::string owned(text);
  const bool ok =
      merge ? parser.MergeFromString(owned, message) : parser.ParseFromString(owned, message);
  if (!ok || !errors.empty()) {
    return absl::InvalidArgumentError(
        errors.empty()
            ? absl::StrCat(source_name, ": cannot parse as ", message->GetDescriptor()->full_name())
            : errors.Joined());
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseTextProto(absl::string_view text, absl::string_view source_name,
                            google::protobuf::Message* message) {
  message->Clear();
  return Parse(text, source_name, /*merge=*/false, message);
}

absl::Status MergeTextProto(absl::string_view text, absl::string_view source_name,
                            google::protobuf::Message* message) {
  return Parse(text, source_name, /*merge=*/true, message);
}

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open file"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return buffer.str();
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& contents) {
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << contents;
    out.flush();
    if (!out) return absl::InternalError(absl::StrCat(temp, ": cannot write"));
  }
  return CommitFile(temp, path);
}

namespace {
absl::Status Fsync(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat(path, ": open for fsync: ", std::strerror(errno)));
  }
  const int rc = ::fsync(fd);
  const int fsync_errno = errno;
  ::close(fd);
  if (rc != 0) {
    return absl::InternalError(absl::StrCat(path, ": fsync: ", std::strerror(fsync_errno)));
  }
  return absl::OkStatus();
}
}  // namespace

absl::Status CommitFile(const std::string& temp, const std::string& path) {
  MOCHI_RETURN_IF_ERROR(Fsync(temp, O_RDONLY));
  std::error_code error;
  std::filesystem::rename(temp, path, error);
  if (error) {
    return absl::InternalError(absl::StrCat("rename ", temp, " -> ", path, ": ", error.message()));
  }
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return Fsync(parent.empty() ? "." : parent.string(), O_RDONLY | O_DIRECTORY);
}

namespace {
absl::StatusOr<std::string> HeaderMessage(absl::string_view text) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, kMessageHeader)) {
      return std::string(absl::StripAsciiWhitespace(line.substr(kMessageHeader.size())));
    }
  }
  return absl::NotFoundError("no '# proto-message:' header");
}
}  // namespace

absl::StatusOr<std::string> DeclaredProtoMessage(const std::string& path) {
  MOCHI_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  absl::StatusOr<std::string> declared = HeaderMessage(text);
  if (!declared.ok())
    return absl::NotFoundError(absl::StrCat(path, ": ", declared.status().message()));
  return declared;
}

absl::Status ParseTextProtoFile(const std::string& path, google::protobuf::Message* message) {
  MOCHI_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  absl::StatusOr<std::string> declared = HeaderMessage(text);
  const std::string& expected = message->GetDescriptor()->full_name();
  if (declared.ok() && *declared != expected) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": declares '# proto-message: ", *declared,
                                                   "' but is being read as ", expected));
  }
  return ParseTextProto(text, path, message);
}

std::string ToTextProto(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::TextFormat::PrintToString(message, &out);
  return out;
}

}  // namespace mochi
