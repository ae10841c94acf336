#!/usr/bin/env bash
# //eval:voc_eval prints one JSON object (results.proto's VocMetrics: ap, ap50, ap75 in percent,
# per-class AP50), and on bad input prints the error (naming the file) and exits 1.
set -uo pipefail
bin="$1"
root=tests/eval/testdata/eval_golden/voc_f1_boxes_ties
fail() { echo "FAIL: $*"; exit 1; }

out=$("$bin" --voc_root="$root" --metric=voc07_11pt) || fail "exit code $? on a valid fixture"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "expected one line, got: $out"
printf '%s' "$out" | grep -q '^{"metric":"voc07_11pt","ap":60.18181818' || fail "ap: $out"
printf '%s' "$out" |
  grep -q '"per_class":\[{"name":"c1","ap50":60.0[0-9]*},{"name":"c2","ap50":100.0[0-9]*}\]' ||
  fail "per-class AP50: $out"

out=$("$bin" --voc_root="$root" --results="$root/results" --split=test --classes=c2,c1 \
  --metric=area --score_order=stable) || fail "exit code $? with explicit flags"
printf '%s' "$out" | grep -q '"per_class":\[{"name":"c2","ap50":100},{"name":"c1","ap50":60}\]' ||
  fail "class order: $out"

err=$("$bin" --voc_root="$root" --classes=c1,c9 2>&1 >/dev/null)
rc=$?
[ "$rc" -eq 1 ] || fail "missing results file: exit code $rc"
printf '%s' "$err" | grep -q "c9.txt" || fail "error does not name the file: $err"

err=$("$bin" --voc_root=/nonexistent/VOC2007 2>&1 >/dev/null)
[ $? -eq 1 ] || fail "missing root: wrong exit code"
printf '%s' "$err" | grep -q "/nonexistent/VOC2007/ImageSets/Main/test.txt" ||
  fail "missing image set not named: $err"

"$bin" --voc_root="$root" --metric=voc12 >/dev/null 2>&1
[ $? -eq 1 ] || fail "--metric=voc12 should exit 1"
"$bin" >/dev/null 2>&1
[ $? -eq 1 ] || fail "no flags should exit 1"
echo ok
