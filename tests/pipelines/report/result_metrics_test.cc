#include "pipelines/report/result_metrics.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/proto/results.pb.h"
#include "tests/pipelines/report/fake_results.h"
#include "tests/testing/status_matchers.h"

namespace mochi::report {
namespace {

using ::mochi::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;

TEST(ResultMetricsTest, KindsAndTheirMessages) {
  EXPECT_THAT(ResultKinds(), IsSupersetOf({"knn", "lincls", "voc", "segm", "bench"}));
  absl::StatusOr<const google::protobuf::Descriptor*> segm = ResultType("segm");
  MOCHI_ASSERT_OK(segm);
  EXPECT_EQ(*segm, proto::TransferResult::descriptor());
  EXPECT_THAT(ResultType("metrics"), StatusIs(absl::StatusCode::kInvalidArgument,
                                              HasSubstr("known kinds: knn, lincls, voc")));
}

TEST(ResultMetricsTest, MetricPathsAreCheckedAgainstTheMessage) {
  MOCHI_EXPECT_OK(CheckResultMetric("lincls", "top1"));
  MOCHI_EXPECT_OK(CheckResultMetric("lincls", "knn.top1"));
  MOCHI_EXPECT_OK(CheckResultMetric("voc", "voc.ap50"));
  MOCHI_EXPECT_OK(CheckResultMetric("bench", "rounds"));  // an integer is a number
  EXPECT_THAT(CheckResultMetric("lincls", "per_class_top1"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is not a number")));
  EXPECT_THAT(CheckResultMetric("lincls", "features"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is not a number")));
  EXPECT_THAT(CheckResultMetric("voc", "voc.AP50"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("VocMetrics has no field \"AP50\""),
                             HasSubstr("its fields: metric, ap, ap50"))));
  EXPECT_THAT(CheckResultMetric("voc", "voc.ap50.x"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is not a single message")));
  MOCHI_EXPECT_OK(CheckEpochField("proxy_acc", /*repeated=*/false));
  MOCHI_EXPECT_OK(CheckEpochField("top_negative_probabilities", /*repeated=*/true));
  EXPECT_THAT(CheckEpochField("top_negative_probabilities", false),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is not a number")));
}

TEST(ResultMetricsTest, ValuesComeFromSetFieldsOnly) {
  proto::TransferResult result;
  result.mutable_bbox()->set_ap(0.0);
  result.mutable_bbox()->set_ap50(0.375);
  result.set_test_images(12);
  absl::StatusOr<double> ap = MetricValue(result, "bbox.ap");
  MOCHI_ASSERT_OK(ap);
  EXPECT_EQ(*ap, 0.0);
  EXPECT_EQ(*MetricValue(result, "bbox.ap50"), 0.375);
  EXPECT_EQ(*MetricValue(result, "test_images"), 12.0);
  EXPECT_THAT(MetricValue(result, "bbox.ap75"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("\"bbox.ap75\" is not set")));
  EXPECT_THAT(MetricValue(result, "segm.ap"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("segm is absent")));
}

TEST(ResultMetricsTest, ReadsAResultFileAsItsKind) {
  const std::string dir = testing::TestDir("result_metrics_test");
  const std::string path = testing::WriteFile(dir, "m.json", R"({"voc": {"ap50": 61.5}})");
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> result = ReadResultFile("voc", path);
  MOCHI_ASSERT_OK(result);
  EXPECT_EQ(*MetricValue(**result, "voc.ap50"), 61.5);
  EXPECT_THAT(ReadResultFile("knn", path),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("KnnResult")));
  EXPECT_THAT(ReadResultFile("voc", dir + "/missing.json"), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace mochi::report
