// CI accuracy regression checks: measured metrics of the `ci` profile against committed expected
// values, each with a tolerance derived from the spread over seeds (regression_expected.json).
#ifndef PIPELINES_REGRESSION_REGRESSION_CHECK_H_
#define PIPELINES_REGRESSION_REGRESSION_CHECK_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mochi::pipelines {

struct ExpectedMetric {
  std::string name;  // e.g. "mocov2/knn_top1"
  double expected = 0;
  double tolerance = 0;  // |got - expected| <= tolerance passes
};

// Parses {"metrics": [{"name": ..., "expected": ..., "tolerance": ...}, ...]} (other keys, such
// as the per-seed values the tolerance came from, are kept for humans and ignored here).
absl::StatusOr<std::vector<ExpectedMetric>> ParseExpectedMetrics(const std::string& json_text);

// Reads `metric` of the result file `path` of result kind `kind` (pipelines/report/
// result_metrics.h: e.g. "knn" for a knn.json, "lincls" for //eval:linear's output).
absl::StatusOr<double> ReadMetric(const std::string& kind, const std::string& path,
                                  const std::string& metric);

// OK when every expected metric was measured and lies within its tolerance; otherwise
// FailedPrecondition with one line per failure naming the metric, expected, got and tolerance.
absl::Status CheckMetrics(const std::vector<ExpectedMetric>& expected,
                          const std::map<std::string, double>& measured);

}  // namespace mochi::pipelines

#endif  // PIPELINES_REGRESSION_REGRESSION_CHECK_H_
