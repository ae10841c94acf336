#!/usr/bin/env bash
# //eval:coco_eval prints one JSON object with the twelve COCO numbers (results.proto's
# CocoMetrics), merges all categories under --class_agnostic, and on bad input prints the error
# (naming the file) and exits 1.
set -uo pipefail
bin="$1"
golden=tests/eval/testdata/eval_golden
fail() { echo "FAIL: $*"; exit 1; }

out=$("$bin" --gt="$golden/f1_boxes_ties_gt.json" --dt="$golden/f1_boxes_ties_dt.json" \
  --iou_type=bbox) || fail "exit code $? on a valid fixture"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "expected one line, got: $out"
keys=$(printf '%s' "$out" | grep -o '"[a-z0-9_]*":' | tr -d '"\n')
want="ap:ap50:ap75:ap_small:ap_medium:ap_large:ar1:ar10:ar100:ar_small:ar_medium:ar_large:"
[ "$keys" = "$want" ] || fail "keys: $keys"
printf '%s' "$out" | grep -q '"ap":0.65316831683168' || fail "ap: $out"
printf '%s' "$out" | grep -q '"ap_large":-1' || fail "ap_large should be -1: $out"

# All categories merged: pycocotools 2.0.11 with params.useCats = 0 gives AP 0.451155...,
# AR100 0.775.
out=$("$bin" --gt="$golden/f1_boxes_ties_gt.json" --dt="$golden/f1_boxes_ties_dt.json" \
  --class_agnostic) || fail "exit code $? with --class_agnostic"
printf '%s' "$out" | grep -q '"ap":0.45115511551155' || fail "class-agnostic ap: $out"
printf '%s' "$out" | grep -q '"ar100":0.775' || fail "class-agnostic ar100: $out"

err=$("$bin" --gt="$golden/f1_boxes_ties_gt.json" --dt=/nonexistent/dt.json 2>&1 >/dev/null)
rc=$?
[ "$rc" -eq 1 ] || fail "missing results file: exit code $rc"
printf '%s' "$err" | grep -q "/nonexistent/dt.json" || fail "error does not name the file: $err"

bad="$TEST_TMPDIR/bad.json"
printf '[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}, {"image_id": 77,' >"$bad"
err=$("$bin" --gt="$golden/f1_boxes_ties_gt.json" --dt="$bad" 2>&1 >/dev/null)
rc=$?
[ "$rc" -eq 1 ] || fail "malformed results: exit code $rc"
printf '%s' "$err" | grep -q "malformed JSON" || fail "no malformed-JSON message: $err"

printf '[{"image_id": 77, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}]' >"$bad"
err=$("$bin" --gt="$golden/f1_boxes_ties_gt.json" --dt="$bad" 2>&1 >/dev/null)
[ $? -eq 1 ] || fail "unknown image id: wrong exit code"
printf '%s' "$err" | grep -q "image_id 77" || fail "unknown image id not named: $err"

"$bin" --gt="$golden/f1_boxes_ties_gt.json" --dt="$golden/f1_boxes_ties_dt.json" \
  --iou_type=keypoints >/dev/null 2>&1
[ $? -eq 1 ] || fail "--iou_type=keypoints should exit 1"
"$bin" >/dev/null 2>&1
[ $? -eq 1 ] || fail "no flags should exit 1"
echo ok
