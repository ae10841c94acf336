#include "pipelines/report/report_writer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "mochi/port/status_macros.h"
#include "mochi/port/text_proto.h"
#include "pipelines/report/document_markdown.h"
#include "pipelines/report/figures.h"
#include "pipelines/report/output_files.h"
#include "pipelines/report/report_document.h"
#include "pipelines/report/report_spec.h"
#include "pipelines/report/run_results.h"
#include "pipelines/report/svg_plot.h"
#include "pipelines/report/table_report.h"

namespace mochi::report {

absl::StatusOr<std::vector<std::string>> WriteReport(const ReportRequest& request) {
  absl::StatusOr<std::string> spec_text = ReadFileToString(request.spec_path);
  if (!spec_text.ok()) {
    return absl::NotFoundError(absl::StrCat("--spec: cannot read ", request.spec_path));
  }
  MOCHI_ASSIGN_OR_RETURN(ReportSpec spec, ParseReportSpec(*spec_text, request.spec_path));
  const std::string table = spec.table;
  MOCHI_ASSIGN_OR_RETURN(const ReportData data, LoadReportData(std::move(spec), request.root));

  // Render everything before writing anything, so a bad figure leaves no half-updated report.
  ReportContext context;
  context.spec_path = request.spec_path;
  context.machine = request.machine;
  context.generated = request.now;
  std::vector<std::pair<std::string, std::string>> outputs;  // (file name, contents)
  for (const FigureSpec& figure_spec : data.spec.figures) {
    MOCHI_ASSIGN_OR_RETURN(Figure figure, BuildFigure(figure_spec, data));
    outputs.emplace_back(FigureFileName(table, figure_spec.id), RenderSvg(figure.plot));
    context.figures.push_back(std::move(figure));
  }
  const ReportDocument document = BuildReportDocument(data, context);
  MOCHI_ASSIGN_OR_RETURN(std::string document_json, ReportDocumentToJson(document));
  outputs.emplace_back(table + ".md", RenderMarkdown(document));
  outputs.emplace_back(table + std::string(kReportDocumentSuffix), std::move(document_json));
  outputs.emplace_back(table + ".csv", RenderCsv(data));

  return WriteOutputFiles(request.out_dir, outputs);
}

}  // namespace mochi::report
