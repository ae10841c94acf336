// Turns a loaded report into its document (report_document.proto): the paper-style table (mean ±
// std over seeds, published value, difference to the baseline and a Welch t-test mark), figures
// and a provenance block; and into a long-format CSV of the raw per-seed values.
#ifndef PIPELINES_REPORT_TABLE_REPORT_H_
#define PIPELINES_REPORT_TABLE_REPORT_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "pipelines/report/figures.h"
#include "pipelines/report/report_document.pb.h"
#include "pipelines/report/run_results.h"

namespace mochi::report {

// What the report states besides the results; fixed in tests, read from the system in main.
struct ReportContext {
  std::string spec_path;        // named in the @generated line
  std::string machine;          // DescribeThisMachine()
  absl::Time generated;         // report time, printed in UTC
  std::vector<Figure> figures;  // parallel to spec.figures (rows left out of each figure)
};

// Cells, exposed for tests. `digits` decimals throughout.
//   FormatMeanStd({83.1, 83.5, 83.9}, 2) == "83.50 ± 0.40 (3 seeds)"; one value: "83.10 (1 seed)".
std::string FormatMeanStd(const std::vector<double>& values, int digits);
//   FormatSigned(1.234, 2) == "+1.23".
std::string FormatSigned(double value, int digits);

// File names the report uses for a figure: "<table>_<figure id>.svg".
std::string FigureFileName(const std::string& table, const std::string& figure_id);

ReportDocument BuildReportDocument(const ReportData& data, const ReportContext& context);

// RenderMarkdown (document_markdown.h) of BuildReportDocument: the <table>.md file.
std::string RenderMarkdown(const ReportData& data, const ReportContext& context);

// Header "row_id,label,seed,column,value,published", then one line per row x seed x column.
// `value` is in display units (x scale, as in the table and as `published`), with 12
// significant digits; `published` is the number or "unknown".
std::string RenderCsv(const ReportData& data);

}  // namespace mochi::report

#endif  // PIPELINES_REPORT_TABLE_REPORT_H_
