// The report document (report_document.proto): what a report says, as headings, paragraphs,
// tables, images and lists, so the Markdown and the HTML index render the same content. Here:
// its JSON file form (<table>.report.json) and a helper that builds inline text.
#ifndef PIPELINES_REPORT_REPORT_DOCUMENT_H_
#define PIPELINES_REPORT_REPORT_DOCUMENT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_field.h"
#include "pipelines/report/report_document.pb.h"

namespace mochi::report {

// The document's file beside <table>.md: "<table>.report.json".
inline constexpr absl::string_view kReportDocumentSuffix = ".report.json";

// Protobuf JSON with the .proto field names, indented, ending in a newline.
absl::StatusOr<std::string> ReportDocumentToJson(const ReportDocument& document);

// Parses ReportDocumentToJson's output; unknown fields are errors. InvalidArgument names
// `source_name`.
absl::StatusOr<ReportDocument> ParseReportDocumentJson(absl::string_view json,
                                                       absl::string_view source_name);

// Reads and parses a <table>.report.json file; NotFound if it does not exist.
absl::StatusOr<ReportDocument> ReadReportDocument(const std::string& path);

// Appends spans to a paragraph, list item or table cell. Consecutive Text() calls make one text
// span, so a builder can write a sentence piece by piece.
//
// Example:
//   SpanWriter(block->mutable_paragraph()->mutable_spans())
//       .Text("Table ").Code("table1").Text(", profile ").Code("ci").Text(".");
class SpanWriter {
 public:
  explicit SpanWriter(google::protobuf::RepeatedPtrField<Span>* spans) : spans_(spans) {}

  SpanWriter& Text(absl::string_view text);
  SpanWriter& Code(absl::string_view code);
  SpanWriter& Strong(absl::string_view text);
  SpanWriter& Link(absl::string_view text, absl::string_view href);

 private:
  google::protobuf::RepeatedPtrField<Span>* spans_;
};

}  // namespace mochi::report

#endif  // PIPELINES_REPORT_REPORT_DOCUMENT_H_
