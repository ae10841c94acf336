#include "pipelines/report/run_results.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/port/text_proto.h"
#include "pipelines/report/report_spec.h"
#include "tests/pipelines/report/fake_results.h"
#include "tests/testing/status_matchers.h"

namespace mochi::report {
namespace {

using ::mochi::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

class RunResultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TestDir("run_results_test");
    auto text = ReadFileToString(testing::WriteFakeSpec(dir_));
    MOCHI_ASSERT_OK(text);
    auto spec = ParseReportSpec(*text, "spec.json");
    MOCHI_ASSERT_OK(spec);
    spec_ = *std::move(spec);
  }

  std::string dir_;
  ReportSpec spec_;
};

TEST_F(RunResultsTest, LoadsScaledValuesLogsAndEnv) {
  auto data = LoadReportData(spec_, "");
  MOCHI_ASSERT_OK(data);
  ASSERT_EQ(data->runs.size(), 3u);
  ASSERT_EQ(data->runs[1].size(), 3u);
  const RunResult& run = data->runs[1][2];
  EXPECT_EQ(run.seed, 2);
  EXPECT_DOUBLE_EQ(run.values.at("linear_top1"), 87.0);
  EXPECT_DOUBLE_EQ(run.values.at("knn_top1"), 73.0);
  ASSERT_EQ(run.epochs.size(), 3u);
  EXPECT_EQ(run.epochs[2].epoch, 2);
  EXPECT_DOUBLE_EQ(run.epochs[2].scalars.at("mixing"), 1.0);
  EXPECT_EQ(run.epochs[2].arrays.at("top_negative_probabilities").size(), 8u);
  EXPECT_DOUBLE_EQ(run.train_seconds, 180.0);
  EXPECT_THAT(EnvValues(run, "libtorch"), ::testing::ElementsAre("2.11.0"));
}

TEST_F(RunResultsTest, MetricAbsentFromAFileNamesRowSeedColumnAndPath) {
  spec_.columns[0].metric = "top5";
  testing::WriteFile(dir_, "mochi_s1_lincls.json", R"({"features": "checkpoint", "top1": 0.5})");
  EXPECT_THAT(LoadReportData(spec_, ""),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("row \"mochi\", seed 1, column \"linear_top1\""),
                             HasSubstr("\"top5\" is not set"),
                             HasSubstr(dir_ + "/mochi_s1_lincls.json"))));
}

TEST_F(RunResultsTest, AMetricThatIsZeroIsAValue) {
  testing::WriteFile(dir_, "mocov2_s1_knn.json", R"({"top1": 0})");
  auto data = LoadReportData(spec_, "");
  MOCHI_ASSERT_OK(data);
  EXPECT_EQ(data->runs[0][1].values.at("knn_top1"), 0.0);
}

TEST_F(RunResultsTest, MissingFileRoleIsAnError) {
  spec_.rows[1].runs[1].files.erase("knn");
  EXPECT_THAT(LoadReportData(spec_, ""),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("row \"mochi\", seed 1, column \"knn_top1\""),
                             HasSubstr("no \"knn\" file"))));
}

TEST_F(RunResultsTest, MissingFileIsAnError) {
  spec_.rows[2].runs[0].files["lincls"] = dir_ + "/nowhere.json";
  EXPECT_THAT(LoadReportData(spec_, ""),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("row \"mochi_one\", seed 0, column \"linear_top1\""),
                             HasSubstr(dir_ + "/nowhere.json: cannot open file"))));
}

TEST_F(RunResultsTest, AFileThatIsNotItsResultKindIsAnError) {
  testing::WriteFile(dir_, "mocov2_s1_lincls.json", R"({"top1": "high"})");
  EXPECT_THAT(LoadReportData(spec_, ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("row \"mocov2\", seed 1"),
                             HasSubstr("not a valid mochi.proto.LinearEvalResult"))));
  // The untyped layout of older runs, e.g. {"value": ...} in a knn.json.
  testing::WriteFile(dir_, "mocov2_s1_lincls.json", R"({"top1": 0.8})");
  testing::WriteFile(dir_, "mocov2_s2_knn.json", R"({"metric": "knn_top1", "value": 0.7})");
  EXPECT_THAT(LoadReportData(spec_, ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("row \"mocov2\", seed 2"), HasSubstr("KnnResult"))));
}

TEST_F(RunResultsTest, RelativePathsAreTakenFromRoot) {
  spec_.rows.resize(1);
  spec_.rows[0].runs.resize(1);
  for (auto& [role, path] : spec_.rows[0].runs[0].files) {
    path = path.substr(dir_.size() + 1);
  }
  MOCHI_EXPECT_OK(LoadReportData(spec_, dir_));
  EXPECT_THAT(LoadReportData(spec_, dir_ + "/missing"), StatusIs(absl::StatusCode::kNotFound));
}

TEST(MetricsLogTest, ReadsEpochLinesAndRejectsOthers) {
  auto epochs = ParseMetricsLog(
      "{\"epoch\": 0, \"objective\": \"moco\", \"seconds\": 1.5, \"mixing\": true, "
      "\"top_negative_probabilities\": [0.5, 0.25]}\n\n{\"epoch\": 1, \"loss\": 0}\n",
      "m.jsonl");
  MOCHI_ASSERT_OK(epochs);
  ASSERT_EQ(epochs->size(), 2u);
  EXPECT_DOUBLE_EQ((*epochs)[0].scalars.at("seconds"), 1.5);
  EXPECT_DOUBLE_EQ((*epochs)[0].scalars.at("mixing"), 1.0);
  EXPECT_EQ((*epochs)[0].scalars.count("objective"), 0u);  // not a number
  EXPECT_THAT((*epochs)[0].arrays.at("top_negative_probabilities"),
              ::testing::ElementsAre(0.5, 0.25));
  EXPECT_EQ((*epochs)[1].epoch, 1);
  EXPECT_DOUBLE_EQ((*epochs)[1].scalars.at("loss"), 0.0);  // set, though 0
  EXPECT_EQ((*epochs)[1].scalars.count("seconds"), 0u);   // absent stays absent
  EXPECT_THAT(ParseMetricsLog("{\"epoch\": 0}\n{oops\n", "m.jsonl"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("m.jsonl:2")));
  EXPECT_THAT(ParseMetricsLog("{\"metric\": \"knn_top1\", \"value\": 0.5}\n", "m.jsonl"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("m.jsonl:1")));
  EXPECT_THAT(ParseMetricsLog("{\"loss\": 1}\n", "m.jsonl"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no \"epoch\"")));
}

TEST(EnvTextTest, KeyValueLines) {
  const auto env = ParseEnvText("git_revision: abc\nstarted: 2026-01-01T00:00:00+00:00\nnoise\n");
  ASSERT_EQ(env.size(), 2u);
  EXPECT_EQ(env[1].first, "started");
  EXPECT_EQ(env[1].second, "2026-01-01T00:00:00+00:00");  // split at the first colon only
}

}  // namespace
}  // namespace mochi::report
