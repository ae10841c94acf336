#!/usr/bin/env python3
"""The project's training step against the same step in plain PyTorch, side by side.

For each queue size K, alternates whole runs of //bench:mixing_benchmark (the trainer's own
MoCo-v2 and MoCHi step) and bench/plain_pytorch_step.py (the step as public re-implementations
write it, with the same LibTorch version's Python torch), on the default profile's model and batch
(configs/pretrain/mocov2_fmnist.pbtxt: width-16 ResNet-18, stride-2 3x3 stem, 1x28x28, batch 128,
4 BN groups, tau 0.1) and the same threads. Prints per-variant step medians and the per-alternation
ratios plain / ours, and ours / backbone alone.

  bazel run //bench:side_by_side -- [--queue_sizes=4096,65536] [--alternations=3] [--steps=10]

With --merge_into=DIR (the overhead figure's action) it adds the plain PyTorch step and the ratio
plain / ours to the per-variant results DIR/k<K>_<variant>.json that a longer mixing_benchmark run
wrote there (plain PyTorch always materialises the logits, so the materialised-head row is
compared with plain MoCo-v2).

The plain step runs in the project's Python environment (.deps/python, installed by
`bash tools/setup.sh`), or in $MOCHI_PYTHON.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

# The default profile's model, as the plain step's flags.
PLAIN_MODEL = ["--depth", "18", "--width", "16", "--channels", "1", "--image_size", "28",
               "--small_stem", "--batch", "128", "--bn_groups", "4", "--tau", "0.1"]


def torch_python():
    explicit = os.environ.get("MOCHI_PYTHON")
    if explicit:
        return explicit
    workspace = os.environ.get("BUILD_WORKSPACE_DIRECTORY", os.getcwd())
    venv = os.path.join(workspace, ".deps", "python", "bin", "python")
    return venv if os.path.exists(venv) else None


def slug(plain_name):
    """The plain step's variant name as mixing_benchmark's file slug: "MoCHi(256,512,0)" ->
    "mochi_256_512_0", "MoCo-v2" -> "mocov2"."""
    if plain_name == "MoCo-v2":
        return "mocov2"
    if plain_name == "backbone":
        return "backbone"
    return "mochi_" + plain_name[len("MoCHi("):-1].replace(",", "_")


def run_ours(args, k, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    subprocess.run([args.ours_binary, f"--config={args.config}", f"--queue_sizes={k}",
                    f"--steps={args.steps}", f"--mixings={args.mixings}",
                    f"--threads={args.threads}", "--pieces=false", "--count_memory=false",
                    f"--materialised_head={'true' if args.merge_into else 'false'}",
                    f"--json_dir={out_dir}"], check=True, stdout=subprocess.DEVNULL)
    result = {}
    for name in os.listdir(out_dir):
        prefix = f"k{k}_"
        if name.startswith(prefix) and name.endswith(".json"):
            with open(os.path.join(out_dir, name)) as f:
                result[name[len(prefix):-len(".json")]] = json.load(f)["step_ms_median"]
    return result


def run_plain(args, python, k, out_json):
    subprocess.run([python, args.plain_script, *PLAIN_MODEL, f"--queue_size={k}",
                    f"--steps={args.steps}", "--warmup=2", f"--threads={args.threads}",
                    f"--mixings={args.mixings}", "--backbone", f"--json={out_json}"],
                   check=True, stdout=subprocess.DEVNULL)
    with open(out_json) as f:
        return {slug(r["variant"]): r["step_ms_median"] for r in json.load(f)}


def merge(directory, k, ours, plain):
    """Adds plain_pytorch_step_ms_median and plain_pytorch_over_ours to each variant's result."""
    for name in sorted(os.listdir(directory)):
        prefix = f"k{k}_"
        if not (name.startswith(prefix) and name.endswith(".json")):
            continue
        variant = name[len(prefix):-len(".json")]
        counterpart = "mocov2" if variant == "mocov2_materialised_head" else variant
        if counterpart not in plain[0]:
            continue
        path = os.path.join(directory, name)
        with open(path) as f:
            result = json.load(f)
        result["plain_pytorch_step_ms_median"] = statistics.median(p[counterpart] for p in plain)
        result["plain_pytorch_over_ours"] = statistics.median(
            p[counterpart] / o[variant] for o, p in zip(ours, plain))
        with open(path + ".partial", "w") as f:
            json.dump(result, f, indent=1)
        os.replace(path + ".partial", path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queue_sizes", default="4096,65536")
    parser.add_argument("--alternations", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--mixings", default="1024:512:256")
    parser.add_argument("--config", default="configs/pretrain/mocov2_fmnist.pbtxt")
    parser.add_argument("--ours_binary", default="bench/mixing_benchmark")
    parser.add_argument("--plain_script", default="bench/plain_pytorch_step.py")
    parser.add_argument("--python", default="", help="Python with torch (default: see above)")
    parser.add_argument("--merge_into", default="")
    parser.add_argument("--json_out", default="")
    args = parser.parse_args()
    python = args.python or torch_python()
    if python is None:
        sys.exit("side_by_side: no Python with torch: run `bash tools/setup.sh` or set MOCHI_PYTHON")
    version = subprocess.run([python, "-c", "import torch; print(torch.__version__)"],
                             check=True, capture_output=True, text=True).stdout.strip()
    print(f"plain PyTorch: {python} (torch {version}); ours: {args.ours_binary}; "
          f"{args.threads} threads, {args.steps} rounds per run, {args.alternations} alternations")
    summary = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in [int(x) for x in args.queue_sizes.split(",")]:
            ours, plain = [], []
            for a in range(args.alternations):
                order = [0, 1] if a % 2 == 0 else [1, 0]
                for which in order:
                    if which == 0:
                        ours.append(run_ours(args, k, f"{tmp}/ours_{k}_{a}"))
                    else:
                        plain.append(run_plain(args, python, k, f"{tmp}/plain_{k}_{a}.json"))
            print(f"\nK = {k}")
            print(f"  {'variant':22s} {'ours ms':>9s} {'plain ms':>9s} {'plain / ours':>14s} "
                  f"{'ours / backbone':>16s}")
            for v in [v for v in plain[0] if v != "backbone"]:
                ratios = [p[v] / o[v] for o, p in zip(ours, plain)]
                backbone = [o[v] / o["backbone"] for o in ours]
                row = {"queue_size": k, "variant": v,
                       "ours_ms_median": statistics.median(o[v] for o in ours),
                       "plain_ms_median": statistics.median(p[v] for p in plain),
                       "plain_over_ours_per_alternation": ratios,
                       "ours_over_backbone_per_alternation": backbone}
                summary.append(row)
                print(f"  {v:22s} {row['ours_ms_median']:9.1f} {row['plain_ms_median']:9.1f} "
                      f"{statistics.median(ratios):14.2f} {statistics.median(backbone):16.2f}"
                      f"   (per alternation: {', '.join(f'{r:.2f}' for r in ratios)})")
            mochi = [v for v in plain[0] if v.startswith("mochi_")]
            for v in mochi:
                over = [o[v] / o["mocov2"] for o in ours]
                print(f"  ours {v} / MoCo-v2: {statistics.median(over):.3f}")
            if args.merge_into:
                merge(args.merge_into, k, ours, plain)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()
