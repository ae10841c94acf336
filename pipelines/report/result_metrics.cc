#include "pipelines/report/result_metrics.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"
#include "mochi/port/json_proto.h"
#include "mochi/port/status_macros.h"
#include "mochi/proto/results.pb.h"

namespace mochi::report {
namespace {

using ::google::protobuf::Descriptor;
using ::google::protobuf::FieldDescriptor;
using ::google::protobuf::Message;

struct Kind {
  const char* name;
  const Descriptor* type;
};

const std::vector<Kind>& Kinds() {
  static const auto* kinds = new std::vector<Kind>{
      {"knn", proto::KnnResult::descriptor()},
      {"lincls", proto::LinearEvalResult::descriptor()},
      {"voc", proto::TransferResult::descriptor()},
      {"segm", proto::TransferResult::descriptor()},
      {"bench", proto::BenchmarkResult::descriptor()},
  };
  return *kinds;
}

bool IsNumber(const FieldDescriptor& field) {
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
      return true;
    default:
      return false;
  }
}

std::string FieldNames(const Descriptor& type) {
  std::vector<std::string> names;
  for (int i = 0; i < type.field_count(); ++i) names.push_back(type.field(i)->name());
  return absl::StrJoin(names, ", ");
}

// The fields along `path` (dotted), each but the last a singular message; InvalidArgument naming
// the first part that does not resolve.
absl::StatusOr<std::vector<const FieldDescriptor*>> ResolvePath(const Descriptor& root,
                                                                absl::string_view path) {
  std::vector<const FieldDescriptor*> fields;
  const Descriptor* type = &root;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    if (type == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", path, "\": ", fields.back()->name(), " is not a message"));
    }
    const FieldDescriptor* field = type->FindFieldByName(std::string(part));
    if (field == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("\"", path, "\": ", type->full_name(),
                                                     " has no field \"", part,
                                                     "\" (its fields: ", FieldNames(*type), ")"));
    }
    const bool last = part.end() == path.end();
    if (!last && (field->is_repeated() || field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE)) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", path, "\": ", field->name(), " is not a single message"));
    }
    fields.push_back(field);
    type = field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE ? field->message_type() : nullptr;
  }
  return fields;
}

absl::Status CheckNumberField(const Descriptor& type, absl::string_view path, bool repeated) {
  MOCHI_ASSIGN_OR_RETURN(const std::vector<const FieldDescriptor*> fields, ResolvePath(type, path));
  const FieldDescriptor& last = *fields.back();
  if (!IsNumber(last) || last.is_repeated() != repeated) {
    return absl::InvalidArgumentError(absl::StrCat("\"", path, "\" of ", type.full_name(),
                                                   " is not ",
                                                   repeated ? "a list of numbers" : "a number"));
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> ResultKinds() {
  std::vector<std::string> names;
  for (const Kind& kind : Kinds()) names.push_back(kind.name);
  return names;
}

absl::StatusOr<const Descriptor*> ResultType(absl::string_view kind) {
  for (const Kind& known : Kinds()) {
    if (kind == known.name) return known.type;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown result kind \"", kind, "\"; known kinds: ", absl::StrJoin(ResultKinds(), ", ")));
}

absl::Status CheckResultMetric(absl::string_view kind, absl::string_view metric) {
  MOCHI_ASSIGN_OR_RETURN(const Descriptor* type, ResultType(kind));
  return CheckNumberField(*type, metric, /*repeated=*/false);
}

absl::Status CheckEpochField(absl::string_view key, bool repeated) {
  return CheckNumberField(*proto::PretrainEpoch::descriptor(), key, repeated);
}

absl::StatusOr<std::unique_ptr<Message>> ReadResultFile(absl::string_view kind,
                                                        const std::string& path) {
  MOCHI_ASSIGN_OR_RETURN(const Descriptor* type, ResultType(kind));
  std::unique_ptr<Message> result(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(type)->New());
  MOCHI_RETURN_IF_ERROR(ReadJsonProtoFile(path, result.get()));
  return result;
}

absl::StatusOr<double> MetricValue(const Message& result, absl::string_view metric) {
  MOCHI_ASSIGN_OR_RETURN(const std::vector<const FieldDescriptor*> fields,
                         ResolvePath(*result.GetDescriptor(), metric));
  const Message* message = &result;
  for (const FieldDescriptor* field : fields) {
    const google::protobuf::Reflection& reflection = *message->GetReflection();
    if (!reflection.HasField(*message, field)) {
      return absl::NotFoundError(
          absl::StrCat("\"", metric, "\" is not set (", field->name(), " is absent)"));
    }
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      message = &reflection.GetMessage(*message, field);
      continue;
    }
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_DOUBLE:
        return reflection.GetDouble(*message, field);
      case FieldDescriptor::CPPTYPE_FLOAT:
        return reflection.GetFloat(*message, field);
      case FieldDescriptor::CPPTYPE_INT32:
        return reflection.GetInt32(*message, field);
      case FieldDescriptor::CPPTYPE_INT64:
        return static_cast<double>(reflection.GetInt64(*message, field));
      case FieldDescriptor::CPPTYPE_UINT32:
        return reflection.GetUInt32(*message, field);
      case FieldDescriptor::CPPTYPE_UINT64:
        return static_cast<double>(reflection.GetUInt64(*message, field));
      default:
        break;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("\"", metric, "\" is not a number"));
}

}  // namespace mochi::report
