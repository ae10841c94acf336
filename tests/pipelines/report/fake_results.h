// Synthetic result files and a report spec over them, for the report generator's tests.
#ifndef TESTS_PIPELINES_REPORT_FAKE_RESULTS_H_
#define TESTS_PIPELINES_REPORT_FAKE_RESULTS_H_

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"

namespace mochi::report::testing {

// A fresh directory under TEST_TMPDIR.
inline std::string TestDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::filesystem::path dir = std::filesystem::path(tmp ? tmp : "/tmp") / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

inline std::string WriteFile(const std::string& dir, const std::string& name,
                             const std::string& contents) {
  const std::string path = (std::filesystem::path(dir) / name).string();
  std::ofstream(path) << contents;
  return path;
}

// metrics.jsonl: `epochs` PretrainEpoch lines (proxy_acc = base + 0.1 epoch, seconds = 60 each,
// an 8-value sorted hardness array).
inline std::string FakeMetrics(int epochs, double base, bool mixing) {
  std::string text;
  for (int e = 0; e < epochs; ++e) {
    std::vector<std::string> hardness;
    for (int i = 0; i < 8; ++i) hardness.push_back(absl::StrCat((base + 0.01 * e) / (i + 1)));
    absl::StrAppend(
        &text, "{\"epoch\": ", e, ", \"loss\": ", 6 - 0.1 * e, ", \"proxy_acc\": ", base + 0.1 * e,
        ", \"proxy_acc_without_synthetic\": ", mixing ? base + 0.1 * e - 0.05 : base + 0.1 * e,
        ", \"mixing\": ", mixing ? "true" : "false", ", \"seconds\": 60",
        ", \"synthetic_from_false_negative_share\": ", mixing ? 0.2 : -1,
        ", \"top_negative_probabilities\": [", absl::StrJoin(hardness, ", "), "]}\n");
  }
  return text;
}

struct FakeRow {
  std::string id;
  std::string label;
  bool baseline;
  std::vector<double> linear_top1;  // one per seed, fraction
  std::vector<double> knn;
  bool mixing;
};

// Rows (linear top-1 / kNN, scaled x100 in the table):
//   mocov2 (baseline): seeds 0-2, linear {0.80, 0.81, 0.82}, kNN {0.70, 0.72, 0.74}
//   mochi:             seeds 0-2, linear {0.85, 0.86, 0.87}, kNN {0.71, 0.75, 0.73}
//   mochi_one:         seed 0,    linear {0.83},             kNN {0.69}
// published: mocov2 linear_top1 = 67.5; mochi linear_top1 = null; nothing else.
// Figures: proxy_accuracy (epoch_curve with secondary) and hardness (sorted_profile).
inline std::string WriteFakeSpec(const std::string& dir, const std::string& extra_columns = "") {
  const std::vector<FakeRow> rows = {
      {"mocov2", "MoCo-v2", true, {0.80, 0.81, 0.82}, {0.70, 0.72, 0.74}, false},
      {"mochi", "MoCHi (16, 32, 8)", false, {0.85, 0.86, 0.87}, {0.71, 0.75, 0.73}, true},
      {"mochi_one", "MoCHi one seed", false, {0.83}, {0.69}, true}};
  std::vector<std::string> row_json;
  for (const FakeRow& row : rows) {
    std::vector<std::string> runs;
    for (size_t s = 0; s < row.linear_top1.size(); ++s) {
      const std::string prefix = absl::StrCat(row.id, "_s", s, "_");
      WriteFile(dir, prefix + "lincls.json",
                absl::StrCat("{\"features\": \"checkpoint\", \"top1\": ", row.linear_top1[s],
                             ", \"top5\": 0.99}"));
      WriteFile(dir, prefix + "knn.json",
                absl::StrCat("{\"top1\": ", row.knn[s], ", \"k\": 200}"));
      WriteFile(dir, prefix + "metrics.jsonl", FakeMetrics(3, 0.1 + 0.01 * s, row.mixing));
      WriteFile(dir, prefix + "env.txt",
                absl::StrCat("git_revision: abc123\nlibtorch: 2.11.0\ndevice: cpu\n",
                             "intra_op_threads: 2\nblas: mkl\ncpu: AMD EPYC 9B14\n",
                             "dataset: fashion_mnist(train, n=60000)\n",
                             "started: 2026-01-0", s + 1, "T00:00:00+00:00\n"));
      runs.push_back(absl::StrCat("{\"seed\": ", s, ", \"files\": {\"lincls\": \"", dir, "/",
                                  prefix, "lincls.json\", \"knn\": \"", dir, "/", prefix,
                                  "knn.json\", \"metrics\": \"", dir, "/", prefix,
                                  "metrics.jsonl\", \"env\": \"", dir, "/", prefix, "env.txt\"}}"));
    }
    row_json.push_back(absl::StrCat(
        "{\"id\": \"", row.id, "\", \"label\": \"", row.label,
        "\", \"baseline\": ", row.baseline ? "true" : "false", ", \"config\": \"configs/pretrain/",
        row.id, ".pbtxt\", \"overrides\": \"\", \"runs\": [", absl::StrJoin(runs, ", "), "]}"));
  }
  const std::string spec = absl::StrCat(
      "{\"table\": \"tablex\", \"title\": \"Synthetic table\", \"profile\": \"ci\", "
      "\"notes\": \"Fake numbers.\", \"rows\": [",
      absl::StrJoin(row_json, ", "),
      "], \"columns\": [{\"id\": \"linear_top1\", \"label\": \"linear top-1 (%)\", \"result\": "
      "\"lincls\", \"metric\": \"top1\", \"scale\": 100.0, \"digits\": 2}, {\"id\": \"knn_top1\", "
      "\"label\": \"kNN top-1 (%)\", \"result\": \"knn\", \"metric\": \"top1\", \"scale\": 100.0, "
      "\"digits\": 1}",
      extra_columns,
      "], \"published\": {\"mocov2\": {\"linear_top1\": 67.5}, \"mochi\": {\"linear_top1\": "
      "null}}, \"figures\": [{\"id\": \"proxy_accuracy\", \"title\": \"Proxy task\", \"kind\": "
      "\"epoch_curve\", \"key\": \"proxy_acc\", \"secondary_key\": "
      "\"proxy_acc_without_synthetic\", \"ylabel\": \"accuracy\"}, {\"id\": \"hardness\", "
      "\"kind\": \"sorted_profile\", \"key\": \"top_negative_probabilities\", \"title\": "
      "\"Hardness\"}]}");
  return WriteFile(dir, "spec.json", spec);
}

}  // namespace mochi::report::testing

#endif  // TESTS_PIPELINES_REPORT_FAKE_RESULTS_H_
