#include "pipelines/report/report_install.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "mochi/port/status_macros.h"
#include "mochi/port/text_proto.h"
#include "pipelines/report/document_markdown.h"
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

  std::error_code error;
  std::filesystem::create_directories(request.out_dir, error);
  if (error) {
    return absl::PermissionDeniedError(
        absl::StrCat("--out_dir: cannot create ", request.out_dir, ": ", error.message()));
  }
  const std::pair<std::string, std::string> outputs[] = {
      {table + ".md", RenderMarkdown(document)},
      {table + std::string(kReportDocumentSuffix), std::move(document_json)}};
  std::vector<std::string> written;
  for (const auto& [name, contents] : outputs) {
    const std::string path = (std::filesystem::path(request.out_dir) / name).string();
    MOCHI_RETURN_IF_ERROR(WriteFileAtomically(path, contents));
    written.push_back(path);
  }
  return written;
}

}  // namespace mochi::report
