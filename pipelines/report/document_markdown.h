// A report document as Markdown (GitHub's dialect): the <table>.md files.
#ifndef PIPELINES_REPORT_DOCUMENT_MARKDOWN_H_
#define PIPELINES_REPORT_DOCUMENT_MARKDOWN_H_

#include <string>

#include "pipelines/report/report_document.pb.h"

namespace mochi::report {

// Blocks are separated by a blank line (none after the @generated comment). Span text is written
// as is, except in table cells, where "|" becomes "\|" and line breaks become spaces.
//
// Example: a heading "T" and a paragraph [text "Table ", code "t1"] give "# T\n\nTable `t1`\n".
std::string RenderMarkdown(const ReportDocument& document);

}  // namespace mochi::report

#endif  // PIPELINES_REPORT_DOCUMENT_MARKDOWN_H_
