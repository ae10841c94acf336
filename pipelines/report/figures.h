// Turns a FigureSpec and the loaded training logs into a LinePlot (the data side of the
// figures; svg_plot draws them).
#ifndef PIPELINES_REPORT_FIGURES_H_
#define PIPELINES_REPORT_FIGURES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pipelines/report/report_spec.h"
#include "pipelines/report/run_results.h"
#include "pipelines/report/svg_plot.h"

namespace mochi::report {

struct Figure {
  LinePlot plot;
  std::vector<std::string> rows_without_logs;  // labels of rows whose runs list no "metrics"
};

// BuildFigure makes, per row with training logs, the mean over its seeds of:
//   epoch_curve:    `key` at each epoch (x = epoch), plus a dashed `secondary_key` line over the
//                   epochs where it is >= 0, unless it equals the main line everywhere (MoCo-v2's
//                   proxy accuracy "without synthetic negatives" is its proxy accuracy);
//   sorted_profile: the last epoch's `key` array against rank 1..n on log-log axes, plus thin
//                   curves of a few earlier epochs of the baseline row (how hardness evolves).
// NotFound names the row, seed, figure, epoch and file when a log line lacks a key.
//
// Example:
//   MOCHI_ASSIGN_OR_RETURN(Figure figure, BuildFigure(data.spec.figures[0], data));
//   std::string svg = RenderSvg(figure.plot);
absl::StatusOr<Figure> BuildFigure(const FigureSpec& spec, const ReportData& data);

}  // namespace mochi::report

#endif  // PIPELINES_REPORT_FIGURES_H_
