// //pipelines:regression: the `ci` profile's metrics against regression_expected.json.
//
//   regression --expected=pipelines/regression_expected.json
//       --measured=mocov2/knn_top1=knn:path/to/knn.json:top1,mochi/knn_top1=...
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_split.h"
#include "mochi/port/text_proto.h"
#include "pipelines/regression/regression_check.h"

ABSL_FLAG(std::string, expected, "", "JSON with the expected metrics and tolerances.");
ABSL_FLAG(std::vector<std::string>, measured, {},
          "Comma-separated name=kind:file:metric entries (the result kind, its file and the "
          "metric); pass the flag once, a repeated flag keeps only its last value.");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  absl::StatusOr<std::string> text = mochi::ReadFileToString(absl::GetFlag(FLAGS_expected));
  absl::StatusOr<std::vector<mochi::pipelines::ExpectedMetric>> expected =
      text.ok() ? mochi::pipelines::ParseExpectedMetrics(*text)
                : absl::StatusOr<std::vector<mochi::pipelines::ExpectedMetric>>(text.status());
  if (!expected.ok()) {
    std::fprintf(stderr, "regression: %s\n", std::string(expected.status().message()).c_str());
    return 1;
  }
  std::map<std::string, double> measured;
  for (const std::string& entry : absl::GetFlag(FLAGS_measured)) {
    const std::vector<std::string> name_rest = absl::StrSplit(entry, absl::MaxSplits('=', 1));
    const std::vector<std::string> kind_file_metric =
        name_rest.size() == 2 ? absl::StrSplit(name_rest[1], ':') : std::vector<std::string>{};
    if (kind_file_metric.size() != 3) {
      std::fprintf(stderr, "regression: --measured=%s is not name=kind:file:metric\n",
                   entry.c_str());
      return 1;
    }
    absl::StatusOr<double> value = mochi::pipelines::ReadMetric(
        kind_file_metric[0], kind_file_metric[1], kind_file_metric[2]);
    if (!value.ok()) {
      std::fprintf(stderr, "regression: %s\n", std::string(value.status().message()).c_str());
      return 1;
    }
    measured[name_rest[0]] = *value;
    std::printf("%-32s %.4f\n", name_rest[0].c_str(), *value);
  }
  const absl::Status status = mochi::pipelines::CheckMetrics(*expected, measured);
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", std::string(status.message()).c_str());
    return 1;
  }
  std::printf("all %zu metrics within tolerance\n", expected->size());
  return 0;
}
