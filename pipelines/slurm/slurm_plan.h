// A table's pipeline steps (pipelines/defs.bzl: pretrainings, linear evaluations, transfers) as
// SLURM batch jobs: one job per step, each started after the steps it reads (sbatch
// --dependency=afterok), and a report job last that builds the table with Bazel from the run
// store the jobs filled. Every job runs pipelines/step.sh with the step's binary, config and
// arguments, exactly as the Bazel action does, so both compute the same run directory: a run
// finished on the cluster is found (not trained again) by a local build of the table.
#ifndef PIPELINES_SLURM_SLURM_PLAN_H_
#define PIPELINES_SLURM_SLURM_PLAN_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace mochi::pipelines {

// One step of the plan, as defs.bzl's _step records it (paths relative to the workspace).
struct PlanStep {
  std::string name;
  std::string kind;  // "pretrain", "lincls", "voc", "segm"
  std::string binary;
  std::string config;
  std::string override_text;  // merged over the config (the seed is in it)
  std::string key;            // the run's identity besides binary, config, input and tag
  std::vector<std::string> args;
  std::string input;  // the pretraining step whose checkpoint it reads, or ""
  std::string resume_if;
  std::string scenes;  // //eval:make_scenes flags, or ""
};

struct TablePlan {
  std::string table;
  std::string profile;  // default, ci, paper
  std::string report_target;
  std::vector<std::string> bazel_flags;  // the profile's, e.g. --config=ci
  std::string scenes_tool;               // //eval:make_scenes' path
  std::vector<PlanStep> steps;           // a step's input comes before it
};

// Parses the plan JSON that defs.bzl writes (`<table>_<profile>_plan`). Checks that every input
// names an earlier pretraining step.
absl::StatusOr<TablePlan> ParseTablePlan(const std::string& json_text);

// Where a step runs: its config's run.placement. Single-process binaries (all but pretraining)
// must ask for one process.
struct StepPlacement {
  int nodes = 1;
  int processes_per_node = 1;
  int cpus_per_process = 2;
  bool gpus = false;  // one GPU per process (the config's device is CUDA)
};

// Size of a pretraining, for the GPU-hour estimate; images = 0 when unknown (a dataset that is
// not on this machine).
struct PretrainSize {
  int64_t epochs = 0;
  int64_t images = 0;
};

struct StepResources {
  StepPlacement placement;
  PretrainSize size;  // pretraining steps only
};

// Loads the step's config (under `root`, with its override) as its kind's config type. A
// pretraining's image count comes from `images_by_dataset` (serialized dataset config -> images)
// or is counted and added there.
absl::StatusOr<StepResources> LoadStepResources(const PlanStep& step, const std::string& root,
                                                std::map<std::string, int64_t>* images_by_dataset);

// What the written scripts point at.
struct PlanSettings {
  std::string plan_dir;   // absolute; holds bin/, configs/, step.sh, jobs/, logs/, report/
  std::string workspace;  // absolute; the report job builds the table there
  std::string store;      // absolute run store all nodes see
  std::string tag;        // the run tag (--define=mochi_run_tag)
  std::string git_revision;
  std::string partition;   // "" = the cluster's default
  std::string time_limit;  // sbatch --time, "" = the partition's
  int requeue_signal_seconds = 300;
};

// The batch script of `step` (`plan` gives its input step's identity).
std::string StepJobScript(const TablePlan& plan, const PlanStep& step,
                          const StepPlacement& placement, const PlanSettings& settings);

// The report job: `bazel build` of the report target reading the store only (step.sh
// --mode=read), then the report files copied into <plan_dir>/report.
std::string ReportJobScript(const TablePlan& plan, const PlanSettings& settings);

// submit.sh: sbatch of every job with its afterok dependencies, the report last; writes the job
// ids to jobs.tsv.
std::string SubmitScript(const TablePlan& plan);

// plan.md: the jobs, their placement and dependencies, and the pretraining GPU-hours at
// `images_per_second_per_gpu` (0: no estimate, and a line saying which flag gives one).
std::string PlanSummary(const TablePlan& plan, const std::vector<StepResources>& resources,
                        const PlanSettings& settings, double images_per_second_per_gpu);

// Single-quoted for bash.
std::string ShellQuote(const std::string& s);

}  // namespace mochi::pipelines

#endif  // PIPELINES_SLURM_SLURM_PLAN_H_
