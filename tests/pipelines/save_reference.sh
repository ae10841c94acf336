#!/usr/bin/env bash
# Copies the local build's ci Table 1 results (bazel-bin, after `bazel build --config=ci
# //pipelines:table1_ci_report`) into DIR, for tests that compare another way of running the
# same table with them after Bazel's outputs have been overwritten (tests/pipelines/slurm_test.sh).
#   bash tests/pipelines/save_reference.sh DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
out="$1"
mkdir -p "$out"
cp bazel-bin/pipelines/table1_ci_report/table1.csv "$out/"
for f in bazel-bin/pipelines/ci__*__lincls.json; do cp "$f" "$out/"; done
for f in bazel-bin/pipelines/ci__*/knn.json; do
  cp "$f" "$out/$(basename "$(dirname "$f")").knn.json"
done
chmod -R u+w "$out"
