// Writes a table's SLURM plan (pipelines/slurm/slurm_plan.h) and optionally submits it. Run
// through the table's runner, which passes --plan:
//   bazel run [--config=ci|paper] //pipelines:table1_slurm_plan -- --out=DIR --store=DIR [--submit]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "mochi/port/paths.h"
#include "mochi/port/status_macros.h"
#include "mochi/port/text_proto.h"
#include "pipelines/slurm/slurm_plan.h"

ABSL_FLAG(std::string, plan, "", "The table's plan JSON (passed by the runner).");
ABSL_FLAG(std::string, out, "",
          "Plan directory to write (on a filesystem every node sees; a relative path is taken "
          "from the workspace): frozen copies of the binaries and configs, jobs/*.sbatch, "
          "submit.sh, plan.md; logs/ and report/ later.");
ABSL_FLAG(std::string, store, "",
          "Run store every node sees: each step's run directory, kept when done. A local build "
          "finds the runs with --define=mochi_run_store=<store> --define=mochi_store_mode=keep.");
ABSL_FLAG(std::string, tag, "main",
          "Run tag (--define=mochi_run_tag of the builds that should find these runs).");
ABSL_FLAG(std::string, partition, "", "sbatch --partition of every job (default: the cluster's).");
ABSL_FLAG(std::string, time_limit, "",
          "sbatch --time of the step jobs, e.g. 2-00:00:00; a step near it checkpoints and "
          "requeues itself.");
ABSL_FLAG(double, images_per_second_per_gpu, 0,
          "Pretraining throughput per GPU for the GPU-hour estimate in plan.md (0: no estimate).");
ABSL_FLAG(int64_t, train_images, 0,
          "Training images of pretrainings whose image folder is not on this machine (for the "
          "estimate; 0: unknown).");
ABSL_FLAG(bool, submit, false, "Run submit.sh (sbatch every job) after writing the plan.");
ABSL_FLAG(bool, overwrite, false, "Write over an existing plan directory.");

namespace {

namespace fs = std::filesystem;
using mochi::pipelines::PlanSettings;
using mochi::pipelines::TablePlan;

// The code version as the pipeline actions record it (tools/workspace_status.sh).
std::string GitRevision(const std::string& workspace) {
  const std::string command = absl::StrCat("cd ", mochi::pipelines::ShellQuote(workspace),
                                           " && bash tools/workspace_status.sh 2>/dev/null");
  std::string out;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buffer[512];
    while (fgets(buffer, sizeof(buffer), pipe) != nullptr) out += buffer;
    pclose(pipe);
  }
  absl::string_view line = absl::StripSuffix(out, "\n");
  return absl::ConsumePrefix(&line, "GIT_REVISION ") ? std::string(line) : "unknown";
}

absl::Status CopyInto(const std::string& from, const fs::path& to, bool executable) {
  std::error_code error;
  fs::create_directories(to.parent_path(), error);
  if (!error) fs::copy_file(from, to, fs::copy_options::overwrite_existing, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("copying ", from, " to ", to.string(), ": ", error.message()));
  }
  fs::permissions(to,
                  executable
                      ? fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec
                      : fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                            fs::perms::others_read,
                  error);
  return absl::OkStatus();
}

absl::Status WriteExecutable(const fs::path& path, const std::string& text) {
  MOCHI_RETURN_IF_ERROR(mochi::WriteFileAtomically(path.string(), text));
  std::error_code error;
  fs::permissions(path, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                  fs::perm_options::add, error);
  return absl::OkStatus();
}

absl::Status Run() {
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  if (workspace == nullptr || absl::GetFlag(FLAGS_plan).empty()) {
    return absl::FailedPreconditionError(
        "run me through a table's runner: bazel run //pipelines:<table>_slurm_plan -- --out=DIR "
        "--store=DIR");
  }
  PlanSettings settings;
  if (absl::GetFlag(FLAGS_out).empty() || absl::GetFlag(FLAGS_store).empty()) {
    return absl::InvalidArgumentError("--out and --store are required");
  }
  // The scripts run elsewhere (other nodes, another directory): absolute paths only.
  settings.plan_dir = fs::absolute(mochi::ResolvePath(absl::GetFlag(FLAGS_out))).string();
  settings.store = fs::absolute(mochi::ResolvePath(absl::GetFlag(FLAGS_store))).string();
  settings.workspace = workspace;
  settings.tag = absl::GetFlag(FLAGS_tag);
  settings.partition = absl::GetFlag(FLAGS_partition);
  settings.time_limit = absl::GetFlag(FLAGS_time_limit);
  settings.git_revision = GitRevision(workspace);
  if (fs::exists(fs::path(settings.plan_dir) / "submit.sh") && !absl::GetFlag(FLAGS_overwrite)) {
    return absl::AlreadyExistsError(
        absl::StrCat(settings.plan_dir,
                     " already holds a plan (its jobs may be queued and read its "
                     "binaries): choose another --out, or pass --overwrite"));
  }

  MOCHI_ASSIGN_OR_RETURN(std::string text, mochi::ReadFileToString(absl::GetFlag(FLAGS_plan)));
  MOCHI_ASSIGN_OR_RETURN(TablePlan plan, mochi::pipelines::ParseTablePlan(text));
  std::vector<mochi::pipelines::StepResources> resources;
  std::map<std::string, int64_t> images_by_dataset;
  for (const auto& step : plan.steps) {
    MOCHI_ASSIGN_OR_RETURN(auto r,
                           mochi::pipelines::LoadStepResources(step, ".", &images_by_dataset));
    if (r.size.images == 0) r.size.images = absl::GetFlag(FLAGS_train_images);
    resources.push_back(r);
  }

  // Frozen copies: a rebuild of the workspace must not change what queued jobs run (the run
  // directories are keyed by the binaries' and configs' contents).
  const fs::path out(settings.plan_dir);
  for (const char* dir : {"jobs", "logs"}) fs::create_directories(out / dir);
  MOCHI_RETURN_IF_ERROR(CopyInto("pipelines/step.sh", out / "step.sh", true));
  const bool generates_scenes =
      std::any_of(plan.steps.begin(), plan.steps.end(),
                  [](const mochi::pipelines::PlanStep& step) { return !step.scenes.empty(); });
  if (generates_scenes) {
    MOCHI_RETURN_IF_ERROR(CopyInto(plan.scenes_tool, out / "bin" / plan.scenes_tool, true));
  }
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const auto& step = plan.steps[i];
    MOCHI_RETURN_IF_ERROR(CopyInto(step.binary, out / "bin" / step.binary, true));
    MOCHI_RETURN_IF_ERROR(CopyInto(step.config, out / step.config, false));
    MOCHI_RETURN_IF_ERROR(WriteExecutable(
        out / "jobs" / (step.name + ".sbatch"),
        mochi::pipelines::StepJobScript(plan, step, resources[i].placement, settings)));
  }
  MOCHI_RETURN_IF_ERROR(WriteExecutable(out / "jobs" / "report.sbatch",
                                        mochi::pipelines::ReportJobScript(plan, settings)));
  MOCHI_RETURN_IF_ERROR(WriteExecutable(out / "submit.sh", mochi::pipelines::SubmitScript(plan)));
  const std::string summary = mochi::pipelines::PlanSummary(
      plan, resources, settings, absl::GetFlag(FLAGS_images_per_second_per_gpu));
  MOCHI_RETURN_IF_ERROR(mochi::WriteFileAtomically((out / "plan.md").string(), summary));
  std::printf("%s\nwrote %s\n", summary.c_str(), settings.plan_dir.c_str());
  if (absl::GetFlag(FLAGS_submit)) {
    const std::string command =
        absl::StrCat("bash ", mochi::pipelines::ShellQuote((out / "submit.sh").string()));
    if (std::system(command.c_str()) != 0) {
      return absl::UnavailableError(absl::StrCat(command, " failed (is sbatch on PATH?)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::Status status = Run();
  if (!status.ok()) {
    std::fprintf(stderr, "write_plan: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}
