// The SLURM plan writer (pipelines/slurm) on the real table plans defs.bzl writes: one job per
// step with its config's placement, each after the step it reads, the report last; and the
// GPU-hour arithmetic. tests/pipelines/slurm_test.sh runs a plan on a real SLURM.
#include "pipelines/slurm/slurm_plan.h"

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/port/text_proto.h"
#include "tests/testing/status_matchers.h"

namespace mochi::pipelines {
namespace {

using ::mochi::testing::IsOk;
using ::testing::HasSubstr;
using ::testing::Not;

TablePlan LoadPlan(const std::string& name) {
  absl::StatusOr<std::string> text = ReadFileToString(absl::StrCat("pipelines/", name, ".json"));
  EXPECT_THAT(text, IsOk());
  absl::StatusOr<TablePlan> plan = ParseTablePlan(text.ok() ? *text : "");
  EXPECT_THAT(plan, IsOk());
  return plan.ok() ? *plan : TablePlan();
}

PlanSettings Settings() {
  PlanSettings settings;
  settings.plan_dir = "/shared/plan";
  settings.workspace = "/shared/mochi";
  settings.store = "/shared/store";
  settings.tag = "main";
  settings.git_revision = "abc";
  return settings;
}

TEST(SlurmPlanTest, CiTable1IsTwoPretrainingsAndTheirLinearEvaluations) {
  const TablePlan plan = LoadPlan("table1_ci_plan");
  ASSERT_EQ(plan.steps.size(), 4u);
  EXPECT_EQ(plan.report_target, "//pipelines:table1_ci_report");
  EXPECT_EQ(plan.bazel_flags, std::vector<std::string>{"--config=ci"});
  std::map<std::string, std::string> input_of;
  for (const PlanStep& step : plan.steps) input_of[step.name] = step.input;
  EXPECT_EQ(input_of.at("ci__mocov2__s0"), "");
  EXPECT_EQ(input_of.at("ci__mocov2__s0__lincls"), "ci__mocov2__s0");
  EXPECT_EQ(input_of.at("ci__mochi_256_512_0__s0__lincls"), "ci__mochi_256_512_0__s0");
  std::map<std::string, int64_t> images_by_dataset;
  for (const PlanStep& step : plan.steps) {
    absl::StatusOr<StepResources> resources = LoadStepResources(step, ".", &images_by_dataset);
    ASSERT_THAT(resources, IsOk()) << step.name;
    EXPECT_FALSE(resources->placement.gpus) << step.name;
    EXPECT_EQ(resources->placement.nodes * resources->placement.processes_per_node, 1);
    // The ci cut's 12,800 Fashion-MNIST images, as the loader reads them.
    if (step.kind == "pretrain") EXPECT_EQ(resources->size.images, 12800) << step.name;
  }
  EXPECT_EQ(images_by_dataset.size(), 1u);  // both pretrainings read one dataset, counted once
}

TEST(SlurmPlanTest, PaperTable2PretrainsOnEightGpusAndEvaluatesOnOne) {
  const TablePlan plan = LoadPlan("table2_paper_plan");
  ASSERT_EQ(plan.steps.size(), 18u);  // 6 pretrainings, each with a linear eval and a transfer
  int pretrainings = 0;
  std::map<std::string, int64_t> images_by_dataset;
  for (const PlanStep& step : plan.steps) {
    absl::StatusOr<StepResources> resources = LoadStepResources(step, ".", &images_by_dataset);
    ASSERT_THAT(resources, IsOk()) << step.name;
    EXPECT_TRUE(resources->placement.gpus) << step.name;
    if (step.kind == "pretrain") {
      ++pretrainings;
      EXPECT_EQ(resources->placement.processes_per_node, 8) << step.name;
      EXPECT_THAT(std::vector<int64_t>({100, 200, 800}),
                  ::testing::Contains(resources->size.epochs));
    } else {
      EXPECT_EQ(resources->placement.processes_per_node, 1) << step.name;
      EXPECT_THAT(step.input, HasSubstr("paper__"));
    }
  }
  EXPECT_EQ(pretrainings, 6);
}

TEST(SlurmPlanTest, JobRunsStepShWithTheActionsIdentityAndResumesOnRequeue) {
  const TablePlan plan = LoadPlan("table1_ci_plan");
  const PlanStep& lincls = plan.steps[1];
  ASSERT_EQ(lincls.name, "ci__mocov2__s0__lincls");
  StepPlacement placement;
  placement.processes_per_node = 4;
  placement.gpus = true;
  const std::string script = StepJobScript(plan, lincls, placement, Settings());
  EXPECT_THAT(script, HasSubstr("#SBATCH --ntasks-per-node=4\n"));
  EXPECT_THAT(script, HasSubstr("#SBATCH --gpus-per-node=4\n"));
  EXPECT_THAT(script, HasSubstr("#SBATCH --requeue\n"));
  // The input run's directory from the pretraining's own identity, checked complete.
  EXPECT_THAT(script, HasSubstr("input_dir=$(bash '/shared/plan/step.sh' --print_dir "
                                "--store='/shared/store' --key=' run { seed: 0 }' --tag='main' "
                                "--hash='/shared/plan/bin/tools/pretrain' "
                                "--hash='/shared/plan/configs/pretrain/mocov2_fmnist_ci.pbtxt')"));
  EXPECT_THAT(script, HasSubstr("[ -f \"$input_dir/DONE\" ]"));
  EXPECT_THAT(script, HasSubstr("--mode=keep --hash=\"$input_dir/checkpoint.pt\""));
  EXPECT_THAT(script, HasSubstr("'--checkpoint='\"$input_dir\"''"));
  EXPECT_THAT(script, HasSubstr("scontrol requeue \"$SLURM_JOB_ID\""));
  EXPECT_THAT(script, Not(HasSubstr("{config}")));

  StepPlacement cpu;
  const std::string pretrain = StepJobScript(plan, plan.steps[0], cpu, Settings());
  EXPECT_THAT(pretrain, Not(HasSubstr("--gpus-per-node")));
  EXPECT_THAT(pretrain, Not(HasSubstr("input_dir")));
  EXPECT_THAT(pretrain, HasSubstr("--resume_if='checkpoint.pt'"));
  EXPECT_THAT(pretrain, HasSubstr("'--output_dir=@DIR@' '@RESUME@' &"));
}

TEST(SlurmPlanTest, SubmitChainsEachStepAfterItsInputAndTheReportAfterAll) {
  const TablePlan plan = LoadPlan("table1_ci_plan");
  const std::string submit = SubmitScript(plan);
  EXPECT_THAT(submit, HasSubstr("submit ci__mocov2__s0\n"));
  EXPECT_THAT(submit, HasSubstr("submit ci__mocov2__s0__lincls "
                                "--dependency=afterok:${job[ci__mocov2__s0]}\n"));
  EXPECT_THAT(submit, HasSubstr("submit report --dependency=afterok:${job[ci__mocov2__s0]}:"
                                "${job[ci__mocov2__s0__lincls]}:${job[ci__mochi_256_512_0__s0]}:"
                                "${job[ci__mochi_256_512_0__s0__lincls]}\n"));
  // A step is submitted after the step it depends on (its job id must exist).
  EXPECT_LT(submit.find("submit ci__mochi_256_512_0__s0\n"),
            submit.find("submit ci__mochi_256_512_0__s0__lincls"));
  const std::string report = ReportJobScript(plan, Settings());
  EXPECT_THAT(report, HasSubstr("bazel build --config=ci --define=mochi_run_tag='main' "
                                "--define=mochi_run_store='/shared/store' "
                                "--define=mochi_store_mode=read //pipelines:table1_ci_report\n"));
  EXPECT_THAT(report, HasSubstr("cp -f bazel-bin/pipelines/table1_ci_report/* "));
}

TEST(SlurmPlanTest, GpuHoursAreEpochsTimesImagesOverThroughput) {
  TablePlan plan;
  plan.table = "t";
  plan.profile = "paper";
  PlanStep step;
  step.name = "run";
  step.kind = "pretrain";
  plan.steps.push_back(step);
  StepResources resources;
  resources.placement.processes_per_node = 8;
  resources.placement.gpus = true;
  resources.size = {200, 1000000};
  // 200 x 1e6 images / 500 img/s = 4e5 s = 111.1 GPU-hours, 13.9 h on 8 GPUs.
  const std::string summary = PlanSummary(plan, {resources}, Settings(), 500);
  EXPECT_THAT(summary, HasSubstr("| 111 (13.9 h on 8) |"));
  EXPECT_THAT(summary, HasSubstr(": 111. "));
  EXPECT_THAT(summary, HasSubstr("2 jobs: 1 steps and the report"));
  EXPECT_THAT(PlanSummary(plan, {resources}, Settings(), 0),
              HasSubstr("pass --images_per_second_per_gpu"));
  resources.size.images = 0;
  EXPECT_THAT(PlanSummary(plan, {resources}, Settings(), 500), HasSubstr("| unknown |"));
}

TEST(SlurmPlanTest, RejectsPlansItCannotChain) {
  EXPECT_THAT(ParseTablePlan("not json").status().message(), HasSubstr("not a JSON object"));
  const std::string head =
      R"({"table": "t", "profile": "ci", "report_target": "//p:r", "steps": [)";
  const std::string pretrain =
      R"({"name": "a", "kind": "pretrain", "binary": "b", "config": "c", "key": "k"})";
  const std::string reads_b =
      R"({"name": "e", "kind": "lincls", "binary": "b", "config": "c", "key": "k", "input": "b"})";
  EXPECT_THAT(ParseTablePlan(head + pretrain + "," + reads_b + "]}").status().message(),
              HasSubstr("reads b, not an earlier pretraining step"));
  EXPECT_THAT(ParseTablePlan(head + pretrain + "," + pretrain + "]}").status().message(),
              HasSubstr("step a twice"));
  EXPECT_THAT(ParseTablePlan(head + pretrain + "]}"), IsOk());
}

TEST(SlurmPlanTest, ASingleProcessBinaryCannotAskForMoreProcesses) {
  PlanStep step;
  step.name = "e";
  step.kind = "lincls";
  step.config = "configs/lincls/fmnist_ci.pbtxt";
  std::map<std::string, int64_t> images_by_dataset;
  step.override_text = "run { placement { processes_per_node: 2 } }";
  EXPECT_THAT(LoadStepResources(step, ".", &images_by_dataset).status().message(),
              HasSubstr("the lincls binary runs in one process"));
  step.override_text = "run { placement { nodes: 0 } }";
  EXPECT_THAT(LoadStepResources(step, ".", &images_by_dataset).status().message(),
              HasSubstr("placement.nodes"));
}

}  // namespace
}  // namespace mochi::pipelines
