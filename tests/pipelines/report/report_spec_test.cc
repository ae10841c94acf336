#include "pipelines/report/report_spec.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mochi::report {
namespace {

using ::mochi::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

// The shape the pipelines' Starlark json.encode writes.
constexpr char kSpec[] = R"json({
  "table": "table1", "title": "IN-100 ablation", "profile": "default", "notes": "scaled down",
  "rows": [
    {"id": "mocov2", "label": "MoCo-v2", "baseline": true, "config": "c/mocov2.pbtxt",
     "overrides": "", "runs": [{"seed": 0, "files": {"knn": "k0.json"}},
                               {"seed": 1, "files": {"knn": "k1.json"}}]},
    {"id": "mochi", "label": "MoCHi", "baseline": false, "config": "c/mochi.pbtxt",
     "overrides": "head { mixing { num_hardest: 64 } }",
     "runs": [{"seed": 0, "files": {"knn": "m0.json"}}]}],
  "columns": [{"id": "knn_top1", "label": "kNN top-1 (%)", "result": "knn", "metric": "top1",
               "scale": 100.0, "digits": 1}],
  "published": {"mocov2": {"knn_top1": 67.5}, "mochi": {"knn_top1": null}},
  "figures": [{"id": "hardness", "kind": "sorted_profile", "key": "top_negative_probabilities",
               "title": "Hardness"}]
})json";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

TEST(ReportSpecTest, ParsesTheStarlarkShape) {
  auto spec = ParseReportSpec(kSpec, "t.json");
  MOCHI_ASSERT_OK(spec);
  EXPECT_EQ(spec->table, "table1");
  EXPECT_EQ(spec->notes, "scaled down");
  ASSERT_EQ(spec->rows.size(), 2u);
  EXPECT_EQ(spec->Baseline(), &spec->rows[0]);
  EXPECT_EQ(spec->rows[0].runs[1].seed, 1);
  EXPECT_EQ(spec->rows[0].runs[1].files.at("knn"), "k1.json");
  EXPECT_EQ(spec->rows[1].overrides, "head { mixing { num_hardest: 64 } }");
  EXPECT_DOUBLE_EQ(spec->columns[0].scale, 100.0);
  EXPECT_EQ(spec->columns[0].digits, 1);
  EXPECT_EQ(spec->Published("mocov2", "knn_top1"), 67.5);
  EXPECT_EQ(spec->Published("mochi", "knn_top1"), std::nullopt);  // null
  EXPECT_EQ(spec->Published("nope", "knn_top1"), std::nullopt);   // absent
  ASSERT_EQ(spec->figures.size(), 1u);
  EXPECT_EQ(spec->figures[0].kind, FigureKind::kSortedProfile);
  EXPECT_EQ(spec->figures[0].ylabel, "top_negative_probabilities");  // defaults to the key
}

// Columns and figures are checked against the results' messages when the spec loads, before any
// result file is read.
TEST(ReportSpecTest, ColumnsAndFiguresAreCheckedAgainstTheResultMessages) {
  auto spec = ParseReportSpec(Replace(kSpec, "\"metric\": \"top1\"", "\"metric\": \"value\""),
                              "t.json");
  EXPECT_THAT(spec, StatusIs(absl::StatusCode::kInvalidArgument,
                             AllOf(HasSubstr("columns[0]"),
                                   HasSubstr("mochi.proto.KnnResult has no field \"value\""),
                                   HasSubstr("top1, raw_pixels_top1"))));
  EXPECT_THAT(ParseReportSpec(Replace(kSpec, "\"result\": \"knn\"", "\"result\": \"knnn\""),
                              "t.json"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown result kind \"knnn\"; known kinds: knn, lincls")));
  // A nested metric must go through messages and end in a number.
  const std::string segm = Replace(kSpec, "\"result\": \"knn\"", "\"result\": \"segm\"");
  MOCHI_EXPECT_OK(ParseReportSpec(Replace(segm, "\"top1\"", "\"bbox.ap50\""), "t.json"));
  EXPECT_THAT(ParseReportSpec(Replace(segm, "\"top1\"", "\"bbox\""), "t.json"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is not a number")));
  EXPECT_THAT(ParseReportSpec(Replace(segm, "\"top1\"", "\"test_images.ap\""), "t.json"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("test_images is not a single message")));
  // Figure keys are PretrainEpoch fields: a list for a sorted profile, a number for a curve.
  EXPECT_THAT(ParseReportSpec(Replace(kSpec, "\"key\": \"top_negative_probabilities\"",
                                      "\"key\": \"proxy_acc\""),
                              "t.json"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is not a list of numbers")));
  EXPECT_THAT(ParseReportSpec(Replace(kSpec, "\"sorted_profile\", \"key\": \"top_negative_probabilities\"",
                                      "\"epoch_curve\", \"key\": \"proxy_accuracy\""),
                              "t.json"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("PretrainEpoch has no field \"proxy_accuracy\"")));
}

TEST(ReportSpecTest, Errors) {
  EXPECT_THAT(ParseReportSpec("{", "t.json"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("t.json: JSON")));
  EXPECT_THAT(ParseReportSpec(Replace(kSpec, "\"profile\": \"default\", ", ""), "t.json"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("missing field \"profile\"")));
  EXPECT_THAT(
      ParseReportSpec(Replace(kSpec, "\"baseline\": false", "\"baseline\": true"), "t.json"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("second baseline row")));
  EXPECT_THAT(ParseReportSpec(Replace(kSpec, "\"id\": \"mochi\"", "\"id\": \"mocov2\""), "t.json"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("duplicate id \"mocov2\"")));
  EXPECT_THAT(
      ParseReportSpec(Replace(kSpec, "\"seed\": 1", "\"seed\": 0"), "t.json"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("rows[0].runs[1]: duplicate seed 0")));
  EXPECT_THAT(
      ParseReportSpec(Replace(kSpec, "\"mochi\": {\"knn_top1\"", "\"mochi\": {\"knn\""), "t.json"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("published.mochi.knn: no column with this id")));
  EXPECT_THAT(ParseReportSpec(Replace(kSpec, "67.5", "\"67.5\""), "t.json"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("must be a number or null")));
  EXPECT_THAT(ParseReportSpec(Replace(kSpec, "sorted_profile", "histogram"), "t.json"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("known kinds: epoch_curve, sorted_profile")));
  EXPECT_THAT(
      ParseReportSpec(Replace(kSpec, "\"table\": \"table1\"", "\"table\": \"../x\""), "t.json"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a file-name stem")));
}

}  // namespace
}  // namespace mochi::report
