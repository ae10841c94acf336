#include "pipelines/report/table_report.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "pipelines/report/document_markdown.h"
#include "pipelines/report/machine_info.h"
#include "pipelines/report/report_document.h"
#include "pipelines/report/stats.h"

namespace mochi::report {
namespace {

constexpr double kSignificanceLevel = 0.05;

std::vector<double> ColumnValues(const std::vector<RunResult>& runs, const std::string& column) {
  std::vector<double> values;
  for (const RunResult& run : runs) values.push_back(run.values.at(column));
  return values;
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

void AddEnvValues(const ReportData& data, const std::string& key, bool code, SpanWriter out) {
  const std::vector<std::string> values = DistinctEnv(data, key);
  if (values.empty()) {
    out.Text("not recorded");
    return;
  }
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.Text("; ");
    if (code) {
      out.Code(values[i]);
    } else {
      out.Text(values[i]);
    }
  }
  if (values.size() > 1) out.Text(" (runs differ)");
}

std::string Seeds(const std::vector<RunResult>& runs) {
  std::vector<int> seeds;
  for (const RunResult& run : runs) seeds.push_back(run.seed);
  return absl::StrJoin(seeds, ", ");
}

void AddHeading(int level, const std::string& text, ReportDocument* document) {
  Heading* heading = document->add_blocks()->mutable_heading();
  heading->set_level(level);
  heading->set_text(text);
}

SpanWriter AddParagraph(ReportDocument* document) {
  return SpanWriter(document->add_blocks()->mutable_paragraph()->mutable_spans());
}

SpanWriter AddCell(Table::Row* row) { return SpanWriter(row->add_cells()->mutable_spans()); }

void AddCodeOrNone(const std::string& text, Table::Row* row) {
  if (text.empty()) {
    AddCell(row).Text("none");
  } else {
    AddCell(row).Code(text);
  }
}

// A header cell and its column's alignment.
void AddColumn(const std::string& label, Table::Alignment alignment, Table* table) {
  SpanWriter(table->add_header()->mutable_spans()).Text(label);
  table->add_alignment(alignment);
}

// Mean ± sample std of a cell; the value alone for one run.
std::string FormatCell(const std::vector<double>& values, int digits) {
  if (values.empty()) return "no runs";
  if (values.size() == 1) return absl::StrFormat("%.*f", digits, values[0]);
  return absl::StrFormat("%.*f ± %.*f", digits, Mean(values), digits, SampleStd(values));
}

std::string FormatPValue(double p) {
  const std::string text = p < 0.001 ? "<0.001" : absl::StrFormat("%.3f", p);
  return p < kSignificanceLevel ? absl::StrCat(text, " *") : text;
}

// What the main column's seeds can tell: the pooled seed standard deviation over the rows with
// at least 2 seeds, the smallest seed count among them, and the difference to the baseline that
// count detects with 80% power.
struct Power {
  int seeds = 0;
  double pooled_std = 0;
  double minimum_detectable = 0;
};
std::optional<Power> MainColumnPower(const ReportData& data, const std::string& column) {
  double variance_sum = 0;
  int rows = 0, seeds = 0;
  for (const auto& runs : data.runs) {
    if (runs.size() < 2) continue;
    const double std = SampleStd(ColumnValues(runs, column));
    variance_sum += std * std;
    ++rows;
    seeds = seeds == 0 ? static_cast<int>(runs.size()) : std::min<int>(seeds, runs.size());
  }
  if (rows == 0) return std::nullopt;
  Power power;
  power.seeds = seeds;
  power.pooled_std = std::sqrt(variance_sum / rows);
  power.minimum_detectable = MinimumDetectableDifference(power.pooled_std, seeds);
  return power;
}

// The main table: one column per metric (mean ± std over seeds) and the seed count; with a
// baseline and replicated rows, Δ and Welch's p for the main (first) metric; published values
// as "paper" rows where a verified source gives them. Then the other metrics' differences in a
// compact table, the finding written from the numbers, and the smallest detectable difference.
void AddResults(const ReportData& data, ReportDocument* document) {
  const ReportSpec& spec = data.spec;
  const RowSpec* baseline = spec.Baseline();
  size_t baseline_index = 0;
  for (size_t r = 0; r < spec.rows.size(); ++r) {
    if (&spec.rows[r] == baseline) baseline_index = r;
  }
  bool replicated = false;
  for (const auto& runs : data.runs) replicated = replicated || runs.size() >= 2;
  // Statistics only where seeds repeat: single runs (benchmarks) are shown as measured.
  const bool compare = baseline != nullptr && replicated && !spec.columns.empty();
  const ColumnSpec* main = spec.columns.empty() ? nullptr : &spec.columns[0];

  Table* table = document->add_blocks()->mutable_table();
  AddColumn("Method", Table::LEFT, table);
  AddColumn("seeds", Table::RIGHT, table);
  for (const ColumnSpec& column : spec.columns) AddColumn(column.label, Table::RIGHT, table);
  if (compare) {
    AddColumn(absl::StrCat("Δ ", main->label, " vs ", baseline->label), Table::RIGHT, table);
    AddColumn("p (Welch)", Table::RIGHT, table);
  }
  const std::vector<double> base =
      compare ? ColumnValues(data.runs[baseline_index], main->id) : std::vector<double>();
  std::vector<std::string> significant, not_significant, untested;
  for (size_t r = 0; r < spec.rows.size(); ++r) {
    const RowSpec& row = spec.rows[r];
    Table::Row* cells = table->add_rows();
    AddCell(cells).Text(row.baseline ? row.label + " (baseline)" : row.label);
    AddCell(cells).Text(absl::StrCat(data.runs[r].size()));
    for (const ColumnSpec& column : spec.columns) {
      AddCell(cells).Text(FormatCell(ColumnValues(data.runs[r], column.id), column.digits));
    }
    if (!compare) continue;
    if (row.baseline) {
      AddCell(cells).Text("—");
      AddCell(cells).Text("—");
      continue;
    }
    const std::vector<double> values = ColumnValues(data.runs[r], main->id);
    const std::string delta = FormatSigned(Mean(values) - Mean(base), main->digits);
    AddCell(cells).Text(delta);
    if (values.size() < 2 || base.size() < 2) {
      AddCell(cells).Text("n/a");
      untested.push_back(row.label);
      continue;
    }
    const double p = WelchTTest(values, base).p;
    AddCell(cells).Text(FormatPValue(p));
    (p < kSignificanceLevel ? significant : not_significant)
        .push_back(absl::StrCat(row.label, " (", delta, ", p ", FormatPValue(p), ")"));
  }
  for (const RowSpec& row : spec.rows) {
    bool any = false;
    for (const ColumnSpec& column : spec.columns) any = any || spec.Published(row.id, column.id);
    if (!any) continue;
    Table::Row* cells = table->add_rows();
    AddCell(cells).Text(absl::StrCat(row.label, ", paper"));
    AddCell(cells).Text("");
    for (const ColumnSpec& column : spec.columns) {
      const std::optional<double> published = spec.Published(row.id, column.id);
      AddCell(cells).Text(published ? absl::StrFormat("%.*f", column.digits, *published) : "—");
    }
    if (compare) {
      AddCell(cells).Text("");
      AddCell(cells).Text("");
    }
  }

  // The other metrics' differences, where there are seeds to test them on.
  if (compare && spec.columns.size() > 1) {
    AddParagraph(document).Text(absl::StrCat("Differences to ", baseline->label,
                                             " in the other columns (Δ of means, Welch's p):"));
    Table* others = document->add_blocks()->mutable_table();
    AddColumn("Method", Table::LEFT, others);
    for (size_t c = 1; c < spec.columns.size(); ++c) {
      AddColumn(absl::StrCat("Δ ", spec.columns[c].label), Table::RIGHT, others);
    }
    for (size_t r = 0; r < spec.rows.size(); ++r) {
      if (r == baseline_index) continue;
      Table::Row* cells = others->add_rows();
      AddCell(cells).Text(spec.rows[r].label);
      for (size_t c = 1; c < spec.columns.size(); ++c) {
        const ColumnSpec& column = spec.columns[c];
        const std::vector<double> values = ColumnValues(data.runs[r], column.id);
        const std::vector<double> against = ColumnValues(data.runs[baseline_index], column.id);
        std::string text = FormatSigned(Mean(values) - Mean(against), column.digits);
        if (values.size() >= 2 && against.size() >= 2) {
          absl::StrAppend(&text, " (p ", FormatPValue(WelchTTest(values, against).p), ")");
        }
        AddCell(cells).Text(text);
      }
    }
  }

  // The finding, from the numbers.
  SpanWriter finding = AddParagraph(document);
  finding.Strong("Finding.").Text(" ");
  if (!compare) {
    finding.Text(replicated || baseline == nullptr
                     ? "No baseline row: the rows are not compared."
                     : "Each row is one run: the table shows measurements; no difference is "
                       "tested.");
  } else {
    if (significant.empty()) {
      finding.Text(absl::StrCat("No row differs significantly from ", baseline->label, " in ",
                                main->label, " (p < 0.05)."));
    } else {
      finding.Text(absl::StrCat("In ", main->label, ", ", absl::StrJoin(significant, "; "),
                                significant.size() == 1 ? " differs" : " differ",
                                " significantly from ", baseline->label, "."));
    }
    if (!not_significant.empty() && !significant.empty()) {
      finding.Text(absl::StrCat(" Not significant: ", absl::StrJoin(not_significant, "; "), "."));
    } else if (!not_significant.empty()) {
      finding.Text(absl::StrCat(" Tested: ", absl::StrJoin(not_significant, "; "), "."));
    }
    if (!untested.empty()) {
      finding.Text(absl::StrCat(" Not tested (fewer than 2 seeds): ", absl::StrJoin(untested, ", "),
                                "."));
    }
    const std::optional<Power> power = MainColumnPower(data, main->id);
    if (power.has_value() && power->seeds >= 2) {
      finding.Text(absl::StrCat(
          " Smallest detectable difference: with ", power->seeds,
          " seeds per row and a pooled seed standard deviation of ",
          absl::StrFormat("%.*f", main->digits + 1, power->pooled_std), ", a difference in ",
          main->label, " of ", absl::StrFormat("%.*f", main->digits, power->minimum_detectable),
          " or more is detected with 80% power (two-sided, α = 0.05); a smaller difference that "
          "is not significant means too few seeds, not no effect."));
    }
  }

  SpanWriter how_to_read = AddParagraph(document);
  how_to_read.Text(
      "How to read this table: a cell is the mean ± sample standard deviation over the row's "
      "seeds (the value itself for one run; the per-seed values are in the CSV file beside this "
      "report). A published value appears as a row marked ");
  how_to_read.Code("paper")
      .Text(" only where a verified source gives it; none is shown otherwise.");
  if (compare) {
    how_to_read.Text(absl::StrCat(" Δ is the difference of means to ", baseline->label, "; "))
        .Code("p (Welch)")
        .Text(" is the two-sided p-value of Welch's t-test on the seeds, ")
        .Code("*")
        .Text(" marks p < 0.05, and ")
        .Code("n/a")
        .Text(" means one side has fewer than 2 seeds.");
  }
}

void AddFigures(const ReportData& data, const ReportContext& context, ReportDocument* document) {
  const ReportSpec& spec = data.spec;
  if (spec.figures.empty()) return;
  AddHeading(2, "Figures", document);
  for (size_t f = 0; f < spec.figures.size(); ++f) {
    const FigureSpec& figure = spec.figures[f];
    AddHeading(3, figure.title, document);
    Image* image = document->add_blocks()->mutable_image();
    image->set_src(FigureFileName(spec.table, figure.id));
    image->set_alt(figure.title);
    SpanWriter caption = AddParagraph(document);
    switch (figure.kind) {
      case FigureKind::kEpochCurve:
        caption.Code(figure.key).Text(" per epoch, mean over seeds");
        if (!figure.secondary_key.empty()) {
          caption.Text("; dashed: ")
              .Code(figure.secondary_key)
              .Text(" where it is >= 0 and differs from ")
              .Code(figure.key);
        }
        break;
      case FigureKind::kSortedProfile:
        caption.Code(figure.key)
            .Text(
                " of the last epoch against rank (log-log), mean over seeds; thin lines: earlier "
                "epochs of the baseline");
        break;
    }
    caption.Text(".");
    if (f < context.figures.size() && !context.figures[f].rows_without_logs.empty()) {
      caption.Text(absl::StrCat(" Not plotted (no training log): ",
                                absl::StrJoin(context.figures[f].rows_without_logs, ", "), "."));
    }
  }
}

void AddProvenance(const ReportData& data, const ReportContext& context, ReportDocument* document) {
  const ReportSpec& spec = data.spec;
  AddHeading(2, "Provenance", document);
  Table* table = document->add_blocks()->mutable_table();
  for (const char* label : {"Row", "config", "overrides", "seeds"}) {
    AddColumn(label, Table::LEFT, table);
  }
  AddColumn("training wall time", Table::RIGHT, table);
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
    Table::Row* cells = table->add_rows();
    AddCell(cells).Text(row.label);
    AddCodeOrNone(row.config, cells);
    AddCodeOrNone(row.overrides, cells);
    AddCell(cells).Text(Seeds(data.runs[r]));
    AddCell(cells).Text(wall);
  }

  BulletList* list = document->add_blocks()->mutable_bullet_list();
  auto item = [list] { return SpanWriter(list->add_items()->mutable_spans()); };
  item().Text("Profile: ").Code(spec.profile);
  AddEnvValues(data, "git_revision", /*code=*/true, item().Text("Code version (git): "));
  AddEnvValues(data, "libtorch", /*code=*/false, item().Text("LibTorch: "));
  AddEnvValues(data, "dataset", /*code=*/false, item().Text("Data: "));
  // Another CPU can move a result that the same machine repeats bit for bit.
  AddEnvValues(data, "cpu", /*code=*/false, item().Text("CPU (of the runs): "));
  item().Text(
      "Reproducibility: on the same machine the numbers repeat bit for bit; on another CPU model "
      "they can move (its BLAS and convolution kernels take other floating-point paths), so "
      "compare a regeneration elsewhere with these numbers within their seed spread, not "
      "digit for digit.");
  SpanWriter device = item().Text("Device: ");
  AddEnvValues(data, "device", /*code=*/false, device);
  device.Text("; intra-op threads: ");
  AddEnvValues(data, "intra_op_threads", /*code=*/false, device);
  device.Text("; BLAS: ");
  AddEnvValues(data, "blas", /*code=*/false, device);
  const std::vector<std::string> started = DistinctEnv(data, "started");
  if (!started.empty()) {
    // ISO-8601 timestamps in one zone sort as text.
    const std::string first = *std::min_element(started.begin(), started.end());
    const std::string last = *std::max_element(started.begin(), started.end());
    item().Text("Runs started: ").Text(first == last ? first : absl::StrCat(first, " to ", last));
  }
  if (!without_env.empty()) {
    item().Text("No env.txt listed for: ").Text(absl::StrJoin(without_env, ", "));
  }
  item()
      .Text("Training wall time (sum of per-epoch ")
      .Code("seconds")
      .Text(absl::StrCat(
          " in metrics.jsonl): ", runs_with_logs > 0 ? FormatDuration(total_seconds) : "not logged",
          " over ", runs_with_logs, " of ", total_runs, " runs"));
  item().Text("Machine (at report time): ").Text(context.machine);
  item()
      .Text("Report generated: ")
      .Text(absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", context.generated, absl::UTCTimeZone()));
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

ReportDocument BuildReportDocument(const ReportData& data, const ReportContext& context) {
  const ReportSpec& spec = data.spec;
  ReportDocument document;
  GeneratedComment* generated = document.add_blocks()->mutable_generated();
  generated->set_generator("//pipelines/report:make_report");
  generated->set_source(context.spec_path);
  AddHeading(1, spec.title, &document);
  AddParagraph(&document)
      .Text("Table ")
      .Code(spec.table)
      .Text(", profile ")
      .Code(spec.profile)
      .Text(".");
  if (!spec.notes.empty()) AddParagraph(&document).Text(spec.notes);
  AddHeading(2, "Results", &document);
  AddResults(data, &document);
  AddFigures(data, context, &document);
  AddProvenance(data, context, &document);
  return document;
}

std::string RenderMarkdown(const ReportData& data, const ReportContext& context) {
  return RenderMarkdown(BuildReportDocument(data, context));
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
