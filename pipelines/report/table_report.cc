#include "pipelines/report/table_report.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "pipelines/report/machine_info.h"
#include "pipelines/report/stats.h"

namespace mochi::report {
namespace {

constexpr double kSignificanceLevel = 0.05;

// Text inside a Markdown table cell: pipes escaped, no line breaks.
std::string Cell(const std::string& text) {
  return absl::StrReplaceAll(text, {{"|", "\\|"}, {"\n", " "}, {"\r", ""}});
}

std::string Code(const std::string& text) { return absl::StrCat("`", Cell(text), "`"); }

std::vector<double> ColumnValues(const std::vector<RunResult>& runs, const std::string& column) {
  std::vector<double> values;
  for (const RunResult& run : runs) values.push_back(run.values.at(column));
  return values;
}

std::string FormatP(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() < 2 || b.size() < 2) return "n/a";
  const WelchResult welch = WelchTTest(a, b);
  const std::string p = welch.p < 0.001 ? "<0.001" : absl::StrFormat("%.3f", welch.p);
  return welch.p < kSignificanceLevel ? absl::StrCat(p, " *") : p;
}

// Distinct env.txt values of `key` over all runs, in first-seen order.
std::vector<std::string> DistinctEnv(const ReportData& data, const std::string& key) {
  std::vector<std::string> values;
  for (const auto& row : data.runs) {
    for (const RunResult& run : row) {
      for (const std::string& value : EnvValues(run, key)) {
        if (std::find(values.begin(), values.end(), value) == values.end()) {
          values.push_back(value);
        }
      }
    }
  }
  return values;
}

std::string EnvLine(const ReportData& data, const std::string& key, bool code) {
  std::vector<std::string> values = DistinctEnv(data, key);
  if (values.empty()) return "not recorded";
  if (code) {
    for (std::string& v : values) v = Code(v);
  }
  std::string line = absl::StrJoin(values, "; ");
  if (values.size() > 1) absl::StrAppend(&line, " (runs differ)");
  return line;
}

std::string Seeds(const std::vector<RunResult>& runs) {
  std::vector<int> seeds;
  for (const RunResult& run : runs) seeds.push_back(run.seed);
  return absl::StrJoin(seeds, ", ");
}

void AppendResults(const ReportData& data, std::string* md) {
  const ReportSpec& spec = data.spec;
  const RowSpec* baseline = spec.Baseline();
  size_t baseline_index = 0;
  for (size_t r = 0; r < spec.rows.size(); ++r) {
    if (&spec.rows[r] == baseline) baseline_index = r;
  }
  std::vector<std::string> header = {"Method"};
  std::vector<std::string> align = {":---"};
  for (const ColumnSpec& column : spec.columns) {
    header.push_back(Cell(column.label));
    header.push_back("published");
    align.insert(align.end(), {"---:", "---:"});
    if (baseline != nullptr) {
      header.push_back(Cell(absl::StrCat("Δ vs ", baseline->label)));
      header.push_back("p (Welch)");
      align.insert(align.end(), {"---:", "---:"});
    }
  }
  absl::StrAppend(md, "| ", absl::StrJoin(header, " | "), " |\n");
  absl::StrAppend(md, "| ", absl::StrJoin(align, " | "), " |\n");
  for (size_t r = 0; r < spec.rows.size(); ++r) {
    const RowSpec& row = spec.rows[r];
    std::vector<std::string> cells = {Cell(row.baseline ? row.label + " (baseline)" : row.label)};
    for (const ColumnSpec& column : spec.columns) {
      const std::vector<double> values = ColumnValues(data.runs[r], column.id);
      cells.push_back(FormatMeanStd(values, column.digits));
      const std::optional<double> published = spec.Published(row.id, column.id);
      cells.push_back(published ? absl::StrFormat("%.*f", column.digits, *published) : "unknown");
      if (baseline == nullptr) continue;
      if (row.baseline) {
        cells.insert(cells.end(), {"—", "—"});
        continue;
      }
      const std::vector<double> base = ColumnValues(data.runs[baseline_index], column.id);
      cells.push_back(FormatSigned(Mean(values) - Mean(base), column.digits));
      cells.push_back(FormatP(values, base));
    }
    absl::StrAppend(md, "| ", absl::StrJoin(cells, " | "), " |\n");
  }
  absl::StrAppend(
      md,
      "\nHow to read this table: each measured cell is the mean ± sample standard deviation "
      "over the seeds (the number of seeds in parentheses; the per-seed values are in the CSV "
      "file beside this report). `published` is the paper's number where a verified source "
      "gives it, else `unknown`.");
  if (baseline != nullptr) {
    absl::StrAppend(md, " Δ is the difference of means to ", baseline->label,
                    "; `p (Welch)` is the two-sided p-value of Welch's t-test on the seeds, `*` "
                    "marks p < 0.05, and `n/a` means one side has fewer than 2 seeds.");
  }
  absl::StrAppend(md, "\n");
}

void AppendFigures(const ReportData& data, const ReportContext& context, std::string* md) {
  const ReportSpec& spec = data.spec;
  if (spec.figures.empty()) return;
  absl::StrAppend(md, "\n## Figures\n");
  for (size_t f = 0; f < spec.figures.size(); ++f) {
    const FigureSpec& figure = spec.figures[f];
    absl::StrAppend(md, "\n### ", figure.title, "\n\n![", figure.title, "](",
                    FigureFileName(spec.table, figure.id), ")\n\n");
    switch (figure.kind) {
      case FigureKind::kEpochCurve:
        absl::StrAppend(md, "`", figure.key, "` per epoch, mean over seeds");
        if (!figure.secondary_key.empty()) {
          absl::StrAppend(md, "; dashed: `", figure.secondary_key,
                          "` where it is >= 0 and differs from `", figure.key, "`");
        }
        break;
      case FigureKind::kSortedProfile:
        absl::StrAppend(md, "`", figure.key,
                        "` of the last epoch against rank (log-log), mean over seeds; thin lines: "
                        "earlier epochs of the baseline");
        break;
    }
    absl::StrAppend(md, ".");
    if (f < context.figures.size() && !context.figures[f].rows_without_logs.empty()) {
      absl::StrAppend(md, " Not plotted (no training log): ",
                      absl::StrJoin(context.figures[f].rows_without_logs, ", "), ".");
    }
    absl::StrAppend(md, "\n");
  }
}

void AppendProvenance(const ReportData& data, const ReportContext& context, std::string* md) {
  const ReportSpec& spec = data.spec;
  absl::StrAppend(md, "\n## Provenance\n\n");
  absl::StrAppend(md, "| Row | config | overrides | seeds | training wall time |\n");
  absl::StrAppend(md, "| :--- | :--- | :--- | :--- | ---: |\n");
  double total_seconds = 0;
  int runs_with_logs = 0, total_runs = 0;
  std::vector<std::string> without_env;
  for (size_t r = 0; r < spec.rows.size(); ++r) {
    const RowSpec& row = spec.rows[r];
    double row_seconds = 0;
    int row_logs = 0;
    for (const RunResult& run : data.runs[r]) {
      ++total_runs;
      if (run.env_path.empty()) without_env.push_back(absl::StrCat(row.id, "/seed ", run.seed));
      if (run.metrics_path.empty()) continue;
      row_seconds += run.train_seconds;
      ++row_logs;
    }
    total_seconds += row_seconds;
    runs_with_logs += row_logs;
    std::string wall = "not logged";
    if (row_logs > 0) {
      wall = FormatDuration(row_seconds);
      if (row_logs > 1)
        absl::StrAppend(&wall, " (", FormatDuration(row_seconds / row_logs), "/seed)");
    }
    absl::StrAppend(md, "| ", Cell(row.label), " | ",
                    row.config.empty() ? "none" : Code(row.config), " | ",
                    row.overrides.empty() ? "none" : Code(row.overrides), " | ",
                    Seeds(data.runs[r]), " | ", wall, " |\n");
  }
  absl::StrAppend(md, "\n- Profile: `", spec.profile, "`\n");
  absl::StrAppend(md, "- Code version (git): ", EnvLine(data, "git_revision", true), "\n");
  absl::StrAppend(md, "- LibTorch: ", EnvLine(data, "libtorch", false), "\n");
  absl::StrAppend(md, "- Data: ", EnvLine(data, "dataset", false), "\n");
  absl::StrAppend(md, "- Device: ", EnvLine(data, "device", false),
                  "; intra-op threads: ", EnvLine(data, "intra_op_threads", false),
                  "; BLAS: ", EnvLine(data, "blas", false), "\n");
  const std::vector<std::string> started = DistinctEnv(data, "started");
  if (!started.empty()) {
    // ISO-8601 timestamps in one zone sort as text.
    const std::string first = *std::min_element(started.begin(), started.end());
    const std::string last = *std::max_element(started.begin(), started.end());
    absl::StrAppend(
        md, "- Runs started: ", first == last ? first : absl::StrCat(first, " to ", last), "\n");
  }
  if (!without_env.empty()) {
    absl::StrAppend(md, "- No env.txt listed for: ", absl::StrJoin(without_env, ", "), "\n");
  }
  absl::StrAppend(md, "- Training wall time (sum of per-epoch `seconds` in metrics.jsonl): ",
                  runs_with_logs > 0 ? FormatDuration(total_seconds) : "not logged", " over ",
                  runs_with_logs, " of ", total_runs, " runs\n");
  absl::StrAppend(md, "- Machine (at report time): ", context.machine, "\n");
  absl::StrAppend(md, "- Report generated: ",
                  absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", context.generated, absl::UTCTimeZone()),
                  "\n");
}

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  return absl::StrCat("\"", absl::StrReplaceAll(text, {{"\"", "\"\""}}), "\"");
}

}  // namespace

std::string FormatMeanStd(const std::vector<double>& values, int digits) {
  const size_t n = values.size();
  if (n == 0) return "no runs";
  if (n == 1) return absl::StrFormat("%.*f (1 seed)", digits, values[0]);
  return absl::StrFormat("%.*f ± %.*f (%d seeds)", digits, Mean(values), digits, SampleStd(values),
                         n);
}

std::string FormatSigned(double value, int digits) {
  std::string text = absl::StrFormat("%+.*f", digits, value);
  // "-0.00" would suggest a sign the rounded value does not have.
  if (text.find_first_not_of("+-0.") == std::string::npos) text[0] = '+';
  return text;
}

std::string FigureFileName(const std::string& table, const std::string& figure_id) {
  return absl::StrCat(table, "_", figure_id, ".svg");
}

std::string RenderMarkdown(const ReportData& data, const ReportContext& context) {
  const ReportSpec& spec = data.spec;
  std::string md = absl::StrCat("<!-- @generated by //pipelines/report:make_report from ",
                                context.spec_path, "; do not edit. -->\n");
  absl::StrAppend(&md, "# ", spec.title, "\n\n");
  absl::StrAppend(&md, "Table `", spec.table, "`, profile `", spec.profile, "`.\n");
  if (!spec.notes.empty()) absl::StrAppend(&md, "\n", spec.notes, "\n");
  absl::StrAppend(&md, "\n## Results\n\n");
  AppendResults(data, &md);
  AppendFigures(data, context, &md);
  AppendProvenance(data, context, &md);
  return md;
}

std::string RenderCsv(const ReportData& data) {
  std::string csv = "row_id,label,seed,column,value,published\n";
  for (size_t r = 0; r < data.spec.rows.size(); ++r) {
    const RowSpec& row = data.spec.rows[r];
    for (const RunResult& run : data.runs[r]) {
      for (const ColumnSpec& column : data.spec.columns) {
        const std::optional<double> published = data.spec.Published(row.id, column.id);
        absl::StrAppend(&csv, CsvField(row.id), ",", CsvField(row.label), ",", run.seed, ",",
                        CsvField(column.id), ",",
                        absl::StrFormat("%.12g", run.values.at(column.id)), ",",
                        published ? absl::StrFormat("%.12g", *published) : "unknown", "\n");
      }
    }
  }
  return csv;
}

}  // namespace mochi::report
