// Line plots as hand-written, self-contained SVG text (diffable, golden-testable, no plotting
// library): axes with ticks and labels, optional log axes, a legend and a title.
#ifndef PIPELINES_REPORT_SVG_PLOT_H_
#define PIPELINES_REPORT_SVG_PLOT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace mochi::report {

struct Series {
  std::string label;
  std::vector<std::pair<double, double>> points;  // (x, y); non-finite points are skipped
  int color = 0;                                  // index into the palette (wraps)
  bool dashed = false;                            // e.g. a secondary quantity of the same row
  bool thin = false;  // e.g. per-epoch context curves behind the main ones
};

struct LinePlot {
  std::string title;
  std::string xlabel;
  std::string ylabel;
  bool log_x = false;  // points with x <= 0 are skipped on a log axis
  bool log_y = false;
  std::vector<Series> series;
};

// RenderSvg draws one <polyline> per series (series without drawable points get none, and a
// "(no data)" legend entry), circle markers when a series has few points, and a legend entry per
// series. Colours come from a colour-blind-safe palette.
//
// Example:
//   LinePlot plot{"Proxy task", "epoch", "accuracy"};
//   plot.series.push_back({"MoCo-v2", {{0, 0.05}, {1, 0.31}}});
//   std::string svg = RenderSvg(plot);  // "<svg xmlns=..."
std::string RenderSvg(const LinePlot& plot);

// "Nice" tick positions (1, 2, 5 x 10^k steps) covering [lo, hi], about `target` of them.
std::vector<double> LinearTicks(double lo, double hi, int target);

// Escapes &, <, >, " and ' for XML text and attributes.
std::string XmlEscape(absl::string_view text);

}  // namespace mochi::report

#endif  // PIPELINES_REPORT_SVG_PLOT_H_
