#!/usr/bin/env bash
# pipelines/step.sh, the one runner of pipeline steps for Bazel actions and SLURM jobs: the run
# directory is a function of the identity only, an interrupted run resumes, a finished run never
# runs again, read mode never runs, scratch mode cleans up, only rank 0 marks DONE.
set -uo pipefail
step="$TEST_SRCDIR/mochi/pipelines/step.sh"
work="$TEST_TMPDIR/step"
rm -rf "$work"; mkdir -p "$work"
failures=0
check() {  # check DESCRIPTION COMMAND...
  if "${@:2}"; then echo "ok: $1"; else echo "FAIL: $1"; failures=$((failures + 1)); fi
}
# A fake binary: records each call (with its arguments) and writes out.txt, or fails on demand.
cat >"$work/binary" <<'BIN'
#!/usr/bin/env bash
echo "$*" >>"$(dirname "$0")/calls"
dir="" ; for a in "$@"; do case "$a" in --out=*) dir="${a#--out=}" ;; esac; done
mkdir -p "$dir"; echo "state" >"$dir/state.txt"
[ -z "${FAIL:-}" ] || exit 3
echo "result $*" >"$dir/out.txt"
BIN
chmod +x "$work/binary"
echo "config" >"$work/config"
calls() { [ -f "$work/calls" ] && wc -l <"$work/calls" || echo 0; }
run() {  # run MODE EXTRA_FLAGS...: the step with key "k", tag "t"
  local mode="$1"; shift
  bash "$step" --store="$work/store" --mode="$mode" --key="k seed 0" --tag=t \
    --hash="$work/binary" --hash="$work/config" --resume_if=state.txt "$@" \
    -- "$work/binary" --config=x --out=@DIR@ @RESUME@
}
dir=$(bash "$step" --print_dir --store="$work/store" --key="k seed 0" --tag=t \
  --hash="$work/binary" --hash="$work/config")
other_key=$(bash "$step" --print_dir --store="$work/store" --key="k seed 1" --tag=t \
  --hash="$work/binary" --hash="$work/config")
other_tag=$(bash "$step" --print_dir --store="$work/store" --key="k seed 0" --tag=u \
  --hash="$work/binary" --hash="$work/config")
check "the directory depends on the key and the tag" \
  test "$dir" != "$other_key" -a "$dir" != "$other_tag" -a "$(dirname "$dir")" = "$work/store"

# Interrupted (the binary fails after writing its state): no DONE; the rerun resumes.
FAIL=1 run keep >/dev/null 2>&1
check "a failed run is not DONE" test ! -e "$dir/DONE" -a -f "$dir/state.txt"
check "the first call has no --resume" test "$(sed -n 1p "$work/calls")" = "--config=x --out=$dir"
run keep --copy="out.txt:$work/copied.txt" >/dev/null
check "the rerun resumes" test "$(sed -n 2p "$work/calls")" = "--config=x --out=$dir --resume"
check "a finished run is DONE and copied" test -f "$dir/DONE" -a -f "$work/copied.txt"

# Finished: never run again, in any mode; copied out again.
rm -f "$work/copied.txt"
run keep --copy="out.txt:$work/copied.txt" >/dev/null
run read --copy="out.txt:$work/copied.txt" >/dev/null
check "a DONE run is not run again" test "$(calls)" -eq 2 -a -f "$work/copied.txt"

# read mode never runs a binary.
if bash "$step" --store="$work/store" --mode=read --key=new --tag=t --hash="$work/binary" \
    -- "$work/binary" --out=@DIR@ 2>"$work/read.err"; then
  check "read mode fails on a missing run" false
else
  check "read mode fails on a missing run, saying why" grep -q "never trains" "$work/read.err"
fi
check "read mode ran nothing" test "$(calls)" -eq 2

# scratch mode removes the directory once copied.
bash "$step" --store="$work/store" --mode=scratch --key=scratch --tag=t --hash="$work/binary" \
  --copy="out.txt:$work/scratch.txt" -- "$work/binary" --out=@DIR@ >/dev/null
check "scratch mode copies and removes" test -f "$work/scratch.txt" -a "$(ls "$work/store" | wc -l)" -eq 1

# Rank 1 of a multi-process job neither marks DONE nor copies.
SLURM_PROCID=1 bash "$step" --store="$work/store" --mode=keep --key=ranks --tag=t \
  --hash="$work/binary" --copy="out.txt:$work/rank1.txt" -- "$work/binary" --out=@DIR@ >/dev/null
ranks_dir=$(bash "$step" --print_dir --store="$work/store" --key=ranks --tag=t --hash="$work/binary")
check "rank 1 does not mark DONE or copy" test ! -e "$ranks_dir/DONE" -a ! -e "$work/rank1.txt"

# Two builds running the same step at once (keep mode, one lock): it runs once, both get it.
cat >"$work/slow" <<'BIN'
#!/usr/bin/env bash
echo run >>"$(dirname "$0")/slow_calls"; sleep 1; echo done >"${1#--out=}/out.txt"
BIN
chmod +x "$work/slow"
for i in 1 2; do
  bash "$step" --store="$work/store" --mode=keep --lock="$work/lock" --key=concurrent --tag=t \
    --hash="$work/slow" --copy="out.txt:$work/concurrent$i.txt" -- "$work/slow" --out=@DIR@ \
    >/dev/null &
done
wait
check "a step two builds start at once runs once" \
  test "$(wc -l <"$work/slow_calls")" -eq 1 -a -f "$work/concurrent1.txt" -a -f "$work/concurrent2.txt"

# A missing identity file is an error, not a silently different directory.
if bash "$step" --print_dir --store="$work/store" --key=k --tag=t --hash="$work/missing" 2>/dev/null; then
  check "a missing --hash file fails" false
else
  check "a missing --hash file fails" true
fi

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
