#include "pipelines/report/figures.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/port/text_proto.h"
#include "pipelines/report/report_spec.h"
#include "pipelines/report/run_results.h"
#include "tests/pipelines/report/fake_results.h"
#include "tests/testing/status_matchers.h"

namespace mochi::report {
namespace {

using ::mochi::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

class FiguresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = testing::TestDir("figures_test");
    auto text = ReadFileToString(testing::WriteFakeSpec(dir));
    MOCHI_ASSERT_OK(text);
    auto spec = ParseReportSpec(*text, "spec.json");
    MOCHI_ASSERT_OK(spec);
    auto data = LoadReportData(*std::move(spec), "");
    MOCHI_ASSERT_OK(data);
    data_ = *std::move(data);
  }

  std::vector<std::string> Labels(const LinePlot& plot) {
    std::vector<std::string> labels;
    for (const Series& series : plot.series) labels.push_back(series.label);
    return labels;
  }

  ReportData data_;
};

TEST_F(FiguresTest, EpochCurveMeansSeedsAndDropsIdenticalSecondary) {
  auto figure = BuildFigure(data_.spec.figures[0], data_);
  MOCHI_ASSERT_OK(figure);
  // MoCo-v2's "without synthetic" equals its proxy accuracy, so it gets no dashed line.
  EXPECT_THAT(
      Labels(figure->plot),
      ElementsAre("MoCo-v2", "MoCHi (16, 32, 8)", "MoCHi (16, 32, 8): proxy_acc_without_synthetic",
                  "MoCHi one seed", "MoCHi one seed: proxy_acc_without_synthetic"));
  EXPECT_EQ(figure->plot.xlabel, "epoch");
  EXPECT_EQ(figure->plot.ylabel, "accuracy");
  // Seeds start at 0.10, 0.11, 0.12 and add 0.1 per epoch.
  const auto& points = figure->plot.series[0].points;
  ASSERT_EQ(points.size(), 3u);
  EXPECT_DOUBLE_EQ(points[0].first, 0);
  EXPECT_NEAR(points[0].second, 0.11, 1e-12);
  EXPECT_NEAR(points[2].second, 0.31, 1e-12);
  EXPECT_TRUE(figure->plot.series[2].dashed);
  EXPECT_NEAR(figure->plot.series[2].points[0].second, 0.06, 1e-12);
  EXPECT_TRUE(figure->rows_without_logs.empty());
}

TEST_F(FiguresTest, NegativeSecondaryValuesAreLeftOut) {
  FigureSpec spec = data_.spec.figures[0];
  spec.secondary_key = "synthetic_from_false_negative_share";  // -1 without mixing
  auto figure = BuildFigure(spec, data_);
  MOCHI_ASSERT_OK(figure);
  EXPECT_THAT(Labels(figure->plot),
              ElementsAre("MoCo-v2", "MoCHi (16, 32, 8)",
                          "MoCHi (16, 32, 8): synthetic_from_false_negative_share",
                          "MoCHi one seed", "MoCHi one seed: synthetic_from_false_negative_share"));
}

TEST_F(FiguresTest, SortedProfileUsesLastEpochAndBaselineContext) {
  auto figure = BuildFigure(data_.spec.figures[1], data_);
  MOCHI_ASSERT_OK(figure);
  EXPECT_TRUE(figure->plot.log_x);
  EXPECT_THAT(Labels(figure->plot),
              ElementsAre("MoCo-v2, last epoch", "MoCHi (16, 32, 8), last epoch",
                          "MoCHi one seed, last epoch", "MoCo-v2, epoch 0", "MoCo-v2, epoch 1"));
  // Last epoch (2): seed s has (0.1 + 0.01 s + 0.02) / rank; mean over seeds 0.13 / rank.
  const auto& points = figure->plot.series[0].points;
  ASSERT_EQ(points.size(), 8u);
  EXPECT_THAT(points[0], Pair(1.0, ::testing::DoubleNear(0.13, 1e-12)));
  EXPECT_THAT(points[3], Pair(4.0, ::testing::DoubleNear(0.13 / 4, 1e-12)));
  EXPECT_TRUE(figure->plot.series[3].thin);
}

TEST_F(FiguresTest, RowsWithoutLogsAreNamed) {
  for (RunResult& run : data_.runs[2]) {
    run.metrics_path.clear();
    run.epochs.clear();
  }
  auto figure = BuildFigure(data_.spec.figures[0], data_);
  MOCHI_ASSERT_OK(figure);
  EXPECT_THAT(figure->rows_without_logs, ElementsAre("MoCHi one seed"));
}

TEST_F(FiguresTest, MissingKeyNamesFigureRowSeedEpochAndFile) {
  FigureSpec spec = data_.spec.figures[0];
  spec.key = "alignment_qk";
  EXPECT_THAT(
      BuildFigure(spec, data_),
      StatusIs(
          absl::StatusCode::kNotFound,
          AllOf(HasSubstr("figure \"proxy_accuracy\", row \"mocov2\", seed 0, epoch 0"),
                HasSubstr("no number \"alignment_qk\""), HasSubstr("mocov2_s0_metrics.jsonl"))));
}

}  // namespace
}  // namespace mochi::report
