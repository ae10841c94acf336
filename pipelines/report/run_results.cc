#include "pipelines/report/run_results.h"

#include <filesystem>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/reflection.h"
#include "mochi/port/json_proto.h"
#include "mochi/port/status_macros.h"
#include "mochi/port/text_proto.h"
#include "mochi/proto/results.pb.h"
#include "pipelines/report/result_metrics.h"

namespace mochi::report {
namespace {

std::string Resolve(const std::string& root, const std::string& path) {
  if (root.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (std::filesystem::path(root) / path).string();
}

// Parsed result files, so a file used by several columns is read once.
class FileCache {
 public:
  explicit FileCache(std::string root) : root_(std::move(root)) {}

  absl::StatusOr<const std::string*> Text(const std::string& path) {
    auto it = texts_.find(path);
    if (it == texts_.end()) {
      const std::string resolved = Resolve(root_, path);
      absl::StatusOr<std::string> text = ReadFileToString(resolved);
      if (!text.ok()) {
        return absl::NotFoundError(absl::StrCat("cannot read ", resolved));
      }
      it = texts_.emplace(path, *std::move(text)).first;
    }
    return &it->second;
  }

  // A result file parsed as `kind`'s message (result_metrics.h).
  absl::StatusOr<const google::protobuf::Message*> Result(const std::string& kind,
                                                           const std::string& path) {
    auto it = results_.find(path);
    if (it != results_.end()) return it->second.get();
    MOCHI_ASSIGN_OR_RETURN(std::unique_ptr<google::protobuf::Message> result,
                           ReadResultFile(kind, Resolve(root_, path)));
    return results_.emplace(path, std::move(result)).first->second.get();
  }

 private:
  std::string root_;
  std::map<std::string, std::string> texts_;
  std::map<std::string, std::unique_ptr<google::protobuf::Message>> results_;
};

std::string Where(const RowSpec& row, const RunSpec& run, const ColumnSpec& column) {
  return absl::StrCat("row \"", row.id, "\", seed ", run.seed, ", column \"", column.id, "\"");
}

std::string Roles(const RunSpec& run) {
  std::vector<std::string> roles;
  for (const auto& [role, path] : run.files) roles.push_back(role);
  return roles.empty() ? "none" : absl::StrJoin(roles, ", ");
}

absl::StatusOr<double> ColumnValue(FileCache& files, const RowSpec& row, const RunSpec& run,
                                   const ColumnSpec& column) {
  const std::string where = Where(row, run, column);
  auto file = run.files.find(column.result);
  if (file == run.files.end()) {
    return absl::NotFoundError(absl::StrCat(where, ": the run lists no \"", column.result,
                                            "\" file (it lists: ", Roles(run), ")"));
  }
  const std::string& path = file->second;
  absl::StatusOr<const google::protobuf::Message*> result = files.Result(column.result, path);
  if (!result.ok()) {
    return absl::Status(result.status().code(),
                        absl::StrCat(where, ": ", result.status().message()));
  }
  absl::StatusOr<double> value = MetricValue(**result, column.metric);
  if (!value.ok()) {
    return absl::Status(value.status().code(),
                        absl::StrCat(where, ": ", path, ": ", value.status().message()));
  }
  return *value * column.scale;
}

}  // namespace

absl::StatusOr<std::vector<EpochLog>> ParseMetricsLog(absl::string_view text,
                                                      absl::string_view path) {
  using ::google::protobuf::FieldDescriptor;
  std::vector<EpochLog> epochs;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    const std::string where = absl::StrCat(path, ":", line_number);
    proto::PretrainEpoch epoch;
    MOCHI_RETURN_IF_ERROR(ParseJsonProto(line, where, &epoch));
    if (!epoch.has_epoch()) return absl::InvalidArgumentError(where + ": no \"epoch\"");
    EpochLog log;
    log.epoch = epoch.epoch();
    // Every number that is set (booleans as 0 / 1), by field name, for the figures.
    const google::protobuf::Reflection& reflection = *epoch.GetReflection();
    std::vector<const FieldDescriptor*> fields;
    reflection.ListFields(epoch, &fields);
    for (const FieldDescriptor* field : fields) {
      if (field->is_repeated()) {
        if (field->cpp_type() != FieldDescriptor::CPPTYPE_DOUBLE) continue;
        const auto values = reflection.GetRepeatedFieldRef<double>(epoch, field);
        log.arrays[field->name()].assign(values.begin(), values.end());
        continue;
      }
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_BOOL) {
        log.scalars[field->name()] = reflection.GetBool(epoch, field) ? 1 : 0;
      } else if (field->cpp_type() != FieldDescriptor::CPPTYPE_STRING) {
        MOCHI_ASSIGN_OR_RETURN(log.scalars[field->name()], MetricValue(epoch, field->name()));
      }
    }
    epochs.push_back(std::move(log));
  }
  return epochs;
}

std::vector<std::pair<std::string, std::string>> ParseEnvText(absl::string_view text) {
  std::vector<std::pair<std::string, std::string>> env;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    const absl::string_view key = absl::StripAsciiWhitespace(line.substr(0, colon));
    if (key.empty()) continue;
    env.emplace_back(std::string(key),
                     std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  }
  return env;
}

std::vector<std::string> EnvValues(const RunResult& run, absl::string_view key) {
  std::vector<std::string> values;
  for (const auto& [k, v] : run.env) {
    if (k == key) values.push_back(v);
  }
  return values;
}

absl::StatusOr<ReportData> LoadReportData(ReportSpec spec, const std::string& root) {
  FileCache files(root);
  ReportData data;
  for (const RowSpec& row : spec.rows) {
    std::vector<RunResult> results;
    for (const RunSpec& run : row.runs) {
      RunResult result;
      result.seed = run.seed;
      for (const ColumnSpec& column : spec.columns) {
        MOCHI_ASSIGN_OR_RETURN(result.values[column.id], ColumnValue(files, row, run, column));
      }
      const std::string run_where = absl::StrCat("row \"", row.id, "\", seed ", run.seed);
      if (auto it = run.files.find("metrics"); it != run.files.end()) {
        result.metrics_path = it->second;
        absl::StatusOr<const std::string*> text = files.Text(it->second);
        if (!text.ok()) {
          return absl::NotFoundError(absl::StrCat(run_where, ": ", text.status().message()));
        }
        absl::StatusOr<std::vector<EpochLog>> epochs = ParseMetricsLog(**text, it->second);
        if (!epochs.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat(run_where, ": ", epochs.status().message()));
        }
        result.epochs = *std::move(epochs);
        for (const EpochLog& epoch : result.epochs) {
          auto seconds = epoch.scalars.find("seconds");
          if (seconds == epoch.scalars.end()) {
            return absl::NotFoundError(absl::StrCat(run_where, ": epoch ", epoch.epoch,
                                                    " has no \"seconds\" in ", it->second));
          }
          result.train_seconds += seconds->second;
        }
      }
      if (auto it = run.files.find("env"); it != run.files.end()) {
        result.env_path = it->second;
        absl::StatusOr<const std::string*> text = files.Text(it->second);
        if (!text.ok()) {
          return absl::NotFoundError(absl::StrCat(run_where, ": ", text.status().message()));
        }
        result.env = ParseEnvText(**text);
      }
      results.push_back(std::move(result));
    }
    data.runs.push_back(std::move(results));
  }
  data.spec = std::move(spec);
  return data;
}

}  // namespace mochi::report
