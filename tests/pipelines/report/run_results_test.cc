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
  ASSERT_EQ(run.epochs.size(), 3u);  // the summary line without "epoch" is skipped
  EXPECT_EQ(run.epochs[2].epoch, 2);
  EXPECT_DOUBLE_EQ(run.epochs[2].scalars.at("mixing"), 1.0);
  EXPECT_EQ(run.epochs[2].arrays.at("top_negative_probabilities").size(), 8u);
  EXPECT_DOUBLE_EQ(run.train_seconds, 180.0);
  EXPECT_THAT(EnvValues(run, "libtorch"), ::testing::ElementsAre("2.11.0"));
}

TEST_F(RunResultsTest, MissingJsonKeyNamesRowSeedColumnAndPath) {
  spec_.columns[0].key = "top_one";
  EXPECT_THAT(LoadReportData(spec_, ""),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("row \"mocov2\", seed 0, column \"linear_top1\""),
                             HasSubstr("key \"top_one\" not found in"),
                             HasSubstr(dir_ + "/mocov2_s0_lincls.json"))));
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
                             HasSubstr("cannot read " + dir_ + "/nowhere.json"))));
}

TEST_F(RunResultsTest, NonNumericValueIsAnError) {
  testing::WriteFile(dir_, "mocov2_s1_lincls.json", R"({"top1": null})");
  EXPECT_THAT(LoadReportData(spec_, ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("row \"mocov2\", seed 1"), HasSubstr("is not a number"))));
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

TEST(MetricsLogTest, SkipsSummaryAndRejectsBadLines) {
  auto epochs = ParseMetricsLog(
      "{\"epoch\": 0, \"seconds\": 1.5, \"a\": [1, 2]}\n\n{\"metric\": \"knn\"}\n", "m.jsonl");
  MOCHI_ASSERT_OK(epochs);
  ASSERT_EQ(epochs->size(), 1u);
  EXPECT_DOUBLE_EQ((*epochs)[0].scalars.at("seconds"), 1.5);
  EXPECT_THAT(ParseMetricsLog("{\"epoch\": 0}\n{oops\n", "m.jsonl"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("m.jsonl:2")));
}

TEST(EnvTextTest, KeyValueLines) {
  const auto env = ParseEnvText("git_revision: abc\nstarted: 2026-01-01T00:00:00+00:00\nnoise\n");
  ASSERT_EQ(env.size(), 2u);
  EXPECT_EQ(env[1].first, "started");
  EXPECT_EQ(env[1].second, "2026-01-01T00:00:00+00:00");  // split at the first colon only
}

}  // namespace
}  // namespace mochi::report
