#include "pipelines/regression/regression_check.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mochi::pipelines {
namespace {

using ::mochi::testing::IsOk;
using ::mochi::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

const std::vector<ExpectedMetric> kExpected = {{"mocov2/knn_top1", 0.70, 0.02},
                                               {"mochi/knn_top1", 0.72, 0.03}};

TEST(RegressionCheckTest, MetricsWithinTolerancePass) {
  EXPECT_THAT(CheckMetrics(kExpected, {{"mocov2/knn_top1", 0.71}, {"mochi/knn_top1", 0.70}}),
              IsOk());
  // The bounds are inclusive.
  EXPECT_THAT(CheckMetrics({{"m", 0.5, 0.25}}, {{"m", 0.75}}), IsOk());
}

TEST(RegressionCheckTest, DeliberatelyDegradedMetricFailsNamingEverything) {
  const absl::Status status =
      CheckMetrics(kExpected, {{"mocov2/knn_top1", 0.70 - 0.05}, {"mochi/knn_top1", 0.72}});
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kFailedPrecondition,
                               AllOf(HasSubstr("mocov2/knn_top1"), HasSubstr("expected 0.7000"),
                                     HasSubstr("+/- 0.0200"), HasSubstr("got 0.6500"))));
  EXPECT_THAT(std::string(status.message()), ::testing::Not(HasSubstr("mochi/knn_top1")));
}

TEST(RegressionCheckTest, AnImprovementBeyondToleranceAlsoFails) {
  // A jump up is as suspicious as a drop (e.g. the test split leaking into training).
  EXPECT_THAT(CheckMetrics(kExpected, {{"mocov2/knn_top1", 0.80}, {"mochi/knn_top1", 0.72}}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("mocov2/knn_top1")));
}

TEST(RegressionCheckTest, MissingOrNonFiniteMetricsFail) {
  EXPECT_THAT(CheckMetrics(kExpected, {{"mocov2/knn_top1", 0.70}}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("mochi/knn_top1: expected 0.72 but it was not measured")));
  EXPECT_THAT(
      CheckMetrics(kExpected, {{"mocov2/knn_top1", std::nan("")}, {"mochi/knn_top1", 0.72}}),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("mocov2/knn_top1")));
}

TEST(RegressionCheckTest, ParsesTheExpectedFileAndRejectsBadEntries) {
  auto parsed = ParseExpectedMetrics(
      R"({"metrics": [{"name": "a", "expected": 0.5, "tolerance": 0.01, "seeds": [0.49, 0.51]}]})");
  MOCHI_ASSERT_OK(parsed);
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ((*parsed)[0].name, "a");
  EXPECT_DOUBLE_EQ((*parsed)[0].expected, 0.5);
  EXPECT_DOUBLE_EQ((*parsed)[0].tolerance, 0.01);
  EXPECT_THAT(ParseExpectedMetrics(R"({"metrics": [{"name": "a", "expected": 0.5}]})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tolerance")));
  EXPECT_THAT(ParseExpectedMetrics("not json"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(RegressionCheckTest, ReadsAMetricFromATypedResultFile) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/knn.json";
  std::ofstream(path) << R"({"top1": 0.8087, "k": 200})";
  auto value = ReadMetric("knn", path, "top1");
  MOCHI_ASSERT_OK(value);
  EXPECT_DOUBLE_EQ(*value, 0.8087);
  // A metric the message has but the file does not set is not read as 0.
  EXPECT_THAT(ReadMetric("knn", path, "raw_pixels_top1"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("raw_pixels_top1")));
  // A metric the message does not have fails before the file is read.
  EXPECT_THAT(ReadMetric("knn", path + ".missing", "value"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("has no field \"value\"")));
  EXPECT_THAT(ReadMetric("knn", path + ".missing", "top1"),
              StatusIs(absl::StatusCode::kNotFound));
  // The old untyped layout is not a KnnResult.
  std::ofstream(path) << R"({"metric": "knn_top1", "value": 0.8087})";
  EXPECT_THAT(ReadMetric("knn", path, "top1"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace mochi::pipelines
