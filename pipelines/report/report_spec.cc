#include "pipelines/report/report_spec.h"

#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "mochi/port/status_macros.h"
#include "nlohmann/json.hpp"
#include "pipelines/report/result_metrics.h"

namespace mochi::report {
namespace {

using ::nlohmann::json;

// Field readers: `where` is the JSON path printed in errors ("rows[1].runs[0]").
class Reader {
 public:
  explicit Reader(absl::string_view source) : source_(source) {}

  absl::Status Error(absl::string_view where, absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(source_, ": ", where, ": ", what));
  }

  absl::StatusOr<const json*> Field(const json& object, const std::string& where, const char* name,
                                    bool required) const {
    auto it = object.find(name);
    if (it == object.end() || (!required && it->is_null())) {
      if (required) return Error(where, absl::StrCat("missing field \"", name, "\""));
      return nullptr;
    }
    return &*it;
  }

  absl::StatusOr<std::string> String(const json& object, const std::string& where, const char* name,
                                     bool required) const {
    MOCHI_ASSIGN_OR_RETURN(const json* value, Field(object, where, name, required));
    if (value == nullptr) return std::string();
    if (!value->is_string()) {
      return Error(where, absl::StrCat("\"", name, "\" must be a string, got ", value->dump()));
    }
    return value->get<std::string>();
  }

  absl::StatusOr<const json*> Array(const json& object, const std::string& where, const char* name,
                                    bool required) const {
    MOCHI_ASSIGN_OR_RETURN(const json* value, Field(object, where, name, required));
    if (value != nullptr && !value->is_array()) {
      return Error(where, absl::StrCat("\"", name, "\" must be a list"));
    }
    return value;
  }

  absl::StatusOr<std::optional<double>> Number(const json& object, const std::string& where,
                                               const char* name) const {
    MOCHI_ASSIGN_OR_RETURN(const json* value, Field(object, where, name, /*required=*/false));
    if (value == nullptr) return std::optional<double>();
    if (!value->is_number()) {
      return Error(where, absl::StrCat("\"", name, "\" must be a number, got ", value->dump()));
    }
    return std::optional<double>(value->get<double>());
  }

  absl::Status Object(const json& value, const std::string& where) const {
    if (!value.is_object()) return Error(where, "must be an object");
    return absl::OkStatus();
  }

 private:
  std::string source_;
};

// Ids become file names and HTML anchors.
bool IsSafeId(const std::string& id) {
  if (id.empty()) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '-' && c != '.') return false;
  }
  return id[0] != '.';
}

absl::Status CheckId(const Reader& reader, const std::string& where, const std::string& id,
                     std::set<std::string>* seen) {
  if (!IsSafeId(id)) {
    return reader.Error(where, absl::StrCat("id \"", id, "\" must be non-empty [A-Za-z0-9_.-]"));
  }
  if (!seen->insert(id).second)
    return reader.Error(where, absl::StrCat("duplicate id \"", id, "\""));
  return absl::OkStatus();
}

absl::StatusOr<RowSpec> ParseRow(const Reader& reader, const json& row, const std::string& where) {
  MOCHI_RETURN_IF_ERROR(reader.Object(row, where));
  RowSpec spec;
  MOCHI_ASSIGN_OR_RETURN(spec.id, reader.String(row, where, "id", true));
  MOCHI_ASSIGN_OR_RETURN(spec.label, reader.String(row, where, "label", false));
  if (spec.label.empty()) spec.label = spec.id;
  MOCHI_ASSIGN_OR_RETURN(const json* baseline, reader.Field(row, where, "baseline", false));
  if (baseline != nullptr) {
    if (!baseline->is_boolean()) return reader.Error(where, "\"baseline\" must be true or false");
    spec.baseline = baseline->get<bool>();
  }
  MOCHI_ASSIGN_OR_RETURN(spec.config, reader.String(row, where, "config", false));
  MOCHI_ASSIGN_OR_RETURN(spec.overrides, reader.String(row, where, "overrides", false));
  MOCHI_ASSIGN_OR_RETURN(const json* runs, reader.Array(row, where, "runs", true));
  if (runs->empty()) return reader.Error(where, absl::StrCat("row \"", spec.id, "\" has no runs"));
  std::set<int> seeds;
  for (size_t i = 0; i < runs->size(); ++i) {
    const std::string run_where = absl::StrCat(where, ".runs[", i, "]");
    const json& run = (*runs)[i];
    MOCHI_RETURN_IF_ERROR(reader.Object(run, run_where));
    RunSpec run_spec;
    MOCHI_ASSIGN_OR_RETURN(const json* seed, reader.Field(run, run_where, "seed", true));
    if (!seed->is_number_integer()) return reader.Error(run_where, "\"seed\" must be an integer");
    run_spec.seed = seed->get<int>();
    if (!seeds.insert(run_spec.seed).second) {
      return reader.Error(run_where, absl::StrCat("duplicate seed ", run_spec.seed));
    }
    MOCHI_ASSIGN_OR_RETURN(const json* files, reader.Field(run, run_where, "files", true));
    MOCHI_RETURN_IF_ERROR(reader.Object(*files, run_where + ".files"));
    for (const auto& [role, path] : files->items()) {
      if (!path.is_string()) {
        return reader.Error(run_where, absl::StrCat("files.", role, " must be a path string"));
      }
      run_spec.files[role] = path.get<std::string>();
    }
    spec.runs.push_back(std::move(run_spec));
  }
  return spec;
}

absl::StatusOr<ColumnSpec> ParseColumn(const Reader& reader, const json& column,
                                       const std::string& where) {
  MOCHI_RETURN_IF_ERROR(reader.Object(column, where));
  ColumnSpec spec;
  MOCHI_ASSIGN_OR_RETURN(spec.id, reader.String(column, where, "id", true));
  MOCHI_ASSIGN_OR_RETURN(spec.label, reader.String(column, where, "label", false));
  if (spec.label.empty()) spec.label = spec.id;
  MOCHI_ASSIGN_OR_RETURN(spec.result, reader.String(column, where, "result", true));
  MOCHI_ASSIGN_OR_RETURN(spec.metric, reader.String(column, where, "metric", true));
  if (absl::Status status = CheckResultMetric(spec.result, spec.metric); !status.ok()) {
    return reader.Error(where, status.message());
  }
  MOCHI_ASSIGN_OR_RETURN(std::optional<double> scale, reader.Number(column, where, "scale"));
  if (scale) spec.scale = *scale;
  MOCHI_ASSIGN_OR_RETURN(std::optional<double> digits, reader.Number(column, where, "digits"));
  if (digits) {
    if (*digits != static_cast<int>(*digits) || *digits < 0 || *digits > 12) {
      return reader.Error(where, "\"digits\" must be an integer in [0, 12]");
    }
    spec.digits = static_cast<int>(*digits);
  }
  return spec;
}

absl::StatusOr<FigureSpec> ParseFigure(const Reader& reader, const json& figure,
                                       const std::string& where) {
  MOCHI_RETURN_IF_ERROR(reader.Object(figure, where));
  FigureSpec spec;
  MOCHI_ASSIGN_OR_RETURN(spec.id, reader.String(figure, where, "id", true));
  MOCHI_ASSIGN_OR_RETURN(spec.title, reader.String(figure, where, "title", false));
  if (spec.title.empty()) spec.title = spec.id;
  MOCHI_ASSIGN_OR_RETURN(const std::string kind, reader.String(figure, where, "kind", true));
  if (kind == "epoch_curve") {
    spec.kind = FigureKind::kEpochCurve;
  } else if (kind == "sorted_profile") {
    spec.kind = FigureKind::kSortedProfile;
  } else {
    return reader.Error(where, absl::StrCat("unknown kind \"", kind,
                                            "\"; known kinds: epoch_curve, sorted_profile"));
  }
  MOCHI_ASSIGN_OR_RETURN(spec.key, reader.String(figure, where, "key", true));
  MOCHI_ASSIGN_OR_RETURN(spec.secondary_key, reader.String(figure, where, "secondary_key", false));
  MOCHI_ASSIGN_OR_RETURN(spec.ylabel, reader.String(figure, where, "ylabel", false));
  if (spec.ylabel.empty()) spec.ylabel = spec.key;
  const bool profile = spec.kind == FigureKind::kSortedProfile;
  if (absl::Status status = CheckEpochField(spec.key, /*repeated=*/profile); !status.ok()) {
    return reader.Error(where, status.message());
  }
  if (!spec.secondary_key.empty()) {
    if (profile) return reader.Error(where, "a sorted_profile has no secondary_key");
    if (absl::Status status = CheckEpochField(spec.secondary_key, false); !status.ok()) {
      return reader.Error(where, status.message());
    }
  }
  return spec;
}

absl::StatusOr<ReportSpec> ParseParsed(const Reader& reader, const json& root) {
  MOCHI_RETURN_IF_ERROR(reader.Object(root, "top level"));
  ReportSpec spec;
  MOCHI_ASSIGN_OR_RETURN(spec.table, reader.String(root, "top level", "table", true));
  if (!IsSafeId(spec.table)) {
    return reader.Error("table", absl::StrCat("\"", spec.table, "\" is not a file-name stem"));
  }
  MOCHI_ASSIGN_OR_RETURN(spec.title, reader.String(root, "top level", "title", false));
  if (spec.title.empty()) spec.title = spec.table;
  MOCHI_ASSIGN_OR_RETURN(spec.profile, reader.String(root, "top level", "profile", true));
  MOCHI_ASSIGN_OR_RETURN(spec.notes, reader.String(root, "top level", "notes", false));

  MOCHI_ASSIGN_OR_RETURN(const json* rows, reader.Array(root, "top level", "rows", true));
  if (rows->empty()) return reader.Error("rows", "no rows");
  std::set<std::string> row_ids;
  for (size_t i = 0; i < rows->size(); ++i) {
    const std::string where = absl::StrCat("rows[", i, "]");
    MOCHI_ASSIGN_OR_RETURN(RowSpec row, ParseRow(reader, (*rows)[i], where));
    MOCHI_RETURN_IF_ERROR(CheckId(reader, where, row.id, &row_ids));
    if (row.baseline && spec.Baseline() != nullptr) {
      return reader.Error(where, absl::StrCat("second baseline row \"", row.id, "\" (first: \"",
                                              spec.Baseline()->id, "\")"));
    }
    spec.rows.push_back(std::move(row));
  }

  MOCHI_ASSIGN_OR_RETURN(const json* columns, reader.Array(root, "top level", "columns", true));
  std::set<std::string> column_ids;
  for (size_t i = 0; i < columns->size(); ++i) {
    const std::string where = absl::StrCat("columns[", i, "]");
    MOCHI_ASSIGN_OR_RETURN(ColumnSpec column, ParseColumn(reader, (*columns)[i], where));
    MOCHI_RETURN_IF_ERROR(CheckId(reader, where, column.id, &column_ids));
    spec.columns.push_back(std::move(column));
  }

  MOCHI_ASSIGN_OR_RETURN(const json* published,
                         reader.Field(root, "top level", "published", /*required=*/false));
  if (published != nullptr) {
    MOCHI_RETURN_IF_ERROR(reader.Object(*published, "published"));
    // Unknown ids are typos that would silently print `unknown`.
    for (const auto& [row_id, cells] : published->items()) {
      const std::string where = absl::StrCat("published.", row_id);
      if (row_ids.count(row_id) == 0) return reader.Error(where, "no row with this id");
      if (cells.is_null()) continue;
      MOCHI_RETURN_IF_ERROR(reader.Object(cells, where));
      for (const auto& [column_id, value] : cells.items()) {
        const std::string cell_where = absl::StrCat(where, ".", column_id);
        if (column_ids.count(column_id) == 0)
          return reader.Error(cell_where, "no column with this id");
        if (value.is_null()) {
          spec.published[row_id][column_id] = std::nullopt;
        } else if (value.is_number()) {
          spec.published[row_id][column_id] = value.get<double>();
        } else {
          return reader.Error(cell_where,
                              absl::StrCat("must be a number or null, got ", value.dump()));
        }
      }
    }
  }

  MOCHI_ASSIGN_OR_RETURN(const json* figures, reader.Array(root, "top level", "figures", false));
  if (figures != nullptr) {
    std::set<std::string> figure_ids;
    for (size_t i = 0; i < figures->size(); ++i) {
      const std::string where = absl::StrCat("figures[", i, "]");
      MOCHI_ASSIGN_OR_RETURN(FigureSpec figure, ParseFigure(reader, (*figures)[i], where));
      MOCHI_RETURN_IF_ERROR(CheckId(reader, where, figure.id, &figure_ids));
      spec.figures.push_back(std::move(figure));
    }
  }
  return spec;
}

}  // namespace

const RowSpec* ReportSpec::Baseline() const {
  for (const RowSpec& row : rows) {
    if (row.baseline) return &row;
  }
  return nullptr;
}

std::optional<double> ReportSpec::Published(const std::string& row_id,
                                            const std::string& column_id) const {
  auto row = published.find(row_id);
  if (row == published.end()) return std::nullopt;
  auto cell = row->second.find(column_id);
  if (cell == row->second.end()) return std::nullopt;
  return cell->second;
}

absl::StatusOr<ReportSpec> ParseReportSpec(absl::string_view json_text,
                                           absl::string_view source_name) {
  const Reader reader(source_name);
  json root;
  try {
    root = json::parse(json_text.begin(), json_text.end());
  } catch (const json::exception& e) {
    return reader.Error("JSON", e.what());
  }
  return ParseParsed(reader, root);
}

}  // namespace mochi::report
