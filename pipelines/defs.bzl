"""Turns the table definitions of tables.bzl into Bazel actions.

Bazel is the workflow engine: one action per pretraining run and seed, one per evaluation, one
per report. The action cache makes reruns incremental, and a run two tables share (the MoCo-v2
baseline) is one target, so it is computed once. Every profile gets its own targets
(`<table>_default`, `<table>_ci`, `<table>_paper`); `<table>` picks one from the `--config` profile.

Every pretraining, linear evaluation and transfer is a step (_step) that pipelines/step.sh runs,
in a Bazel action here and in a SLURM job of the table's plan (`<table>_slurm_plan`,
pipelines/slurm). Training takes a machine-wide lock (flock) so Bazel never runs two of them at
once: two 2-thread LibTorch jobs on 2 cores run 3-4x slower than one after the other. A step's run
directory lives in the run store (--define=mochi_run_store, /tmp/mochi-pipeline-scratch by
default), keyed by its binary, config, input checkpoint, overrides and run tag, so an interrupted
action resumes (the binaries' --resume) when Bazel runs it again, and a run a cluster finished
(--define=mochi_store_mode=keep or read) is copied, not trained again.
"""

LOCK = "/tmp/mochi-pipeline.lock"
RUN_FILES = ["checkpoint.pt", "config.pbtxt", "env.txt", "metrics.jsonl"]

# Results the pretraining's monitors (tools/pretrain_main.cc) write into the run directory: result
# kind (pipelines/report/result_metrics.h) -> file. They evaluate on the Fashion-MNIST test split,
# so ImageNet runs (paper) have none, and no columns of these kinds.
RUN_RESULTS = {"knn": "knn.json"}

def _run_files(profile):
    return RUN_FILES if profile == "paper" else RUN_FILES + RUN_RESULTS.values()

def _profile_columns(table, profile):
    """The columns `profile` can fill: a monitor's result needs Fashion-MNIST runs (not paper), and
    a transfer column needs the table's transfer setup for `profile` (Table 1's VOC columns have no
    ci cut)."""
    return [
        c
        for c in table["columns"]
        if (c["result"] not in RUN_RESULTS or profile != "paper") and
           (c["result"] not in TRANSFERS or profile in table.get("transfers", {}).get(c["result"], {}))
    ]

PROFILES = ["default", "ci", "paper"]

def seeded_override(overrides, seed):
    return "%s run { seed: %d }" % (overrides, seed)

def _shell_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"

def _gpu_tags(profile):
    # Paper-profile actions need the GPUs and the ImageNet tree: no sandbox.
    return ["manual", "no-sandbox"] if profile == "paper" else ["manual"]

def _step(name, kind, binary, config, key, args, outputs, override = "", input = None, resume_if = "", scenes = ""):
    """One pipeline step as data: a Bazel action (_step_genrule) and a SLURM job (pipelines/slurm)
    both run pipelines/step.sh with it, so they compute the same run directory.

    Args:
      name: the target and job name.
      kind: "pretrain", "lincls" or a TRANSFERS kind (which config type the plan reads).
      binary: the binary's label.
      config: the config file's label.
      key: the run's identity besides the binary, config, input checkpoint and run tag.
      args: the binary's arguments; "{config}" is the config file, "{input}" the input run's
        directory, and @DIR@, @SCENES@, @RESUME@ are step.sh's.
      outputs: run-directory file -> output name (relative to the target's package).
      override: the text proto the binary merges over the config (the plan reads the config).
      input: the pretraining step whose checkpoint it reads, or None.
      resume_if: run-directory file whose presence means an interrupted run to --resume.
      scenes: //eval:make_scenes flags for a dataset generated into @SCENES@, or "".
    """
    return {
        "name": name,
        "kind": kind,
        "binary": binary,
        "config": config,
        "key": key,
        "override": override,
        "args": args,
        "outputs": outputs,
        "input": input or "",
        "resume_if": resume_if,
        "scenes": scenes,
    }

def _step_genrule(step, message, profile, stamp = 0, env = []):
    """The Bazel action of `step`: outputs its `outputs`."""
    config = "$(location %s)" % step["config"]
    hashes = ["$(execpath %s)" % step["binary"], config]
    srcs = [step["config"]]
    input_dir = ""
    if step["input"]:
        checkpoint = ":%s/checkpoint.pt" % step["input"]
        srcs += [checkpoint, ":%s/config.pbtxt" % step["input"]]
        hashes.append("$(location %s)" % checkpoint)
        input_dir = "$$(dirname $(location %s))" % checkpoint
    tools = [step["binary"], "//pipelines:step.sh"]
    flags = [
        "--store=$(mochi_run_store)",
        "--mode=$(mochi_store_mode)",
        "--lock=" + LOCK,
        "--key=" + _shell_quote(step["key"]),
        "--tag=$(mochi_run_tag)",
    ] + ["--hash=" + h for h in hashes]
    if step["resume_if"]:
        flags.append("--resume_if=" + step["resume_if"])
    if step["scenes"]:
        tools.append("//eval:make_scenes")
        flags += ["--scenes_tool=$(execpath //eval:make_scenes)", "--scenes_flags=" + _shell_quote(step["scenes"])]
    flags += ["--copy=%s:$(RULEDIR)/%s" % (f, out) for f, out in step["outputs"].items()]
    args = [
        _shell_quote(a).replace("{config}", "'\"%s\"'" % config).replace("{input}", "'\"%s\"'" % input_dir)
        for a in step["args"]
    ]
    native.genrule(
        name = step["name"],
        srcs = srcs,
        outs = step["outputs"].values(),
        tools = tools,
        stamp = stamp,
        cmd = " && ".join(env + [
            "bash $(location //pipelines:step.sh) %s -- $(execpath %s) %s" % (
                " ".join(flags),
                step["binary"],
                " ".join(args),
            ),
        ]),
        message = message,
        tags = _gpu_tags(profile),
    )

def pretrain_step(name, config, overrides, seed, profile):
    """One pretraining (//tools:pretrain); outputs <name>/{checkpoint.pt,...}."""
    override = seeded_override(overrides, seed)
    return _step(
        name = name,
        kind = "pretrain",
        binary = "//tools:pretrain",
        config = config,
        key = override,
        override = override,
        args = ["--config={config}", "--override=" + override, "--output_dir=@DIR@", "@RESUME@"],
        outputs = {f: "%s/%s" % (name, f) for f in _run_files(profile)},
        resume_if = "checkpoint.pt",
    )

def pretrain_run(step, seed, profile):
    _step_genrule(
        step,
        message = "Pretraining %s (seed %d, profile %s)" % (step["config"], seed, profile),
        profile = profile,
        # The code version comes in as an input: Bazel's volatile workspace status
        # (tools/workspace_status.sh), which a new commit alone does not re-run the action for.
        stamp = 1,
        env = ["export MOCHI_GIT_REVISION=\"$$(sed -n 's/^GIT_REVISION //p' bazel-out/volatile-status.txt)\""],
    )

def linear_step(name, run, config):
    """Linear classification (//eval:linear) of the backbone of pretraining `run`."""
    return _step(
        name = name,
        kind = "lincls",
        binary = "//eval:linear",
        config = config,
        key = "linear evaluation",
        args = ["--config={config}", "--checkpoint={input}", "--features=checkpoint", "--output=@DIR@/lincls.json"],
        outputs = {"lincls.json": name + ".json"},
        input = run,
    )

# Transfer evaluations a table column can read (the column's "result" = the kind); each writes a
# TransferResult (mochi/proto/results.proto) as metrics.json:
#   voc:  Faster R-CNN C4 (//eval:detect) on VOC-format scenes: voc.ap50, voc.ap, voc.ap75
#         (percent).
#   segm: Mask R-CNN C4 (//eval:segment) on COCO-format scenes: bbox.* and segm.* COCO numbers
#         (fractions).
TRANSFERS = {
    "voc": struct(binary = "//eval:detect", root_flag = "--voc_root", root_dir = "VOCdevkit", what = "Faster R-CNN"),
    "segm": struct(binary = "//eval:segment", root_flag = "--coco_root", root_dir = "coco", what = "Mask R-CNN"),
}

def transfer_step(name, kind, run, config, overrides, scenes):
    """A detection transfer (TRANSFERS[kind]) of the backbone of pretraining `run`.

    Args:
      name: the target; its output is <name>.json, the transfer's metrics.json.
      kind: a TRANSFERS key.
      run: a pretraining step name, or None for a randomly initialised backbone.
      config: the DetectionConfig / SegmentationConfig file.
      overrides: text proto merged over it (the seed is part of it).
      scenes: //eval:make_scenes flags for the dataset it trains and scores on, generated by the
        step (deterministic, seconds); empty: the config's own dataset paths.
    """
    transfer = TRANSFERS[kind]
    init = "--checkpoint={input}" if run else "--random_init"
    args = ["--config={config}", "--override=" + overrides, init]
    if scenes:
        args.append("%s=@SCENES@/%s" % (transfer.root_flag, transfer.root_dir))
    # An interrupted transfer continues from its last checkpoint (checkpoint_every_iters).
    args += ["--output_dir=@DIR@/out", "@RESUME@"]
    return _step(
        name = name,
        kind = kind,
        binary = transfer.binary,
        config = config,
        key = "%s %s %s" % (overrides, "pretrained" if run else "random init", scenes),
        override = overrides,
        args = args,
        outputs = {"out/metrics.json": name + ".json"},
        input = run,
        resume_if = "out/checkpoint.pt",
        scenes = scenes,
    )

def _table_report_impl(ctx):
    spec = json.decode(ctx.attr.spec)
    paths = {}
    for target, key in ctx.attr.files.items():
        paths[key] = target.files.to_list()[0].path
    for row in spec["rows"]:
        for run in row["runs"]:
            run["files"] = {
                kind: paths["%s|%d|%s" % (row["id"], run["seed"], kind)]
                for kind in run["files"]
            }
    spec_file = ctx.actions.declare_file(ctx.label.name + "/spec.json")
    ctx.actions.write(spec_file, json.indent(json.encode(spec)))
    table = spec["table"]
    outs = [ctx.actions.declare_file(ctx.label.name + "/" + table + ext) for ext in [".md", ".report.json", ".csv"]]
    outs += [
        ctx.actions.declare_file("%s/%s_%s.svg" % (ctx.label.name, table, figure["id"]))
        for figure in spec.get("figures", [])
    ]
    ctx.actions.run(
        executable = ctx.executable._make_report,
        arguments = ["--spec=" + spec_file.path, "--out_dir=" + outs[0].dirname],
        inputs = [spec_file] + ctx.files.files,
        outputs = outs,
        mnemonic = "MochiReport",
        progress_message = "Writing the report of %s (%s profile)" % (table, spec["profile"]),
    )
    return [DefaultInfo(
        files = depset(outs + [spec_file]),
        runfiles = ctx.runfiles(files = outs + [spec_file]),  # for the bazel-run installer
    )]

table_report = rule(
    implementation = _table_report_impl,
    attrs = {
        # The table spec (pipelines/report/report_spec.h), without the result paths.
        "spec": attr.string(mandatory = True),
        # Result file -> "row|seed|kind"; the rule writes their paths into the spec.
        "files": attr.label_keyed_string_dict(allow_files = True),
        "_make_report": attr.label(
            default = "//pipelines/report:make_report",
            executable = True,
            cfg = "exec",
        ),
    },
)

def _profile_rows(table, profile):
    rows = []
    for row in table["rows"]:
        setting = row.get(profile)
        if setting != None:
            rows.append(struct(
                id = row["id"],
                # The run's name: a setting that pretrains something other than the row's usual
                # run of this profile (Table 3's IN-1K rows) names its own.
                run_id = setting.get("run_id", row["id"]),
                label = setting.get("label", row["label"]),
                baseline = row.get("baseline", False),
                random_init = setting.get("init", "") == "random",
                config = setting.get("config", ""),
                overrides = setting.get("overrides", ""),
                seeds = setting["seeds"],
            ))
    return rows

def _lincls_config(table, lincls_configs, profile):
    """The table's own LinearEvalConfig for `profile` (Table 2's IN-1K), else the profile's."""
    return table.get("lincls", {}).get(profile, lincls_configs[profile])

def run_name(profile, row_id, seed):
    return "%s__%s__s%d" % (profile, row_id, seed)

def pipeline_table(name, table, lincls_configs):
    """Targets for table `name` in every profile: runs, evaluations, report, runner, alias.

    Args:
      name: the table id, e.g. "table1".
      table: its definition (see tables.bzl).
      lincls_configs: profile -> LinearEvalConfig file, for tables with a linear top-1 column.
        Tables with transfer columns (a TRANSFERS kind as "result") name each transfer's setup in
        table["transfers"][kind][profile] = {"config", "overrides", "scenes"}.
    """
    wants_linear = any([c["result"] == "lincls" for c in table["columns"]])
    reported = []
    for profile in PROFILES:
        rows = _profile_rows(table, profile)
        # A profile is reported when it has rows and something to show: columns (figure-only
        # tables have none) or figures.
        columns = _profile_columns(table, profile)
        if not rows or not (columns or table.get("figures")):
            continue
        transfers = [k for k in TRANSFERS if any([c["result"] == k for c in columns])]
        reported.append(profile)
        files = {}
        spec_rows = []
        plan = []  # the profile's steps, in dependency order, for the SLURM plan
        for row in rows:
            runs = []
            for seed in row.seeds:
                run = run_name(profile, row.run_id, seed)
                kinds = {}
                if not row.random_init:
                    step = pretrain_step(run, row.config, row.overrides, seed, profile)
                    plan.append(step)
                    if not native.existing_rule(run):  # shared with another table
                        pretrain_run(step, seed, profile)
                    kinds = {"metrics": ":%s/metrics.jsonl" % run, "env": ":%s/env.txt" % run}
                    if profile != "paper":
                        for kind, file in RUN_RESULTS.items():
                            kinds[kind] = ":%s/%s" % (run, file)
                for kind in transfers:
                    setup = table["transfers"][kind][profile]
                    step = transfer_step(
                        "%s__%s" % (run, kind),
                        kind,
                        None if row.random_init else run,
                        setup["config"],
                        seeded_override(setup.get("overrides", ""), seed),
                        setup.get("scenes", ""),
                    )
                    plan.append(step)
                    if not native.existing_rule(step["name"]):
                        _step_genrule(
                            step,
                            message = "%s transfer of %s" % (TRANSFERS[kind].what, step["input"] or "a random init"),
                            profile = profile,
                        )
                    kinds[kind] = ":%s.json" % step["name"]
                if wants_linear and not row.random_init:
                    step = linear_step(run + "__lincls", run, _lincls_config(table, lincls_configs, profile))
                    plan.append(step)
                    if not native.existing_rule(step["name"]):
                        _step_genrule(step, message = "Linear evaluation of %s" % run, profile = profile)
                    kinds["lincls"] = ":%s.json" % step["name"]
                for kind, label in kinds.items():
                    files[label] = "%s|%d|%s" % (row.id, seed, kind)
                runs.append({"seed": seed, "files": {k: "" for k in kinds}})
            spec_rows.append({
                "id": row.id,
                "label": row.label,
                "baseline": row.baseline,
                "config": row.config.replace("//configs:", "configs/"),
                "overrides": row.overrides,
                "runs": runs,
            })
        spec = {
            "table": name,
            "title": table["title"],
            "profile": profile,
            "notes": table.get("notes", {}).get(profile, ""),
            "rows": spec_rows,
            "columns": columns,
            "published": table.get("published", {}),
            "figures": table.get("figures", []),
        }
        table_report(
            name = "%s_%s_report" % (name, profile),
            spec = json.encode(spec),
            files = files,
            tags = ["manual"],
        )
        _slurm_plan(name, profile, plan)
    if "default" not in reported:
        # The default profile is what a fresh machine regenerates: every table must have it.
        fail("%s has no default-profile report (rows, columns or figures missing?)" % name)
    _runner_and_alias(name, reported)
    _slurm_plan_alias(name, reported)

def _label_path(label):
    # "//tools:pretrain" -> "tools/pretrain", its path in the runfiles and in the workspace.
    return label.replace("//", "").replace(":", "/")

PROFILE_FLAGS = {"default": [], "ci": ["--config=ci"], "paper": ["--config=paper"]}

def _slurm_plan(name, profile, steps):
    """`<name>_<profile>_slurm_plan`: bazel run it to write the profile's steps of table `name` as
    SLURM jobs (//pipelines/slurm:write_plan), with the report job last."""
    unique = []
    for step in steps:  # a run two rows share is one step
        if step["name"] not in [s["name"] for s in unique]:
            unique.append(step)
    plan = {
        "table": name,
        "profile": profile,
        "report_target": "//pipelines:%s_%s_report" % (name, profile),
        "bazel_flags": PROFILE_FLAGS[profile],
        "scenes_tool": _label_path("//eval:make_scenes"),
        "steps": [dict(step, binary = _label_path(step["binary"]), config = _label_path(step["config"])) for step in unique],
    }
    json_file(name = "%s_%s_plan" % (name, profile), content = json.encode(plan), tags = ["manual"])
    data = [":%s_%s_plan" % (name, profile), "//pipelines/slurm:write_plan", "//pipelines:step.sh"]
    for step in unique:
        for label in [step["binary"], step["config"]] + (["//eval:make_scenes"] if step["scenes"] else []):
            if label not in data:
                data.append(label)
    native.sh_binary(
        name = "%s_%s_slurm_plan" % (name, profile),
        srcs = ["slurm_plan.sh"],
        args = ["$(rootpath :%s_%s_plan)" % (name, profile), "$(rootpath //pipelines/slurm:write_plan)"],
        data = data,
        tags = ["manual"],
    )

def _no_profile(name, profile, target = None):
    # Runner of a profile a table has no setup for: says so instead of running another profile.
    native.sh_binary(
        name = target or "%s_%s" % (name, profile),
        srcs = ["no_profile.sh"],
        args = [name, profile],
        tags = ["manual"],
    )

def _runner_and_alias(name, profiles):
    """`<name>_<profile>` runners installing `<name>_<profile>_report`, and the `<name>` alias."""
    for profile in PROFILES:
        if profile not in profiles:
            _no_profile(name, profile)
            continue
        native.sh_binary(
            name = "%s_%s" % (name, profile),
            srcs = ["install_report.sh"],
            args = [name, profile, "$(rootpaths :%s_%s_report)" % (name, profile)],
            data = [":%s_%s_report" % (name, profile), "//pipelines/report:make_report"],
            tags = ["manual"],
        )
    native.alias(
        name = name,
        actual = select({
            ":profile_ci": ":%s_ci" % name,
            ":profile_paper": ":%s_paper" % name,
            "//conditions:default": ":%s_default" % name,
        }),
        tags = ["manual"],
    )

def _slurm_plan_alias(name, profiles):
    """`<name>_slurm_plan`: the `--config` profile's plan writer."""
    actual = {}
    for profile, condition in [("ci", ":profile_ci"), ("paper", ":profile_paper"), ("default", "//conditions:default")]:
        if profile not in profiles:
            _no_profile(name + "_slurm_plan", profile, "%s_%s_slurm_plan" % (name, profile))
        actual[condition] = ":%s_%s_slurm_plan" % (name, profile)
    native.alias(name = name + "_slurm_plan", actual = select(actual), tags = ["manual"])

def overhead_table(name, table):
    """The overhead figure: one //bench:mixing_benchmark action per profile (variants interleaved
    in rotating order, so the paired ratios see the same machine state), one report row per
    variant.

    Args:
      name: the target, e.g. "figure_overhead".
      table: {"title", "columns", "rows": [{"id", "label", "baseline"}], "notes",
        "benchmark": {profile: {"config", "queue_size", "mixings", "steps", "plain_alternations",
        "plain_steps"}}}; a row id is the benchmark's variant slug (mocov2, mochi_256_512_0,
        backbone). Then bench/side_by_side.py alternates shorter runs of ours and of the plain
        PyTorch step and adds the plain columns to each variant's result.
    """
    for profile, setup in table["benchmark"].items():
        k = setup["queue_size"]
        outs = ["%s_%s_bench/k%d_%s.json" % (name, profile, k, row["id"]) for row in table["rows"]]
        envs = ["%s_%s_bench/k%d_%s_env.txt" % (name, profile, k, row["id"]) for row in table["rows"]]
        native.genrule(
            name = "%s_%s_bench" % (name, profile),
            srcs = [setup["config"]],
            outs = outs + envs,
            tools = ["//bench:mixing_benchmark", "//bench:side_by_side.py", "//bench:plain_pytorch_step.py", "@python_env//:python"],
            cmd = ("flock %s $(execpath //bench:mixing_benchmark) --config=$(location %s) " % (LOCK, setup["config"]) +
                   "--queue_sizes=%d --mixings=%s --steps=%d --pieces=false " % (k, setup["mixings"], setup["steps"]) +
                   "--json_dir=$(RULEDIR)/%s_%s_bench > $(RULEDIR)/%s_%s_bench.log && " % (name, profile, name, profile) +
                   "flock %s python3 $(location //bench:side_by_side.py) --python=$(execpath @python_env//:python) " % LOCK +
                   "--ours_binary=$(execpath //bench:mixing_benchmark) --plain_script=$(location //bench:plain_pytorch_step.py) " +
                   "--config=$(location %s) --queue_sizes=%d --mixings=%s " % (setup["config"], k, setup["mixings"]) +
                   "--alternations=%d --steps=%d " % (setup["plain_alternations"], setup["plain_steps"]) +
                   "--merge_into=$(RULEDIR)/%s_%s_bench >> $(RULEDIR)/%s_%s_bench.log" % (name, profile, name, profile)),
            message = "Timing MoCo-v2 and MoCHi steps (%s profile)" % profile,
            tags = _gpu_tags(profile),
        )
        files = {}
        for row, out, env in zip(table["rows"], outs, envs):
            files[":" + out] = "%s|0|bench" % row["id"]
            files[":" + env] = "%s|0|env" % row["id"]
        spec = {
            "table": name,
            "title": table["title"],
            "profile": profile,
            "notes": table.get("notes", {}).get(profile, ""),
            "rows": [{
                "id": row["id"],
                "label": row["label"],
                "baseline": row.get("baseline", False),
                "config": setup["config"].replace("//configs:", "configs/"),
                "overrides": "",
                "runs": [{"seed": 0, "files": {"bench": "", "env": ""}}],
            } for row in table["rows"]],
            "columns": table["columns"],
            "published": {},
            "figures": [],
        }
        table_report(
            name = "%s_%s_report" % (name, profile),
            spec = json.encode(spec),
            files = files,
            tags = ["manual"],
        )
    _runner_and_alias(name, table["benchmark"].keys())

def _json_file_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".json")
    ctx.actions.write(out, ctx.attr.content)
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

# A JSON file with the given content (for tests over the table definitions).
json_file = rule(
    implementation = _json_file_impl,
    attrs = {"content": attr.string(mandatory = True)},
)

def pipeline_runs(tables, lincls_configs):
    """Every (profile, row, seed) run of `tables` as a list of dicts, for tests: the pretraining
    (config, override, lincls; absent for random-init rows) and each transfer the table defines
    (<kind>_config, <kind>_override)."""
    runs = []
    for table in tables:
        setups = table.get("transfers", {})
        for profile in PROFILES:
            for row in _profile_rows(table, profile):
                for seed in row.seeds:
                    run = {"name": run_name(profile, row.run_id, seed)}
                    if not row.random_init:
                        run["config"] = row.config.replace("//configs:", "configs/")
                        run["override"] = seeded_override(row.overrides, seed)
                        run["lincls"] = _lincls_config(table, lincls_configs, profile).replace("//configs:", "configs/")
                    for kind, by_profile in setups.items():
                        if profile in by_profile:
                            run[kind + "_config"] = by_profile[profile]["config"].replace("//configs:", "configs/")
                            run[kind + "_override"] = seeded_override(by_profile[profile].get("overrides", ""), seed)
                    if len(run) > 1:
                        runs.append(run)
    return runs
