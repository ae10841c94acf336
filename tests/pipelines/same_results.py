"""Checks that a build's ci Table 1 results equal saved ones exactly (tests/pipelines/*_test.sh).

  python3 tests/pipelines/same_results.py REFERENCE_DIR bazel-bin/pipelines

REFERENCE_DIR is what tests/pipelines/save_reference.sh saved: <run>__lincls.json,
<run>.knn.json and table1.csv. Every result field (top-1, top-5, per-class top-1, the linear
probe's loss curve, kNN top-1 and the raw-pixel kNN) and the report's CSV must be equal.
"""
import glob
import json
import os
import sys

KEYS = ["top1", "top5", "per_class_top1", "final_train_loss", "epoch_loss", "raw_pixels_top1"]


def main(reference, live_dir):
    compared = 0
    for ref in sorted(glob.glob(os.path.join(reference, "*.json"))):
        name = os.path.basename(ref)
        if name.endswith(".knn.json"):
            live = os.path.join(live_dir, name[: -len(".knn.json")], "knn.json")
        else:
            live = os.path.join(live_dir, name)
        a, b = json.load(open(ref)), json.load(open(live))
        for key in KEYS:
            if key in a:
                compared += 1
                if a[key] != b.get(key):
                    print(f"{name}: {key}: {b.get(key)} now, {a[key]} in the reference")
                    return 1
    csv = os.path.join(live_dir, "table1_ci_report", "table1.csv")
    if open(os.path.join(reference, "table1.csv")).read() != open(csv).read():
        print(f"{csv} differs from the reference's")
        return 1
    print(f"{compared} result fields and table1.csv equal to the reference")
    return 0 if compared >= 8 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
