#include "pipelines/report/run_results.h"

#include <filesystem>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "mochi/port/status_macros.h"
#include "mochi/port/text_proto.h"
#include "nlohmann/json.hpp"

namespace mochi::report {
namespace {

using ::nlohmann::json;

std::string Resolve(const std::string& root, const std::string& path) {
  if (root.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (std::filesystem::path(root) / path).string();
}

absl::StatusOr<json> ParseJson(absl::string_view text, absl::string_view where) {
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": not valid JSON: ", e.what()));
  }
}

// `key` itself, or else a dotted path into nested objects ("eval.top1").
const json* FindKey(const json& object, const std::string& key) {
  if (!object.is_object()) return nullptr;
  if (auto it = object.find(key); it != object.end()) return &*it;
  const json* node = &object;
  for (absl::string_view part : absl::StrSplit(key, '.')) {
    if (!node->is_object()) return nullptr;
    auto it = node->find(std::string(part));
    if (it == node->end()) return nullptr;
    node = &*it;
  }
  return node == &object ? nullptr : node;
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

  // The JSON objects of a file: one for .json, one per non-blank line for .jsonl.
  absl::StatusOr<const std::vector<json>*> Objects(const std::string& path) {
    auto it = objects_.find(path);
    if (it != objects_.end()) return &it->second;
    MOCHI_ASSIGN_OR_RETURN(const std::string* text, Text(path));
    std::vector<json> objects;
    if (absl::EndsWith(path, ".jsonl")) {
      int line_number = 0;
      for (absl::string_view line : absl::StrSplit(*text, '\n')) {
        ++line_number;
        if (absl::StripAsciiWhitespace(line).empty()) continue;
        MOCHI_ASSIGN_OR_RETURN(json object, ParseJson(line, absl::StrCat(path, ":", line_number)));
        objects.push_back(std::move(object));
      }
    } else {
      MOCHI_ASSIGN_OR_RETURN(json object, ParseJson(*text, path));
      objects.push_back(std::move(object));
    }
    return &objects_.emplace(path, std::move(objects)).first->second;
  }

 private:
  std::string root_;
  std::map<std::string, std::string> texts_;
  std::map<std::string, std::vector<json>> objects_;
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
  auto file = run.files.find(column.file);
  if (file == run.files.end()) {
    return absl::NotFoundError(absl::StrCat(where, ": the run lists no \"", column.file,
                                            "\" file (it lists: ", Roles(run), ")"));
  }
  const std::string& path = file->second;
  absl::StatusOr<const std::vector<json>*> objects = files.Objects(path);
  if (!objects.ok()) {
    return absl::Status(objects.status().code(),
                        absl::StrCat(where, ": ", objects.status().message()));
  }
  // In a .jsonl log the last line with the key wins (the final epoch or summary).
  const json* value = nullptr;
  for (auto it = (*objects)->rbegin(); it != (*objects)->rend() && value == nullptr; ++it) {
    value = FindKey(*it, column.key);
  }
  if (value == nullptr) {
    return absl::NotFoundError(
        absl::StrCat(where, ": key \"", column.key, "\" not found in ", path));
  }
  if (!value->is_number()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": key \"", column.key, "\" in ", path,
                                                   " is not a number: ", value->dump()));
  }
  return value->get<double>() * column.scale;
}

}  // namespace

absl::StatusOr<std::vector<EpochLog>> ParseMetricsLog(absl::string_view text,
                                                      absl::string_view path) {
  std::vector<EpochLog> epochs;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    const std::string where = absl::StrCat(path, ":", line_number);
    MOCHI_ASSIGN_OR_RETURN(json object, ParseJson(line, where));
    if (!object.is_object()) return absl::InvalidArgumentError(where + ": not a JSON object");
    auto epoch = object.find("epoch");
    if (epoch == object.end()) continue;  // e.g. the final {"metric": ...} summary
    if (!epoch->is_number_integer()) {
      return absl::InvalidArgumentError(where + ": \"epoch\" is not an integer");
    }
    EpochLog log;
    log.epoch = epoch->get<int>();
    for (const auto& [key, value] : object.items()) {
      if (value.is_number()) {
        log.scalars[key] = value.get<double>();
      } else if (value.is_boolean()) {
        log.scalars[key] = value.get<bool>() ? 1 : 0;
      } else if (value.is_array()) {
        std::vector<double> values;
        values.reserve(value.size());
        for (const json& element : value) {
          if (!element.is_number()) {
            return absl::InvalidArgumentError(
                absl::StrCat(where, ": \"", key, "\" holds a non-number: ", element.dump()));
          }
          values.push_back(element.get<double>());
        }
        log.arrays[key] = std::move(values);
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
