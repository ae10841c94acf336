// The report spec: which runs make which table rows, which (result kind, metric) make which
// columns (result_metrics.h), the published numbers and the figures. Written by the pipelines'
// Starlark (json.encode) and read by //pipelines/report:make_report.
//
// Example spec (JSON):
//   {"table": "table1", "title": "ImageNet-100 ablation", "profile": "default", "notes": "",
//    "rows": [{"id": "mocov2", "label": "MoCo-v2", "baseline": true,
//              "config": "configs/pretrain/mocov2_fmnist.pbtxt", "overrides": "",
//              "runs": [{"seed": 0, "files": {"knn": "out/knn.json", "metrics": "out/m.jsonl",
//                                              "env": "out/env.txt"}}]}],
//    "columns": [{"id": "knn_top1", "label": "kNN top-1 (%)", "result": "knn", "metric": "top1",
//                 "scale": 100.0, "digits": 2}],
//    "published": {"mocov2": {"knn_top1": null}},
//    "figures": [{"id": "proxy_accuracy", "title": "Proxy task", "kind": "epoch_curve",
//                 "key": "proxy_acc", "secondary_key": "proxy_acc_without_synthetic"}]}
#ifndef PIPELINES_REPORT_REPORT_SPEC_H_
#define PIPELINES_REPORT_REPORT_SPEC_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mochi::report {

// One seed of one row: result-file role ("knn", "lincls", "metrics", "env", ...) -> path.
struct RunSpec {
  int seed = 0;
  std::map<std::string, std::string> files;
};

struct RowSpec {
  std::string id;
  std::string label;
  bool baseline = false;  // the row every other row is compared with (at most one)
  std::string config;
  std::string overrides;
  std::vector<RunSpec> runs;
};

// A table column: `metric` of each run's `result` (a result kind, which is also the run's file
// role for it), times `scale`, printed with `digits` decimals.
struct ColumnSpec {
  std::string id;
  std::string label;
  std::string result;
  std::string metric;
  double scale = 1;
  int digits = 2;
};

enum class FigureKind {
  kEpochCurve,     // x = epoch, y = `key` of each metrics.jsonl line
  kSortedProfile,  // x = rank, y = the last epoch's array at `key`
};

// `key` and `secondary_key` are fields of the pretraining log's lines (results.proto's
// PretrainEpoch): numbers for an epoch curve, a list of numbers for a sorted profile.
struct FigureSpec {
  std::string id;
  std::string title;
  FigureKind kind = FigureKind::kEpochCurve;
  std::string key;
  std::string secondary_key;  // epoch_curve only: dashed line, points < 0 left out
  std::string ylabel;
};

struct ReportSpec {
  std::string table;  // output file stem: <table>.md, <table>.csv, <table>_<figure>.svg
  std::string title;
  std::string profile;
  std::string notes;
  std::vector<RowSpec> rows;
  std::vector<ColumnSpec> columns;
  // row id -> column id -> published value in display units (after `scale`); nullopt or absent
  // means unknown.
  std::map<std::string, std::map<std::string, std::optional<double>>> published;
  std::vector<FigureSpec> figures;

  // The baseline row, or nullptr when no row has baseline = true.
  const RowSpec* Baseline() const;
  std::optional<double> Published(const std::string& row_id, const std::string& column_id) const;
};

// Parses and validates a spec: required fields present with the right types, ids unique and
// usable in file names, at most one baseline, every row with at least one run, `published`
// naming only known rows and columns, every column's (result, metric) and every figure's keys
// fields of the results' messages. InvalidArgument naming `source_name` and the field.
absl::StatusOr<ReportSpec> ParseReportSpec(absl::string_view json_text,
                                           absl::string_view source_name);

}  // namespace mochi::report

#endif  // PIPELINES_REPORT_REPORT_SPEC_H_
