#!/usr/bin/env bash
# Fault injection on a running pipeline (run by .ci/run; it drives Bazel, so it cannot be a
# `bazel test`): `bazel build --config=ci //pipelines:table1_ci_report` under a fresh run tag,
# its pretraining killed with kill -9 once the first epoch's checkpoint is in place, restarted,
# its linear evaluation killed with kill -9, restarted. It must complete, resume the pretraining
# from that checkpoint (so at most the interrupted epoch is lost), and give the same numbers as
# the uninterrupted build under the default tag, to the last digit.
#   bash tests/pipelines/pipeline_fault_test.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d /tmp/mochi-fault-test.XXXXXX)
tag="fault$(date +%s)"
fail() { echo "FAIL: $*"; tail -n 30 "$work"/build*.log 2>/dev/null; exit 1; }
build() {  # build LOG [extra flags]: the ci report of Table 1 in the background; pid in $build_pid
  local log="$1"; shift
  bazel build --config=ci "$@" //pipelines:table1_ci_report >"$log" 2>&1 &
  build_pid=$!
}
# The pid of a running process whose argv[0] ends with $1 (the binary itself, not its flock).
binary_pid() { pgrep -f "^[^ ]*$1 " | head -n 1; }
wait_for() {  # wait_for SECONDS COMMAND...: polls every 0.5 s until COMMAND succeeds
  local limit=$(( $1 * 2 )); shift
  for _ in $(seq "$limit"); do "$@" >/dev/null && return 0; sleep 0.5; done
  return 1
}

# 1. The uninterrupted results (usually cached: .ci/run built them just before).
bazel build --config=ci //pipelines:table1_ci_report >"$work/build0.log" 2>&1 || fail "uninterrupted build"
bash tests/pipelines/save_reference.sh "$work/reference"

# 2. kill -9 a pretraining in its second epoch.
build "$work/build1.log" --define=mochi_run_tag="$tag"
first_epoch_done() {
  local pid; pid=$(binary_pid tools/pretrain) || return 1
  [ -n "$pid" ] || return 1
  scratch=$(tr '\0' '\n' </proc/"$pid"/cmdline | sed -n 's/^--output_dir=//p')
  [ -f "$scratch/checkpoint.pt" ] && [ "$(wc -l <"$scratch/metrics.jsonl" 2>/dev/null)" -ge 1 ]
}
wait_for 900 first_epoch_done || fail "no pretraining finished its first epoch"
pid=$(binary_pid tools/pretrain)
epochs_done=$(wc -l <"$scratch/metrics.jsonl")
kill -9 "$pid"
wait "$build_pid" && fail "the build succeeded although its pretraining was killed"
echo "killed pretraining $pid after $epochs_done epoch(s) ($scratch)"
[ -f "$scratch/checkpoint.pt" ] || fail "the killed run's checkpoint is gone"
[ ! -e "$scratch/checkpoint.pt.tmp" ] || echo "(a partial checkpoint.pt.tmp was left; it is never read)"

# 3. Restart; kill -9 the linear evaluation.
build "$work/build2.log" --define=mochi_run_tag="$tag"
wait_for 1800 binary_pid eval/linear || fail "no linear evaluation started"
kill -9 "$(binary_pid eval/linear)"
wait "$build_pid" && fail "the build succeeded although its linear evaluation was killed"
echo "killed a linear evaluation"
grep -q "Resuming $scratch/checkpoint.pt at epoch $epochs_done, step 0" "$work/build2.log" ||
  fail "the pretraining did not resume from its epoch-$epochs_done checkpoint"

# 4. Restart; it completes.
bazel build --config=ci --define=mochi_run_tag="$tag" //pipelines:table1_ci_report \
  >"$work/build3.log" 2>&1 || fail "the build did not complete after the faults"

# 5. The same numbers as the uninterrupted build.
python3 tests/pipelines/same_results.py "$work/reference" bazel-bin/pipelines ||
  fail "results differ from the uninterrupted build"
rm -rf "$work"
echo "ok: killed -9 in a pretraining (after $epochs_done epoch(s); resumed there) and in a linear evaluation; completed with the uninterrupted numbers"
