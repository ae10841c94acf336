#include "pipelines/report/figures.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "mochi/port/status_macros.h"
#include "pipelines/report/stats.h"

namespace mochi::report {
namespace {

constexpr int kContextEpochs = 4;  // earlier baseline epochs drawn in a sorted_profile

std::string Where(const FigureSpec& figure, const RowSpec& row, const RunResult& run,
                  const EpochLog& epoch) {
  return absl::StrCat("figure \"", figure.id, "\", row \"", row.id, "\", seed ", run.seed,
                      ", epoch ", epoch.epoch, ": ");
}

absl::StatusOr<double> Scalar(const FigureSpec& figure, const RowSpec& row, const RunResult& run,
                              const EpochLog& epoch, const std::string& key) {
  auto it = epoch.scalars.find(key);
  if (it == epoch.scalars.end()) {
    return absl::NotFoundError(absl::StrCat(Where(figure, row, run, epoch), "no number \"", key,
                                            "\" in ", run.metrics_path));
  }
  return it->second;
}

// epoch -> values over seeds -> (epoch, mean) points.
std::vector<std::pair<double, double>> MeanPoints(
    const std::map<int, std::vector<double>>& by_epoch) {
  std::vector<std::pair<double, double>> points;
  for (const auto& [epoch, values] : by_epoch) points.emplace_back(epoch, Mean(values));
  return points;
}

absl::Status AddEpochCurves(const FigureSpec& figure, const RowSpec& row,
                            const std::vector<RunResult>& runs, int color, LinePlot* plot) {
  std::map<int, std::vector<double>> primary, secondary;
  bool secondary_differs = false;
  for (const RunResult& run : runs) {
    for (const EpochLog& epoch : run.epochs) {
      MOCHI_ASSIGN_OR_RETURN(const double value, Scalar(figure, row, run, epoch, figure.key));
      primary[epoch.epoch].push_back(value);
      if (figure.secondary_key.empty()) continue;
      MOCHI_ASSIGN_OR_RETURN(const double second,
                             Scalar(figure, row, run, epoch, figure.secondary_key));
      if (second < 0) continue;  // -1 marks "not applicable" (no mixing at this epoch)
      secondary[epoch.epoch].push_back(second);
      secondary_differs |= std::fabs(second - value) > 1e-12;
    }
  }
  plot->series.push_back({row.label, MeanPoints(primary), color});
  if (!secondary.empty() && secondary_differs) {
    Series dashed{absl::StrCat(row.label, ": ", figure.secondary_key), MeanPoints(secondary),
                  color};
    dashed.dashed = true;
    plot->series.push_back(std::move(dashed));
  }
  return absl::OkStatus();
}

// Mean over seeds of the `key` array at `epoch_of_run(run)`; all seeds must agree on its length.
template <typename EpochOf>
absl::StatusOr<std::vector<double>> MeanArray(const FigureSpec& figure, const RowSpec& row,
                                              const std::vector<RunResult>& runs,
                                              EpochOf epoch_of_run) {
  std::vector<double> sum;
  int count = 0;
  for (const RunResult& run : runs) {
    const EpochLog* epoch = epoch_of_run(run);
    if (epoch == nullptr) continue;
    auto it = epoch->arrays.find(figure.key);
    if (it == epoch->arrays.end()) {
      return absl::NotFoundError(absl::StrCat(Where(figure, row, run, *epoch), "no array \"",
                                              figure.key, "\" in ", run.metrics_path));
    }
    if (count == 0) sum.assign(it->second.size(), 0.0);
    if (it->second.size() != sum.size()) {
      return absl::InvalidArgumentError(absl::StrCat(Where(figure, row, run, *epoch), "\"",
                                                     figure.key, "\" has ", it->second.size(),
                                                     " values, another seed has ", sum.size()));
    }
    for (size_t i = 0; i < sum.size(); ++i) sum[i] += it->second[i];
    ++count;
  }
  for (double& v : sum) v /= std::max(count, 1);
  return sum;
}

std::vector<std::pair<double, double>> RankPoints(const std::vector<double>& values) {
  std::vector<std::pair<double, double>> points;
  for (size_t i = 0; i < values.size(); ++i) points.emplace_back(i + 1.0, values[i]);
  return points;
}

const EpochLog* LastEpoch(const RunResult& run) {
  const EpochLog* last = nullptr;
  for (const EpochLog& epoch : run.epochs) {
    if (last == nullptr || epoch.epoch > last->epoch) last = &epoch;
  }
  return last;
}

absl::Status AddSortedProfiles(const FigureSpec& figure, const ReportData& data,
                               const std::vector<size_t>& rows_with_logs, LinePlot* plot) {
  const int num_rows = static_cast<int>(data.spec.rows.size());
  for (size_t r : rows_with_logs) {
    const RowSpec& row = data.spec.rows[r];
    MOCHI_ASSIGN_OR_RETURN(std::vector<double> last,
                           MeanArray(figure, row, data.runs[r], LastEpoch));
    plot->series.push_back(
        {absl::StrCat(row.label, ", last epoch"), RankPoints(last), static_cast<int>(r)});
  }
  // Earlier epochs of the baseline: epochs every seed logged, evenly spaced, last one excluded.
  for (size_t r : rows_with_logs) {
    const RowSpec& row = data.spec.rows[r];
    if (!row.baseline) continue;
    std::map<int, int> seeds_per_epoch;
    int last_epoch = -1;
    for (const RunResult& run : data.runs[r]) {
      for (const EpochLog& epoch : run.epochs) ++seeds_per_epoch[epoch.epoch];
      if (const EpochLog* last = LastEpoch(run)) last_epoch = std::max(last_epoch, last->epoch);
    }
    std::vector<int> candidates;
    for (const auto& [epoch, seeds] : seeds_per_epoch) {
      if (epoch != last_epoch && seeds == static_cast<int>(data.runs[r].size())) {
        candidates.push_back(epoch);
      }
    }
    std::vector<int> chosen;
    const int n = static_cast<int>(candidates.size());
    for (int i = 0; i < std::min(n, kContextEpochs); ++i) {
      const int index = n <= kContextEpochs ? i : i * (n - 1) / (kContextEpochs - 1);
      if (chosen.empty() || chosen.back() != candidates[index]) chosen.push_back(candidates[index]);
    }
    for (size_t j = 0; j < chosen.size(); ++j) {
      const int wanted = chosen[j];
      MOCHI_ASSIGN_OR_RETURN(
          std::vector<double> values,
          MeanArray(figure, row, data.runs[r], [wanted](const RunResult& run) -> const EpochLog* {
            for (const EpochLog& epoch : run.epochs) {
              if (epoch.epoch == wanted) return &epoch;
            }
            return nullptr;
          }));
      Series context{absl::StrCat(row.label, ", epoch ", wanted), RankPoints(values),
                     num_rows + static_cast<int>(j)};
      context.thin = true;
      plot->series.push_back(std::move(context));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Figure> BuildFigure(const FigureSpec& spec, const ReportData& data) {
  Figure figure;
  figure.plot.title = spec.title;
  figure.plot.ylabel = spec.ylabel;
  std::vector<size_t> rows_with_logs;
  for (size_t r = 0; r < data.spec.rows.size(); ++r) {
    bool has_logs = false;
    for (const RunResult& run : data.runs[r]) has_logs |= !run.metrics_path.empty();
    if (has_logs) {
      rows_with_logs.push_back(r);
    } else {
      figure.rows_without_logs.push_back(data.spec.rows[r].label);
    }
  }
  switch (spec.kind) {
    case FigureKind::kEpochCurve:
      figure.plot.xlabel = "epoch";
      for (size_t r : rows_with_logs) {
        MOCHI_RETURN_IF_ERROR(AddEpochCurves(spec, data.spec.rows[r], data.runs[r],
                                             static_cast<int>(r), &figure.plot));
      }
      return figure;
    case FigureKind::kSortedProfile:
      figure.plot.xlabel = "rank";
      figure.plot.log_x = true;
      figure.plot.log_y = true;
      MOCHI_RETURN_IF_ERROR(AddSortedProfiles(spec, data, rows_with_logs, &figure.plot));
      return figure;
  }
  return absl::InternalError("unhandled figure kind");
}

}  // namespace mochi::report
