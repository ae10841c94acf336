#include "pipelines/report/report_install.h"

#include <filesystem>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "mochi/port/status_macros.h"
#include "pipelines/report/document_markdown.h"
#include "pipelines/report/output_files.h"
#include "pipelines/report/report_document.h"

namespace mochi::report {

void AppendInstallStamp(absl::Time installed_at, ReportDocument* document) {
  SpanWriter(document->add_blocks()->mutable_paragraph()->mutable_spans())
      .Text(absl::StrCat("Installed by bazel run: ",
                         absl::FormatTime("%Y-%m-%dT%H:%M:%S", installed_at, absl::UTCTimeZone()),
                         " UTC."));
}

absl::StatusOr<std::vector<std::string>> InstallReport(const InstallRequest& request) {
  const std::string file_name = std::filesystem::path(request.document_path).filename().string();
  if (!absl::EndsWith(file_name, kReportDocumentSuffix) ||
      file_name.size() == kReportDocumentSuffix.size()) {
    return absl::InvalidArgumentError(absl::StrCat("--document: ", request.document_path,
                                                   " is not a <table>", kReportDocumentSuffix,
                                                   " file"));
  }
  const std::string table = file_name.substr(0, file_name.size() - kReportDocumentSuffix.size());
  MOCHI_ASSIGN_OR_RETURN(ReportDocument document, ReadReportDocument(request.document_path));
  AppendInstallStamp(request.installed_at, &document);
  MOCHI_ASSIGN_OR_RETURN(std::string document_json, ReportDocumentToJson(document));

  return WriteOutputFiles(request.out_dir,
                          {{table + ".md", RenderMarkdown(document)},
                           {table + std::string(kReportDocumentSuffix), std::move(document_json)}});
}

}  // namespace mochi::report
