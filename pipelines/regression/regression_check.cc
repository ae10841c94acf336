#include "pipelines/regression/regression_check.h"

#include <cmath>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "mochi/port/status_macros.h"
#include "nlohmann/json.hpp"
#include "pipelines/report/result_metrics.h"

namespace mochi::pipelines {

absl::StatusOr<std::vector<ExpectedMetric>> ParseExpectedMetrics(const std::string& json_text) {
  const nlohmann::json json = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.contains("metrics") || !json["metrics"].is_array()) {
    return absl::InvalidArgumentError(
        "expected metrics: not a JSON object with a \"metrics\" array");
  }
  std::vector<ExpectedMetric> metrics;
  for (const nlohmann::json& entry : json["metrics"]) {
    if (!entry.contains("name") || !entry["name"].is_string() || !entry.contains("expected") ||
        !entry["expected"].is_number() || !entry.contains("tolerance") ||
        !entry["tolerance"].is_number() || entry["tolerance"].get<double>() < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "expected metrics: each entry needs a name, a number \"expected\" and a tolerance >= 0; "
          "got ",
          entry.dump()));
    }
    metrics.push_back({entry["name"].get<std::string>(), entry["expected"].get<double>(),
                       entry["tolerance"].get<double>()});
  }
  return metrics;
}

absl::StatusOr<double> ReadMetric(const std::string& kind, const std::string& path,
                                  const std::string& metric) {
  MOCHI_RETURN_IF_ERROR(report::CheckResultMetric(kind, metric));
  MOCHI_ASSIGN_OR_RETURN(const std::unique_ptr<google::protobuf::Message> result,
                         report::ReadResultFile(kind, path));
  absl::StatusOr<double> value = report::MetricValue(*result, metric);
  if (!value.ok()) {
    return absl::Status(value.status().code(), absl::StrCat(path, ": ", value.status().message()));
  }
  return value;
}

absl::Status CheckMetrics(const std::vector<ExpectedMetric>& expected,
                          const std::map<std::string, double>& measured) {
  std::vector<std::string> failures;
  for (const ExpectedMetric& metric : expected) {
    const auto got = measured.find(metric.name);
    if (got == measured.end()) {
      failures.push_back(
          absl::StrCat(metric.name, ": expected ", metric.expected, " but it was not measured"));
      continue;
    }
    const double difference = got->second - metric.expected;
    if (!std::isfinite(got->second) || std::abs(difference) > metric.tolerance) {
      failures.push_back(absl::StrFormat("%s: expected %.4f +/- %.4f, got %.4f (%+.4f)",
                                         metric.name, metric.expected, metric.tolerance,
                                         got->second, difference));
    }
  }
  if (failures.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("accuracy regression:\n", absl::StrJoin(failures, "\n")));
}

}  // namespace mochi::pipelines
