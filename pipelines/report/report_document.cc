#include "pipelines/report/report_document.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "mochi/port/status_macros.h"
#include "mochi/port/text_proto.h"

namespace mochi::report {

absl::StatusOr<std::string> ReportDocumentToJson(const ReportDocument& document) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;  // the documents are committed beside the reports: diffable
  options.preserve_proto_field_names = true;
  std::string json;
  const auto status = google::protobuf::util::MessageToJsonString(document, &json, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot write the report document as JSON: ", status.message().ToString()));
  }
  if (json.empty() || json.back() != '\n') json += '\n';
  return json;
}

absl::StatusOr<ReportDocument> ParseReportDocumentJson(absl::string_view json,
                                                       absl::string_view source_name) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  ReportDocument document;
  const auto status =
      google::protobuf::util::JsonStringToMessage(std::string(json), &document, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source_name, ": not a report document: ", status.message().ToString()));
  }
  return document;
}

absl::StatusOr<ReportDocument> ReadReportDocument(const std::string& path) {
  MOCHI_ASSIGN_OR_RETURN(const std::string json, ReadFileToString(path));
  return ParseReportDocumentJson(json, path);
}

SpanWriter& SpanWriter::Text(absl::string_view text) {
  if (text.empty()) return *this;
  if (!spans_->empty() && spans_->rbegin()->kind_case() == Span::kText) {
    absl::StrAppend(spans_->rbegin()->mutable_text(), text);
  } else {
    spans_->Add()->set_text(std::string(text));
  }
  return *this;
}

SpanWriter& SpanWriter::Code(absl::string_view code) {
  spans_->Add()->set_code(std::string(code));
  return *this;
}

SpanWriter& SpanWriter::Strong(absl::string_view text) {
  spans_->Add()->set_strong(std::string(text));
  return *this;
}

SpanWriter& SpanWriter::Link(absl::string_view text, absl::string_view href) {
  Span::Link* link = spans_->Add()->mutable_link();
  link->set_text(std::string(text));
  link->set_href(std::string(href));
  return *this;
}

}  // namespace mochi::report
