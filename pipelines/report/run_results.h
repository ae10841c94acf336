// Loads the result files a ReportSpec names: the table values of every row x seed x column (each
// file read as its result kind's message, result_metrics.h), the per-epoch training log
// (metrics.jsonl, one PretrainEpoch per line) and the run environment (env.txt). Every missing
// file, file role or metric is an error naming the row, seed, column (or figure) and path: a table
// cell is never silently zero.
#ifndef PIPELINES_REPORT_RUN_RESULTS_H_
#define PIPELINES_REPORT_RUN_RESULTS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "pipelines/report/report_spec.h"

namespace mochi::report {

// One line of metrics.jsonl: the numbers it sets, by PretrainEpoch field name.
struct EpochLog {
  int epoch = 0;
  std::map<std::string, double> scalars;  // numbers, and booleans as 0 / 1
  std::map<std::string, std::vector<double>> arrays;
};

struct RunResult {
  int seed = 0;
  std::map<std::string, double> values;  // column id -> value in display units (x scale)
  std::string metrics_path;              // empty when the run has no "metrics" file
  std::vector<EpochLog> epochs;
  std::string env_path;                                  // empty when the run has no "env" file
  std::vector<std::pair<std::string, std::string>> env;  // env.txt "key: value" lines, in order
  double train_seconds = 0;                              // sum of the epochs' "seconds"
};

struct ReportData {
  ReportSpec spec;
  std::vector<std::vector<RunResult>> runs;  // [row][run], parallel to spec.rows[i].runs
};

// Reads every file the spec's columns need, plus each run's "metrics" and "env" files when the
// run lists them. Relative paths are taken from `root` (the current directory when empty).
// NotFound for a missing file, file role or key; InvalidArgument for unparsable files or
// non-numeric values.
absl::StatusOr<ReportData> LoadReportData(ReportSpec spec, const std::string& root);

// Parses metrics.jsonl text (every non-blank line a PretrainEpoch with its epoch set); `path`
// only names the file in errors.
absl::StatusOr<std::vector<EpochLog>> ParseMetricsLog(absl::string_view text,
                                                      absl::string_view path);

// Parses env.txt ("key: value" lines; others are ignored).
std::vector<std::pair<std::string, std::string>> ParseEnvText(absl::string_view text);

// All values of `key` in `env`, in order (env.txt files have one line per key, but a spec can
// point several runs at different ones).
std::vector<std::string> EnvValues(const RunResult& run, absl::string_view key);

}  // namespace mochi::report

#endif  // PIPELINES_REPORT_RUN_RESULTS_H_
