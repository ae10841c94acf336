#!/usr/bin/env bash
# The ci Table 1 through its SLURM plan on a real one-node SLURM (Debian's slurm-wlm, started and
# stopped here; run by .ci/run, needs root). It drives Bazel and SLURM, so it is not a bazel test.
#   1. bazel run --config=ci //pipelines:table1_slurm_plan writes the plan under a fresh run tag.
#   2. submit.sh queues it; the first pretraining is requeued with `scontrol requeue` once its
#      epoch-1 checkpoint is in place: SLURM's SIGTERM makes it checkpoint where it is, and the
#      requeued job must resume from that checkpoint.
#   3. The report job builds the table from the run store (--mode=read: it cannot train), and
#      the report and every result field equal the local build's
#      (`bazel build --config=ci //pipelines:table1_ci_report`) to the last digit.
#   4. A finished step submitted again trains nothing.
# The local results: $MOCHI_REFERENCE_RESULTS (a directory .ci/run fills from that build) or
# that build run here.
#   bash tests/pipelines/slurm_test.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/pipelines/local_slurm.sh
source tests/pipelines/local_slurm.sh
work=$(mktemp -d /tmp/mochi-slurm-test.XXXXXX)
tag="slurm$(date +%s)"
trap 'local_slurm_stop "$work/slurm"; pkill -9 -f "$work/"' EXIT
fail() {
  echo "FAIL: $*"
  for log in "$work"/plan/logs/*.log; do [ -f "$log" ] && { echo "== $log"; tail -n 15 "$log"; }; done
  exit 1
}
wait_for() {  # wait_for SECONDS COMMAND...: polls every second until COMMAND succeeds
  local limit=$1; shift
  for _ in $(seq "$limit"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  return 1
}

# 0. The local results.
reference="${MOCHI_REFERENCE_RESULTS:-}"
if [ -z "$reference" ]; then
  reference="$work/reference"
  bazel build --config=ci //pipelines:table1_ci_report >"$work/build0.log" 2>&1 ||
    fail "the local build"
  bash tests/pipelines/save_reference.sh "$reference"
fi
[ -f "$reference/table1.csv" ] || fail "no local results in $reference"

# 1. The plan.
bazel run --config=ci //pipelines:table1_slurm_plan -- --out="$work/plan" \
  --store="$work/store" --tag="$tag" >"$work/plan.log" 2>&1 || { cat "$work/plan.log"; fail "writing the plan"; }
grep -q "^5 jobs: 4 steps and the report" "$work/plan/plan.md" || fail "plan.md: $(cat "$work/plan/plan.md")"

# 2. Submit; requeue the first pretraining after its first epoch.
local_slurm_start "$work/slurm" || fail "the local SLURM did not start"
bash "$work/plan/submit.sh" >"$work/submit.log" || fail "submit.sh: $(cat "$work/submit.log")"
job_of() { awk -v n="$1" '$1 == n {print $2}' "$work/plan/jobs.tsv"; }
state_of() { squeue -h -j "$1" -o %T 2>/dev/null; }
pretrain_job=$(job_of ci__mocov2__s0)
pretrain_dir=$(grep -o "input_dir=.*)" "$work/plan/jobs/ci__mocov2__s0__lincls.sbatch" |
  sed 's/^input_dir=\$(\(.*\))$/\1/' | bash)
first_epoch_done() {
  [ "$(state_of "$pretrain_job")" = RUNNING ] && [ -f "$pretrain_dir/checkpoint.pt" ] &&
    [ "$(wc -l <"$pretrain_dir/metrics.jsonl" 2>/dev/null)" -ge 1 ]
}
wait_for 900 first_epoch_done || fail "ci__mocov2__s0 did not finish its first epoch"
epochs_done=$(wc -l <"$pretrain_dir/metrics.jsonl")
scontrol requeue "$pretrain_job" || fail "scontrol requeue $pretrain_job"
echo "requeued job $pretrain_job (ci__mocov2__s0) after $epochs_done epoch(s)"
# SLURM makes a requeued job eligible again after about 2 minutes; the other pretraining runs
# meanwhile.

all_done() { [ -z "$(squeue -h 2>/dev/null)" ]; }
wait_for 1800 all_done || fail "the jobs did not finish in 30 minutes: $(squeue)"
[ -f "$work/plan/report/table1.csv" ] || fail "the report job wrote no report"
log="$work/plan/logs/ci__mocov2__s0.log"
grep -q "restart 1" "$log" || fail "ci__mocov2__s0 did not restart"
# SIGTERM writes a checkpoint where the step is (so a step or more into the next epoch).
grep -qE "Resuming $pretrain_dir/checkpoint.pt at epoch $epochs_done, step [0-9]+$" "$log" ||
  fail "ci__mocov2__s0 did not resume from the checkpoint its SIGTERM wrote in epoch $((epochs_done + 1))"
! grep -q "step.sh: .* is not complete" "$work/plan/logs/report.log" ||
  fail "the report job did not find every run in the store"

# 3. The same report and results as the local build.
# The report job's build copied the store's results into bazel-bin (and nothing else).
cmp "$reference/table1.csv" "$work/plan/report/table1.csv" || fail "the report's table1.csv differs"
python3 tests/pipelines/same_results.py "$reference" bazel-bin/pipelines ||
  fail "results differ from the local build"

# 4. A finished step submitted again trains nothing (step.sh finds its DONE).
log="$work/plan/logs/ci__mochi_256_512_0__s0.log"
sbatch --parsable "$work/plan/jobs/ci__mochi_256_512_0__s0.sbatch" >/dev/null || fail "resubmission"
wait_for 300 all_done || fail "the resubmitted job did not finish"
[ "$(grep -c "not running it again" "$log")" -eq 1 ] || fail "the resubmitted pretraining ran again"
[ "$(grep -c "^Run directory:" "$log")" -eq 1 ] || fail "the resubmitted pretraining started a run"
echo "ok: table1 (ci) through SLURM: requeued after $epochs_done epoch(s) and resumed there;" \
  "report and results equal to the local build's; a resubmitted finished step trained nothing"
rm -rf "$work"
