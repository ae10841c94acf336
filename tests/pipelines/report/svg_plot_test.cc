#include "pipelines/report/svg_plot.h"

#include <string>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mochi::report {
namespace {

using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pointwise;
using ::testing::StartsWith;

int Count(const std::string& text, const std::string& needle) {
  int count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

// Tags open and close in order (a tiny well-formedness check: no XML library in the build).
bool TagsBalanced(const std::string& svg) {
  std::vector<std::string> stack;
  for (size_t at = svg.find('<'); at != std::string::npos; at = svg.find('<', at + 1)) {
    const size_t end = svg.find('>', at);
    if (end == std::string::npos) return false;
    const std::string tag = svg.substr(at + 1, end - at - 1);
    if (tag.empty() || tag.back() == '/') continue;  // self-closing
    if (tag[0] == '/') {
      const std::string name = tag.substr(1);
      if (stack.empty() || stack.back() != name) return false;
      stack.pop_back();
    } else {
      stack.push_back(tag.substr(0, tag.find(' ')));
    }
  }
  return stack.empty();
}

LinePlot TwoSeries() {
  LinePlot plot;
  plot.title = "Proxy <accuracy> & more";
  plot.xlabel = "epoch";
  plot.ylabel = "accuracy";
  plot.series.push_back({"MoCo-v2", {{0, 0.05}, {1, 0.2}, {2, 0.3}}, 0});
  Series dashed{"MoCHi: without synthetic", {{0, 0.04}, {1, 0.15}, {2, 0.25}}, 1};
  dashed.dashed = true;
  plot.series.push_back(dashed);
  return plot;
}

TEST(SvgPlotTest, WellFormedWithOnePolylinePerSeriesAndLegend) {
  const std::string svg = RenderSvg(TwoSeries());
  EXPECT_THAT(svg, StartsWith("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_TRUE(absl::EndsWith(svg, "</svg>\n"));
  EXPECT_TRUE(TagsBalanced(svg)) << svg;
  EXPECT_EQ(Count(svg, "<polyline"), 2);
  EXPECT_EQ(Count(svg, "stroke-dasharray"), 2);  // the dashed curve and its legend swatch
  EXPECT_THAT(svg, HasSubstr(">MoCo-v2</text>"));
  EXPECT_THAT(svg, HasSubstr(">MoCHi: without synthetic</text>"));
  EXPECT_THAT(svg, HasSubstr("Proxy &lt;accuracy&gt; &amp; more"));  // escaped title
  EXPECT_THAT(svg, Not(HasSubstr("<accuracy>")));
  EXPECT_THAT(svg, HasSubstr(">epoch</text>"));
  // y from 0.04 to 0.3 with 0.05 steps: the axis is snapped to 0.00 .. 0.30.
  EXPECT_THAT(svg, HasSubstr(">0.00</text>"));
  EXPECT_THAT(svg, HasSubstr(">0.30</text>"));
}

TEST(SvgPlotTest, LogAxesSkipNonPositivePoints) {
  LinePlot plot;
  plot.title = "Hardness";
  plot.log_x = plot.log_y = true;
  plot.series.push_back({"last epoch", {{0, 1}, {1, 0.01}, {10, 0.002}, {1000, 0.0001}}, 0});
  const std::string svg = RenderSvg(plot);
  EXPECT_TRUE(TagsBalanced(svg));
  EXPECT_EQ(Count(svg, "<polyline"), 1);
  // x = 0 cannot be drawn on a log axis: 3 points remain.
  const size_t points = svg.find("points=\"");
  ASSERT_NE(points, std::string::npos);
  const std::string list = svg.substr(points, svg.find('"', points + 8) - points);
  EXPECT_EQ(Count(list, ","), 3);
  EXPECT_THAT(svg, HasSubstr(">1000</text>"));
  EXPECT_THAT(svg, HasSubstr(">0.001</text>"));
  EXPECT_THAT(svg, HasSubstr("(log scale)"));
}

TEST(SvgPlotTest, EmptySeriesIsLabelledNoData) {
  LinePlot plot;
  plot.series.push_back({"nothing", {}, 0});
  const std::string svg = RenderSvg(plot);
  EXPECT_TRUE(TagsBalanced(svg));
  EXPECT_EQ(Count(svg, "<polyline"), 0);
  EXPECT_THAT(svg, HasSubstr("nothing (no data)"));
}

TEST(SvgPlotTest, NiceTicks) {
  EXPECT_THAT(LinearTicks(0, 1, 5),
              Pointwise(DoubleNear(1e-12), std::vector<double>{0, 0.2, 0.4, 0.6, 0.8, 1}));
  EXPECT_THAT(LinearTicks(3, 9, 3), ElementsAre(4, 6, 8));
  EXPECT_THAT(
      LinearTicks(-0.07, 0.26, 6),
      Pointwise(DoubleNear(1e-12), std::vector<double>{-0.05, 0, 0.05, 0.1, 0.15, 0.2, 0.25}));
}

}  // namespace
}  // namespace mochi::report
