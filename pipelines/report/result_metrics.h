// The typed results a report reads (mochi/proto/results.proto) and the metrics in them. A table
// column selects (result kind, metric); a figure selects a field of the pretraining log's
// PretrainEpoch. Both are checked against the messages when a spec is loaded, so a misspelt
// metric fails before any file is read, and a value absent from a result file is an error, never 0.
//
// Result kinds (the run-file role that holds them):
//   knn      KnnResult         knn.json of a pretraining run's kNN monitor
//   lincls   LinearEvalResult  //eval:linear
//   voc      TransferResult    //eval:detect on a VOC-format test set (metrics.json)
//   segm     TransferResult    //eval:segment on a COCO-format test set (metrics.json)
//   bench    BenchmarkResult   //bench:mixing_benchmark, one variant
// A metric is a dotted path through singular message fields to a number: "top1", "knn.top1",
// "bbox.ap", "voc.ap50".
//
// Example:
//   MOCHI_RETURN_IF_ERROR(CheckResultMetric("segm", "bbox.ap"));
//   MOCHI_ASSIGN_OR_RETURN(auto result, ReadResultFile("segm", "out/metrics.json"));
//   MOCHI_ASSIGN_OR_RETURN(double ap, MetricValue(*result, "bbox.ap"));
#ifndef PIPELINES_REPORT_RESULT_METRICS_H_
#define PIPELINES_REPORT_RESULT_METRICS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace mochi::report {

// The result kinds, in the order above.
std::vector<std::string> ResultKinds();

// The message type of `kind`; InvalidArgument naming the known kinds.
absl::StatusOr<const google::protobuf::Descriptor*> ResultType(absl::string_view kind);

// OK when `kind` is a result kind and `metric` a numeric field path of its message;
// InvalidArgument saying which part is wrong (and, for a bad field, which fields there are).
absl::Status CheckResultMetric(absl::string_view kind, absl::string_view metric);

// OK when `key` names a field of the pretraining log's lines (PretrainEpoch): a number, or with
// `repeated` a list of numbers.
absl::Status CheckEpochField(absl::string_view key, bool repeated);

// Reads `path` as `kind`'s message (JSON). NotFound when it cannot be read, InvalidArgument when
// it is not that message.
absl::StatusOr<std::unique_ptr<google::protobuf::Message>> ReadResultFile(absl::string_view kind,
                                                                          const std::string& path);

// The number at `metric` (a path CheckResultMetric accepts for `result`'s type). NotFound when
// the field, or a message on its path, is not set in `result`.
absl::StatusOr<double> MetricValue(const google::protobuf::Message& result,
                                   absl::string_view metric);

}  // namespace mochi::report

#endif  // PIPELINES_REPORT_RESULT_METRICS_H_
