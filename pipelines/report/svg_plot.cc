#include "pipelines/report/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace mochi::report {
namespace {

// Okabe-Ito: distinguishable with the common colour-vision deficiencies.
constexpr const char* kPalette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                    "#E69F00", "#56B4E9", "#000000", "#999999"};
constexpr int kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);

constexpr double kWidthBase = 620;  // plot area + margins, without the legend
constexpr double kLeft = 80;
constexpr double kTop = 52;
constexpr double kPlotWidth = 500;
constexpr double kPlotHeight = 320;
constexpr double kLegendRow = 18;
constexpr int kMaxMarkers = 40;  // more points than this read better without markers

const char* Color(int index) {
  return kPalette[((index % kPaletteSize) + kPaletteSize) % kPaletteSize];
}

// An axis: data range, scale and tick positions.
struct Axis {
  bool log = false;
  double lo = 0;  // in data units
  double hi = 1;
  std::vector<double> ticks;
  std::vector<double> minor_ticks;  // log axes: unlabelled 3, 4, 6... x 10^k
  double step = 0;                  // linear axes: tick spacing, for label decimals

  double Transform(double v) const { return log ? std::log10(v) : v; }
  // Position in [0, 1] along the axis.
  double Fraction(double v) const {
    return (Transform(v) - Transform(lo)) / (Transform(hi) - Transform(lo));
  }
};

double NiceStep(double span, int target) {
  target = std::max(target, 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(span / target)));
  // The 1-2-2.5-5 step whose tick count is closest to the target.
  double best = magnitude;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (m == 2.5 && magnitude >= 1) continue;  // keeps integer axes (epochs) on integers
    if (std::fabs(span / (m * magnitude) - target) < std::fabs(span / best - target)) {
      best = m * magnitude;
    }
  }
  return best;
}

Axis LinearAxis(double lo, double hi) {
  if (!(hi > lo)) {
    const double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  Axis axis;
  axis.step = NiceStep(hi - lo, 5);
  // Snap the range to whole ticks so the curves span the frame.
  axis.lo = std::floor(lo / axis.step + 1e-9) * axis.step;
  axis.hi = std::ceil(hi / axis.step - 1e-9) * axis.step;
  // Multiples of the step (not a running sum, which drifts).
  const long first = std::lround(axis.lo / axis.step);
  const long last = std::lround(axis.hi / axis.step);
  for (long k = first; k <= last; ++k) axis.ticks.push_back(k * axis.step);
  return axis;
}

Axis LogAxis(double lo, double hi) {
  if (!(hi > lo)) {
    lo /= 2;
    hi *= 2;
  }
  Axis axis;
  axis.log = true;
  // 2% padding in log space keeps the end points off the frame.
  const double pad = (std::log10(hi) - std::log10(lo)) * 0.02;
  axis.lo = std::pow(10.0, std::log10(lo) - pad);
  axis.hi = std::pow(10.0, std::log10(hi) + pad);
  const int first = static_cast<int>(std::floor(std::log10(axis.lo)));
  const int last = static_cast<int>(std::ceil(std::log10(axis.hi)));
  std::vector<double> decades, labelled, all;
  for (int k = first; k <= last; ++k) {
    for (int m = 1; m <= 9; ++m) {
      const double v = m * std::pow(10.0, k);
      if (v < axis.lo || v > axis.hi) continue;
      all.push_back(v);
      if (m == 1) decades.push_back(v);
      if (m == 1 || m == 2 || m == 5) labelled.push_back(v);
    }
  }
  // Label 1-2-5 within a few decades, only decades across many, everything across less than one.
  if (labelled.size() < 3) {
    axis.ticks = all;
  } else if (labelled.size() > 12 && decades.size() >= 2) {
    axis.ticks = decades;
  } else {
    axis.ticks = labelled;
  }
  for (double v : all) {
    if (std::find(axis.ticks.begin(), axis.ticks.end(), v) == axis.ticks.end()) {
      axis.minor_ticks.push_back(v);
    }
  }
  return axis;
}

std::string TickLabel(const Axis& axis, double v) {
  if (axis.log) return absl::StrFormat("%g", v);
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(axis.step) + 1e-9)));
  // Steps like 2.5 x 10^k need one more decimal than their magnitude.
  const double scaled = axis.step * std::pow(10.0, decimals);
  const int extra = std::fabs(scaled - std::round(scaled)) > 1e-6 ? 1 : 0;
  return absl::StrFormat("%.*f", decimals + extra, v);
}

bool Drawable(const LinePlot& plot, double x, double y) {
  return std::isfinite(x) && std::isfinite(y) && (!plot.log_x || x > 0) && (!plot.log_y || y > 0);
}

}  // namespace

std::vector<double> LinearTicks(double lo, double hi, int target) {
  if (!(hi > lo)) return {lo};
  const double step = NiceStep(hi - lo, target);
  std::vector<double> ticks;
  const long first = static_cast<long>(std::ceil(lo / step - 1e-9));
  const long last = static_cast<long>(std::floor(hi / step + 1e-9));
  for (long k = first; k <= last; ++k) ticks.push_back(k * step);
  return ticks;
}

std::string XmlEscape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string RenderSvg(const LinePlot& plot) {
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo;
  double y_lo = x_lo, y_hi = -x_lo;
  for (const Series& series : plot.series) {
    for (const auto& [x, y] : series.points) {
      if (!Drawable(plot, x, y)) continue;
      x_lo = std::min(x_lo, x);
      x_hi = std::max(x_hi, x);
      y_lo = std::min(y_lo, y);
      y_hi = std::max(y_hi, y);
    }
  }
  const bool empty = !(x_hi >= x_lo);
  if (empty) {
    x_lo = y_lo = 1;
    x_hi = y_hi = 10;
  }
  const Axis x_axis = plot.log_x ? LogAxis(x_lo, x_hi) : LinearAxis(x_lo, x_hi);
  const Axis y_axis = plot.log_y ? LogAxis(y_lo, y_hi) : LinearAxis(y_lo, y_hi);

  size_t longest_label = 8;
  for (const Series& series : plot.series)
    longest_label = std::max(longest_label, series.label.size());
  // ~7 px per character at 12 px sans-serif.
  const double legend_width = 40 + 7.0 * std::min<size_t>(longest_label, 48);
  const double width = kWidthBase + legend_width;
  const double height =
      std::max(kTop + kPlotHeight + 60, kTop + kLegendRow * plot.series.size() + 20);
  const double right = kLeft + kPlotWidth;
  const double bottom = kTop + kPlotHeight;
  auto sx = [&](double x) { return kLeft + x_axis.Fraction(x) * kPlotWidth; };
  auto sy = [&](double y) { return bottom - y_axis.Fraction(y) * kPlotHeight; };

  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
      "viewBox=\"0 0 %.0f %.0f\" font-family=\"DejaVu Sans, Arial, sans-serif\" "
      "font-size=\"12\">\n",
      width, height, width, height);
  absl::StrAppend(&svg, "<title>", XmlEscape(plot.title), "</title>\n");
  absl::StrAppendFormat(&svg, "<rect width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n", width,
                        height);
  absl::StrAppendFormat(&svg,
                        "<text x=\"%.1f\" y=\"28\" text-anchor=\"middle\" font-size=\"15\" "
                        "font-weight=\"bold\">%s</text>\n",
                        kLeft + kPlotWidth / 2, XmlEscape(plot.title));

  // Grid and ticks.
  svg += "<g stroke=\"#e3e3e3\" stroke-width=\"1\">\n";
  for (double t : x_axis.ticks) {
    absl::StrAppendFormat(&svg, "<line x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\"/>\n", sx(t),
                          kTop, sx(t), bottom);
  }
  for (double t : y_axis.ticks) {
    absl::StrAppendFormat(&svg, "<line x1=\"%.1f\" y1=\"%.2f\" x2=\"%.1f\" y2=\"%.2f\"/>\n", kLeft,
                          sy(t), right, sy(t));
  }
  svg += "</g>\n<g stroke=\"#333333\" stroke-width=\"1\">\n";
  absl::StrAppendFormat(&svg, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", kLeft,
                        bottom, right, bottom);
  absl::StrAppendFormat(&svg, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", kLeft,
                        kTop, kLeft, bottom);
  for (double t : x_axis.ticks) {
    absl::StrAppendFormat(&svg, "<line x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\"/>\n", sx(t),
                          bottom, sx(t), bottom + 5);
  }
  for (double t : x_axis.minor_ticks) {
    absl::StrAppendFormat(&svg, "<line x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\"/>\n", sx(t),
                          bottom, sx(t), bottom + 3);
  }
  for (double t : y_axis.ticks) {
    absl::StrAppendFormat(&svg, "<line x1=\"%.1f\" y1=\"%.2f\" x2=\"%.1f\" y2=\"%.2f\"/>\n",
                          kLeft - 5, sy(t), kLeft, sy(t));
  }
  for (double t : y_axis.minor_ticks) {
    absl::StrAppendFormat(&svg, "<line x1=\"%.1f\" y1=\"%.2f\" x2=\"%.1f\" y2=\"%.2f\"/>\n",
                          kLeft - 3, sy(t), kLeft, sy(t));
  }
  svg += "</g>\n<g fill=\"#333333\">\n";
  for (double t : x_axis.ticks) {
    absl::StrAppendFormat(&svg, "<text x=\"%.2f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                          sx(t), bottom + 18, TickLabel(x_axis, t));
  }
  for (double t : y_axis.ticks) {
    absl::StrAppendFormat(&svg, "<text x=\"%.1f\" y=\"%.2f\" text-anchor=\"end\">%s</text>\n",
                          kLeft - 8, sy(t) + 4, TickLabel(y_axis, t));
  }
  absl::StrAppendFormat(&svg, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s%s</text>\n",
                        kLeft + kPlotWidth / 2, bottom + 42, XmlEscape(plot.xlabel),
                        plot.log_x ? " (log scale)" : "");
  absl::StrAppendFormat(&svg,
                        "<text transform=\"translate(18,%.1f) rotate(-90)\" "
                        "text-anchor=\"middle\">%s%s</text>\n",
                        kTop + kPlotHeight / 2, XmlEscape(plot.ylabel),
                        plot.log_y ? " (log scale)" : "");
  if (empty) {
    absl::StrAppendFormat(&svg,
                          "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">no data</text>\n",
                          kLeft + kPlotWidth / 2, kTop + kPlotHeight / 2);
  }
  svg += "</g>\n";

  // Curves: thin context curves first so the main ones are drawn on top.
  std::vector<const Series*> order;
  for (const Series& series : plot.series) order.push_back(&series);
  std::stable_sort(order.begin(), order.end(),
                   [](const Series* a, const Series* b) { return a->thin && !b->thin; });
  for (const Series* series : order) {
    std::string points;
    int count = 0;
    for (const auto& [x, y] : series->points) {
      if (!Drawable(plot, x, y)) continue;
      absl::StrAppendFormat(&points, "%s%.2f,%.2f", count == 0 ? "" : " ", sx(x), sy(y));
      ++count;
    }
    if (count == 0) continue;
    absl::StrAppendFormat(&svg,
                          "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"%s%s "
                          "points=\"%s\"><title>%s</title></polyline>\n",
                          Color(series->color), series->thin ? "1" : "2",
                          series->dashed ? " stroke-dasharray=\"6 4\"" : "",
                          series->thin ? " stroke-opacity=\"0.6\"" : "", points,
                          XmlEscape(series->label));
    if (count <= kMaxMarkers && !series->thin) {
      absl::StrAppendFormat(&svg, "<g fill=\"%s\">", Color(series->color));
      for (const auto& [x, y] : series->points) {
        if (!Drawable(plot, x, y)) continue;
        absl::StrAppendFormat(&svg, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%s\"/>", sx(x), sy(y),
                              series->dashed ? "2" : "3");
      }
      svg += "</g>\n";
    }
  }

  // Legend, in the series' order.
  const double legend_x = right + 24;
  svg += "<g>\n";
  for (size_t i = 0; i < plot.series.size(); ++i) {
    const Series& series = plot.series[i];
    const double y = kTop + 8 + kLegendRow * i;
    bool has_points = false;
    for (const auto& [px, py] : series.points) has_points |= Drawable(plot, px, py);
    absl::StrAppendFormat(&svg,
                          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                          "stroke-width=\"%s\"%s/>\n",
                          legend_x, y, legend_x + 24, y, Color(series.color),
                          series.thin ? "1" : "2",
                          series.dashed ? " stroke-dasharray=\"6 4\"" : "");
    absl::StrAppendFormat(&svg, "<text x=\"%.1f\" y=\"%.1f\">%s%s</text>\n", legend_x + 32, y + 4,
                          XmlEscape(series.label), has_points ? "" : " (no data)");
  }
  svg += "</g>\n</svg>\n";
  return svg;
}

}  // namespace mochi::report
