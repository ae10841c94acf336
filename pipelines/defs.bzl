"""Turns the table definitions of tables.bzl into Bazel actions.

Bazel is the workflow engine: one action per pretraining run and seed, one per evaluation, one
per report. The action cache makes reruns incremental, and a run two tables share (the MoCo-v2
baseline) is one target, so it is computed once. Every profile gets its own targets
(`<table>_default`, `<table>_ci`, `<table>_paper`); `<table>` picks one from the `--config` profile.

Training actions take a machine-wide lock (flock) so Bazel never runs two of them at once: two
2-thread LibTorch jobs on 2 cores run 3-4x slower than one after the other. They keep their run
directory in /tmp/mochi-pipeline-scratch/<action hash>, so an interrupted action resumes (the
binaries' --resume) when Bazel runs it again, and copy the files out when done.
"""

SCRATCH = "/tmp/mochi-pipeline-scratch"
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

def _scratch_dir(key_files):
    # The run's identity: the binary, the config file and the command line (overrides, seed).
    return "%s/$$(cat %s | sha1sum | cut -c1-16)" % (SCRATCH, " ".join(key_files))

def _gpu_tags(profile):
    # Paper-profile actions need the GPUs and the ImageNet tree: no sandbox.
    return ["manual", "no-sandbox"] if profile == "paper" else ["manual"]

def pretrain_run(name, config, overrides, seed, profile):
    """One pretraining (//tools:pretrain) as an action; outputs <name>/{checkpoint.pt,...}."""
    override = seeded_override(overrides, seed)
    native.genrule(
        name = name,
        srcs = [config],
        outs = [name + "/" + f for f in _run_files(profile)],
        tools = ["//tools:pretrain"],
        # The code version comes in as an input: Bazel's volatile workspace status
        # (tools/workspace_status.sh), which a new commit alone does not re-run the action for.
        stamp = 1,
        cmd = " && ".join([
            "export MOCHI_GIT_REVISION=\"$$(sed -n 's/^GIT_REVISION //p' bazel-out/volatile-status.txt)\"",
            # The run tag (--define=mochi_run_tag, "main" by default) is part of the run's identity:
            # another tag trains afresh, in another scratch directory (the pipeline fault test).
            "echo %s $(mochi_run_tag) > $(RULEDIR)/%s.key" % (_shell_quote(override), name),
            "scratch=%s" % _scratch_dir([
                "$(execpath //tools:pretrain)",
                "$(location %s)" % config,
                "$(RULEDIR)/%s.key" % name,
            ]),
            "mkdir -p $$scratch",
            "resume=$$([ -f $$scratch/checkpoint.pt ] && echo --resume || true)",
            "flock %s $(execpath //tools:pretrain) --config=$(location %s) --override=%s " % (
                LOCK,
                config,
                _shell_quote(override),
            ) + "--output_dir=$$scratch $$resume",
            "cp " + " ".join(["$$scratch/" + f for f in _run_files(profile)]) + " $(RULEDIR)/" + name,
            "rm -rf $$scratch",
        ]),
        message = "Pretraining %s (seed %d, profile %s)" % (config, seed, profile),
        tags = _gpu_tags(profile),
    )

def linear_eval(name, run, config, profile):
    """Linear classification (//eval:linear) of the backbone of pretraining target `run`."""
    native.genrule(
        name = name,
        srcs = [config, run + "/checkpoint.pt", run + "/config.pbtxt"],
        outs = [name + ".json"],
        tools = ["//eval:linear"],
        cmd = ("flock %s $(execpath //eval:linear) --config=$(location %s) " % (LOCK, config) +
               "--checkpoint=$$(dirname $(location %s/checkpoint.pt)) --features=checkpoint " % run +
               "--output=$@"),
        message = "Linear evaluation of %s" % run,
        tags = _gpu_tags(profile),
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

def transfer_eval(name, kind, run, config, overrides, scenes, profile):
    """A detection transfer (TRANSFERS[kind]) of the backbone of pretraining target `run`.

    Args:
      name: the target; its output is <name>.json, the transfer's metrics.json.
      kind: a TRANSFERS key.
      run: a pretraining target, or None for a randomly initialised backbone.
      config: the DetectionConfig / SegmentationConfig file.
      overrides: text proto merged over it (the seed is part of it).
      scenes: //eval:make_scenes flags for the dataset it trains and scores on, generated inside
        the action (deterministic, seconds); empty: the config's own dataset paths.
      profile: the profile (paper actions run unsandboxed).
    """
    transfer = TRANSFERS[kind]
    tools = [transfer.binary] + (["//eval:make_scenes"] if scenes else [])
    srcs = [config]
    init = "--random_init"
    if run:
        srcs += [run + "/checkpoint.pt", run + "/config.pbtxt"]
        init = "--checkpoint=$$(dirname $(location %s/checkpoint.pt))" % run
    steps = [
        "echo %s $(mochi_run_tag) > $(RULEDIR)/%s.key" % (_shell_quote(overrides + " " + init + " " + scenes), name),
        "scratch=%s" % _scratch_dir(["$(execpath %s)" % transfer.binary, "$(location %s)" % config, "$(RULEDIR)/%s.key" % name]),
        # An interrupted transfer continues from its last checkpoint (checkpoint_every_iters).
        "mkdir -p $$scratch",
        "resume=$$([ -f $$scratch/out/checkpoint.pt ] && echo --resume || true)",
    ]
    root = ""
    if scenes:
        # Generated once (deterministic); a half-written set is regenerated.
        steps.append("([ -d $$scratch/scenes ] || (rm -rf $$scratch/scenes.partial && flock %s $(execpath //eval:make_scenes) --output_dir=$$scratch/scenes.partial %s > $$scratch/scenes.log && mv $$scratch/scenes.partial $$scratch/scenes))" % (LOCK, scenes))
        root = "%s=$$scratch/scenes/%s " % (transfer.root_flag, transfer.root_dir)
    steps += [
        "flock %s $(execpath %s) --config=$(location %s) --override=%s %s %s--output_dir=$$scratch/out $$resume" % (
            LOCK,
            transfer.binary,
            config,
            _shell_quote(overrides),
            init,
            root,
        ),
        "cp $$scratch/out/metrics.json $@",
        "rm -rf $$scratch",
    ]
    native.genrule(
        name = name,
        srcs = srcs,
        outs = [name + ".json"],
        tools = tools,
        cmd = " && ".join(steps),
        message = "%s transfer of %s" % (transfer.what, run or "a random init"),
        tags = _gpu_tags(profile),
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
        for row in rows:
            runs = []
            for seed in row.seeds:
                run = run_name(profile, row.run_id, seed)
                kinds = {}
                if not row.random_init:
                    if not native.existing_rule(run):  # shared with another table
                        pretrain_run(run, row.config, row.overrides, seed, profile)
                    kinds = {"metrics": ":%s/metrics.jsonl" % run, "env": ":%s/env.txt" % run}
                    if profile != "paper":
                        for kind, file in RUN_RESULTS.items():
                            kinds[kind] = ":%s/%s" % (run, file)
                for kind in transfers:
                    setup = table["transfers"][kind][profile]
                    transfer = "%s__%s" % (run, kind)
                    if not native.existing_rule(transfer):
                        transfer_eval(
                            transfer,
                            kind,
                            None if row.random_init else run,
                            setup["config"],
                            seeded_override(setup.get("overrides", ""), seed),
                            setup.get("scenes", ""),
                            profile,
                        )
                    kinds[kind] = ":%s.json" % transfer
                if wants_linear and not row.random_init:
                    lin = run + "__lincls"
                    if not native.existing_rule(lin):
                        linear_eval(lin, run, _lincls_config(table, lincls_configs, profile), profile)
                    kinds["lincls"] = ":%s.json" % lin
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
    if "default" not in reported:
        # The default profile is what a fresh machine regenerates: every table must have it.
        fail("%s has no default-profile report (rows, columns or figures missing?)" % name)
    _runner_and_alias(name, reported)

def _no_profile(name, profile):
    # Runner of a profile a table has no setup for: says so instead of running another profile.
    native.sh_binary(
        name = "%s_%s" % (name, profile),
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
