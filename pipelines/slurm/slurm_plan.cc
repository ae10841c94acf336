#include "pipelines/slurm/slurm_plan.h"

#include <map>
#include <memory>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "mochi/config/validate.h"
#include "mochi/engine/builders.h"
#include "mochi/port/status_macros.h"
#include "nlohmann/json.hpp"

namespace mochi::pipelines {
namespace {

using nlohmann::json;

absl::StatusOr<std::string> StringField(const json& object, const char* field, bool required) {
  if (!object.contains(field)) {
    if (required) return absl::InvalidArgumentError(absl::StrCat("plan: missing \"", field, "\""));
    return std::string();
  }
  if (!object[field].is_string()) {
    return absl::InvalidArgumentError(absl::StrCat("plan: \"", field, "\" must be a string"));
  }
  return object[field].get<std::string>();
}

absl::StatusOr<std::vector<std::string>> StringList(const json& object, const char* field) {
  std::vector<std::string> out;
  if (!object.contains(field)) return out;
  if (!object[field].is_array()) {
    return absl::InvalidArgumentError(absl::StrCat("plan: \"", field, "\" must be a list"));
  }
  for (const json& item : object[field]) {
    if (!item.is_string()) {
      return absl::InvalidArgumentError(absl::StrCat("plan: \"", field, "\" must hold strings"));
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

absl::StatusOr<PlanStep> ParseStep(const json& object) {
  if (!object.is_object()) return absl::InvalidArgumentError("plan: a step must be an object");
  PlanStep step;
  MOCHI_ASSIGN_OR_RETURN(step.name, StringField(object, "name", true));
  MOCHI_ASSIGN_OR_RETURN(step.kind, StringField(object, "kind", true));
  MOCHI_ASSIGN_OR_RETURN(step.binary, StringField(object, "binary", true));
  MOCHI_ASSIGN_OR_RETURN(step.config, StringField(object, "config", true));
  MOCHI_ASSIGN_OR_RETURN(step.override_text, StringField(object, "override", false));
  MOCHI_ASSIGN_OR_RETURN(step.key, StringField(object, "key", true));
  MOCHI_ASSIGN_OR_RETURN(step.args, StringList(object, "args"));
  MOCHI_ASSIGN_OR_RETURN(step.input, StringField(object, "input", false));
  MOCHI_ASSIGN_OR_RETURN(step.resume_if, StringField(object, "resume_if", false));
  MOCHI_ASSIGN_OR_RETURN(step.scenes, StringField(object, "scenes", false));
  return step;
}

const PlanStep* FindStep(const TablePlan& plan, const std::string& name) {
  for (const PlanStep& step : plan.steps) {
    if (step.name == name) return &step;
  }
  return nullptr;
}

// Config files and binaries are read from the plan directory's frozen copies.
std::string InPlan(const PlanSettings& settings, const std::string& path) {
  return absl::StrCat(settings.plan_dir, "/", path);
}

std::string BinaryInPlan(const PlanSettings& settings, const std::string& binary) {
  return absl::StrCat(settings.plan_dir, "/bin/", binary);
}

// step.sh's identity flags of `step`: --key, --tag and --hash of the binary and config (the
// input checkpoint's hash is added by the caller).
std::vector<std::string> IdentityFlags(const PlanStep& step, const PlanSettings& settings) {
  return {
      absl::StrCat("--store=", ShellQuote(settings.store)),
      absl::StrCat("--key=", ShellQuote(step.key)),
      absl::StrCat("--tag=", ShellQuote(settings.tag)),
      absl::StrCat("--hash=", ShellQuote(BinaryInPlan(settings, step.binary))),
      absl::StrCat("--hash=", ShellQuote(InPlan(settings, step.config))),
  };
}

template <typename Config>
absl::StatusOr<StepPlacement> PlacementOf(const PlanStep& step, const std::string& root,
                                          Config* config) {
  MOCHI_ASSIGN_OR_RETURN(
      *config, LoadConfig<Config>(absl::StrCat(root, "/", step.config), step.override_text));
  const proto::RunMetadata& run = config->run();
  StepPlacement placement;
  placement.nodes = run.placement().nodes();
  placement.processes_per_node = run.placement().processes_per_node();
  placement.cpus_per_process = run.placement().cpus_per_process();
  placement.gpus = run.device().rfind("cuda", 0) == 0;
  return placement;
}

}  // namespace

std::string ShellQuote(const std::string& s) {
  return absl::StrCat("'", absl::StrReplaceAll(s, {{"'", "'\\''"}}), "'");
}

absl::StatusOr<TablePlan> ParseTablePlan(const std::string& json_text) {
  json root = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) {
    return absl::InvalidArgumentError("plan: not a JSON object");
  }
  TablePlan plan;
  MOCHI_ASSIGN_OR_RETURN(plan.table, StringField(root, "table", true));
  MOCHI_ASSIGN_OR_RETURN(plan.profile, StringField(root, "profile", true));
  MOCHI_ASSIGN_OR_RETURN(plan.report_target, StringField(root, "report_target", true));
  MOCHI_ASSIGN_OR_RETURN(plan.bazel_flags, StringList(root, "bazel_flags"));
  MOCHI_ASSIGN_OR_RETURN(plan.scenes_tool, StringField(root, "scenes_tool", false));
  if (!root.contains("steps") || !root["steps"].is_array()) {
    return absl::InvalidArgumentError("plan: \"steps\" must be a list");
  }
  std::set<std::string> pretrainings;
  for (const json& object : root["steps"]) {
    MOCHI_ASSIGN_OR_RETURN(PlanStep step, ParseStep(object));
    if (FindStep(plan, step.name) != nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("plan: step ", step.name, " twice"));
    }
    if (!step.input.empty() && pretrainings.count(step.input) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "plan: step ", step.name, " reads ", step.input, ", not an earlier pretraining step"));
    }
    if (!step.scenes.empty() && plan.scenes_tool.empty()) {
      return absl::InvalidArgumentError("plan: a step generates scenes but no scenes_tool");
    }
    if (step.kind == "pretrain") pretrainings.insert(step.name);
    plan.steps.push_back(std::move(step));
  }
  return plan;
}

absl::StatusOr<StepResources> LoadStepResources(const PlanStep& step, const std::string& root,
                                                std::map<std::string, int64_t>* images_by_dataset) {
  StepResources resources;
  if (step.kind == "pretrain") {
    proto::PretrainConfig config;
    MOCHI_ASSIGN_OR_RETURN(resources.placement, PlacementOf(step, root, &config));
    resources.size.epochs = config.epochs();
    // The images the pretraining reads, as its loader lists them (limit, class list,
    // $MOCHI_IMAGENET included), once per dataset: an ImageFolder index of ImageNet walks a million
    // files.
    const std::string dataset = config.dataset().SerializeAsString();
    auto [it, first] = images_by_dataset->emplace(dataset, 0);
    if (first) {
      absl::StatusOr<std::unique_ptr<data::Dataset>> loaded = BuildDataset(config.dataset());
      it->second = loaded.ok() ? (*loaded)->size() : 0;  // not on this machine: unknown
    }
    resources.size.images = it->second;
    return resources;
  }
  if (step.kind == "lincls") {
    proto::LinearEvalConfig config;
    MOCHI_ASSIGN_OR_RETURN(resources.placement, PlacementOf(step, root, &config));
  } else if (step.kind == "voc") {
    proto::DetectionConfig config;
    MOCHI_ASSIGN_OR_RETURN(resources.placement, PlacementOf(step, root, &config));
  } else if (step.kind == "segm") {
    proto::SegmentationConfig config;
    MOCHI_ASSIGN_OR_RETURN(resources.placement, PlacementOf(step, root, &config));
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("plan: step ", step.name, ": unknown kind ", step.kind));
  }
  const StepPlacement& p = resources.placement;
  if (p.nodes * p.processes_per_node != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(step.config, ": run.placement asks for ", p.nodes * p.processes_per_node,
                     " processes, but the ", step.kind, " binary runs in one process"));
  }
  return resources;
}

std::string StepJobScript(const TablePlan& plan, const PlanStep& step,
                          const StepPlacement& placement, const PlanSettings& settings) {
  std::string s = absl::StrCat(
      "#!/usr/bin/env bash\n", "# ", plan.table, " (", plan.profile, " profile), step ", step.name,
      " (", step.kind, "): written by //pipelines/slurm:write_plan.\n", "#SBATCH --job-name=mochi-",
      step.name, "\n", "#SBATCH --nodes=", placement.nodes, "\n",
      "#SBATCH --ntasks-per-node=", placement.processes_per_node, "\n",
      "#SBATCH --cpus-per-task=", placement.cpus_per_process, "\n");
  if (placement.gpus) {
    absl::StrAppend(&s, "#SBATCH --gpus-per-node=", placement.processes_per_node, "\n");
  }
  if (!settings.partition.empty())
    absl::StrAppend(&s, "#SBATCH --partition=", settings.partition, "\n");
  if (!settings.time_limit.empty())
    absl::StrAppend(&s, "#SBATCH --time=", settings.time_limit, "\n");
  absl::StrAppend(
      &s,
      "# Preempted or requeued (scontrol requeue): SLURM sends SIGTERM, the step writes a\n"
      "# checkpoint, and the requeued job resumes it. Near the time limit SIGUSR1 does the same.\n",
      "#SBATCH --requeue\n", "#SBATCH --signal=B:USR1@", settings.requeue_signal_seconds, "\n",
      "#SBATCH --open-mode=append\n", "#SBATCH --output=", settings.plan_dir, "/logs/", step.name,
      ".log\n", "set -euo pipefail\n",
      "export MOCHI_GIT_REVISION=", ShellQuote(settings.git_revision), "\n",
      "# The processes' rendezvous (mochi/dist reads SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID).\n",
      "export MASTER_ADDR=\"$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1)\"\n",
      "export MASTER_PORT=$((20000 + SLURM_JOB_ID % 20000))\n",
      "echo \"[$(date -u +%FT%TZ)] job $SLURM_JOB_ID (restart ${SLURM_RESTART_COUNT:-0}) on "
      "$SLURM_JOB_NODELIST\"\n");
  std::vector<std::string> flags = IdentityFlags(step, settings);
  flags.push_back("--mode=keep");
  const PlanStep* input = step.input.empty() ? nullptr : FindStep(plan, step.input);
  if (input != nullptr) {
    absl::StrAppend(&s, "input_dir=$(bash ", ShellQuote(InPlan(settings, "step.sh")),
                    " --print_dir ", absl::StrJoin(IdentityFlags(*input, settings), " "), ")\n",
                    "[ -f \"$input_dir/DONE\" ] || { echo \"", step.input,
                    " is not complete in $input_dir\" >&2; exit 1; }\n");
    flags.push_back("--hash=\"$input_dir/checkpoint.pt\"");
  }
  if (!step.resume_if.empty()) flags.push_back("--resume_if=" + ShellQuote(step.resume_if));
  if (!step.scenes.empty()) {
    flags.push_back("--scenes_tool=" + ShellQuote(BinaryInPlan(settings, plan.scenes_tool)));
    flags.push_back("--scenes_flags=" + ShellQuote(step.scenes));
  }
  std::vector<std::string> args;
  for (const std::string& arg : step.args) {
    const std::string quoted =
        ShellQuote(absl::StrReplaceAll(arg, {{"{config}", InPlan(settings, step.config)}}));
    args.push_back(absl::StrReplaceAll(quoted, {{"{input}", "'\"$input_dir\"'"}}));
  }
  absl::StrAppend(
      &s,
      "trap 'echo \"time limit near: checkpoint and requeue\"; kill -TERM \"$step_pid\" "
      "2>/dev/null; wait \"$step_pid\" || true; scontrol requeue \"$SLURM_JOB_ID\"; exit 0' USR1\n",
      "srun --kill-on-bad-exit=1 bash ", ShellQuote(InPlan(settings, "step.sh")), " ",
      absl::StrJoin(flags, " "), " -- ", ShellQuote(BinaryInPlan(settings, step.binary)), " ",
      absl::StrJoin(args, " "), " &\n", "step_pid=$!\n", "wait \"$step_pid\"\n");
  return s;
}

std::string ReportJobScript(const TablePlan& plan, const PlanSettings& settings) {
  std::string target = plan.report_target;  // //pipelines:table1_ci_report
  std::string report_dir = absl::StrReplaceAll(target.substr(2), {{":", "/"}});
  return absl::StrCat(
      "#!/usr/bin/env bash\n", "# ", plan.table, " (", plan.profile,
      " profile): the report, built by Bazel from the run\n",
      "# store (--mode=read: no step is run again). Written by //pipelines/slurm:write_plan.\n",
      "#SBATCH --job-name=mochi-", plan.table, "-", plan.profile, "-report\n",
      "#SBATCH --nodes=1\n#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=2\n",
      settings.partition.empty() ? ""
                                 : absl::StrCat("#SBATCH --partition=", settings.partition, "\n"),
      "#SBATCH --open-mode=append\n", "#SBATCH --output=", settings.plan_dir, "/logs/report.log\n",
      "set -euo pipefail\n", "cd ", ShellQuote(settings.workspace), "\n", "bazel build ",
      absl::StrJoin(plan.bazel_flags, " "), plan.bazel_flags.empty() ? "" : " ",
      "--define=mochi_run_tag=", ShellQuote(settings.tag),
      " --define=mochi_run_store=", ShellQuote(settings.store), " --define=mochi_store_mode=read ",
      target, "\n", "mkdir -p ", ShellQuote(settings.plan_dir + "/report"), "\n",
      "cp -f bazel-bin/", report_dir, "/* ", ShellQuote(settings.plan_dir + "/report/"), "\n",
      "echo \"report in ", settings.plan_dir, "/report\"\n");
}

std::string SubmitScript(const TablePlan& plan) {
  std::string s =
      "#!/usr/bin/env bash\n"
      "# Submits the plan: one sbatch per step, each after the steps it reads (afterok), the\n"
      "# report after all of them. Job ids go to jobs.tsv. Written by "
      "//pipelines/slurm:write_plan.\n"
      "set -euo pipefail\n"
      "cd \"$(dirname \"$0\")\"\n"
      "declare -A job\n"
      ": >jobs.tsv\n"
      "submit() {  # submit NAME [sbatch flags]\n"
      "  local name=\"$1\"; shift\n"
      "  job[$name]=$(sbatch --parsable \"$@\" \"jobs/$name.sbatch\" | cut -d';' -f1)\n"
      "  printf '%s\\t%s\\n' \"$name\" \"${job[$name]}\" >>jobs.tsv\n"
      "  echo \"submitted $name: job ${job[$name]}\"\n"
      "}\n";
  std::vector<std::string> all;
  for (const PlanStep& step : plan.steps) {
    absl::StrAppend(&s, "submit ", step.name);
    if (!step.input.empty()) {
      absl::StrAppend(&s, " --dependency=afterok:${job[", step.input, "]}");
    }
    absl::StrAppend(&s, "\n");
    all.push_back(absl::StrCat("${job[", step.name, "]}"));
  }
  absl::StrAppend(
      &s, "submit report",
      all.empty() ? "" : absl::StrCat(" --dependency=afterok:", absl::StrJoin(all, ":")), "\n");
  return s;
}

std::string PlanSummary(const TablePlan& plan, const std::vector<StepResources>& resources,
                        const PlanSettings& settings, double images_per_second_per_gpu) {
  std::string s = absl::StrCat(
      "# SLURM plan: ", plan.table, ", ", plan.profile, " profile\n\n",
      "Written by `bazel run //pipelines:", plan.table, "_slurm_plan` at revision ",
      settings.git_revision, ", run tag `", settings.tag, "`, run store `", settings.store,
      "`. Submit with `bash ", settings.plan_dir, "/submit.sh`.\n\n", plan.steps.size() + 1,
      " jobs: ", plan.steps.size(), " steps and the report.\n\n",
      "| job | kind | after | nodes x processes | GPUs | CPUs | epochs x images | GPU-hours |\n",
      "|---|---|---|---|---|---|---|---|\n");
  double total_gpu_hours = 0;
  bool all_known = images_per_second_per_gpu > 0;
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const PlanStep& step = plan.steps[i];
    const StepPlacement& p = resources[i].placement;
    const int processes = p.nodes * p.processes_per_node;
    std::string size = "-", hours = "-";
    if (step.kind == "pretrain") {
      const PretrainSize& n = resources[i].size;
      size = n.images > 0 ? absl::StrCat(n.epochs, " x ", n.images)
                          : absl::StrCat(n.epochs, " x unknown");
      if (p.gpus && n.images > 0 && images_per_second_per_gpu > 0) {
        const double gpu_hours =
            static_cast<double>(n.epochs) * n.images / images_per_second_per_gpu / 3600.0;
        total_gpu_hours += gpu_hours;
        hours = absl::StrFormat("%.0f (%.1f h on %d)", gpu_hours, gpu_hours / processes, processes);
      } else if (p.gpus) {
        hours = "unknown";
        all_known = false;
      }
    }
    absl::StrAppend(&s, "| ", step.name, " | ", step.kind, " | ",
                    step.input.empty() ? "-" : step.input, " | ", p.nodes, " x ",
                    p.processes_per_node, " | ", p.gpus ? processes : 0, " | ",
                    processes * p.cpus_per_process, " | ", size, " | ", hours, " |\n");
  }
  absl::StrAppend(&s, "| report | bazel build | all | 1 x 1 | 0 | 2 | - | - |\n\n");
  if (images_per_second_per_gpu > 0) {
    absl::StrAppend(
        &s,
        absl::StrFormat("Pretraining GPU-hours at %.0f img/s per GPU (--images_per_second_per_gpu, "
                        "an assumption until the GPU check measures it): %.0f%s. Linear "
                        "evaluations and transfers are not included.\n",
                        images_per_second_per_gpu, total_gpu_hours,
                        all_known ? "" : " (some pretrainings unknown: their image count)"));
  } else {
    absl::StrAppend(&s,
                    "GPU-hours: pass --images_per_second_per_gpu (measured by the GPU check) "
                    "for an estimate.\n");
  }
  return s;
}

}  // namespace mochi::pipelines
