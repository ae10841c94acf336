#!/usr/bin/env bash
# //eval:detect and //eval:segment honour --max_iters and --resume (the pipeline's transfer steps
# resume with them): a run stopped after 2 of 4 iterations leaves a checkpoint and no final model,
# a rerun without --resume refuses the directory, and --resume finishes it from iteration 2.
set -uo pipefail
make_scenes="$1"
detect="$2"
segment="$3"
fail() {
  echo "FAIL: $*"
  exit 1
}
tmp="${TEST_TMPDIR:-$(mktemp -d)}"

"$make_scenes" --task=both --num_train=8 --num_val=4 --num_test=4 --canvas=96 \
  --output_dir="$tmp/scenes" >"$tmp/scenes.log" 2>&1 || fail "make_scenes: $(cat "$tmp/scenes.log")"

# The shipped config cut to 4 iterations of 2 images; every replacement must have matched.
tiny_config() {
  sed -e 's/^\( *\)max_iter: [0-9]*$/\1max_iter: 4/' -e 's/^\( *\)steps: .*$/\1steps: 3/' \
    -e 's/^\( *\)warmup_iters: [0-9]*$/\1warmup_iters: 2/' \
    -e 's/^\( *\)ims_per_batch: [0-9]*$/\1ims_per_batch: 2/' "$1" >"$2"
  for line in "max_iter: 4" "steps: 3" "warmup_iters: 2" "ims_per_batch: 2"; do
    grep -q "^ *$line\$" "$2" || fail "$1: no '$line' after cutting it down"
  done
}

# check NAME BINARY CONFIG DATA_FLAG WIDTH_OVERRIDE
check() {
  local name="$1" bin="$2" config="$3" data="$4" width="$5"
  local out="$tmp/$name"
  # run LOG [FLAG...]: the binary on this run directory, its output in $tmp/$name.LOG.log.
  run() {
    local log="$tmp/$name.$1.log"
    shift
    "$bin" --config="$config" --random_init "$data" --output_dir="$out" --override="$width" "$@" \
      >"$log" 2>&1
  }
  run 1 --max_iters=2 || fail "$name --max_iters=2: $(tail -3 "$tmp/$name.1.log")"
  [ -f "$out/checkpoint.pt" ] || fail "$name: no checkpoint after --max_iters=2"
  [ ! -f "$out/model_final.pt" ] || fail "$name: --max_iters=2 ran to the end"
  grep -q "stopped at iteration 2 of 4" "$tmp/$name.1.log" ||
    fail "$name: $(tail -2 "$tmp/$name.1.log")"

  run 2 && fail "$name: a rerun without --resume overwrote the stopped run"
  grep -q "pass --resume" "$tmp/$name.2.log" || fail "$name: $(tail -2 "$tmp/$name.2.log")"

  run 3 --resume || fail "$name --resume: $(tail -3 "$tmp/$name.3.log")"
  grep -q "Resuming .* at iteration 2" "$tmp/$name.3.log" || fail "$name: did not resume"
  [ -f "$out/model_final.pt" ] || fail "$name: no final model after --resume"
  [ -f "$out/metrics.json" ] || fail "$name: no metrics after --resume"
}

tiny_config configs/detection/fms_voc_r18_c4.pbtxt "$tmp/detect.pbtxt"
check detect "$detect" "$tmp/detect.pbtxt" --voc_root="$tmp/scenes/VOCdevkit" \
  "backbone { width: 4 }"
tiny_config configs/segmentation/fms_coco_r18_c4.pbtxt "$tmp/segment.pbtxt"
check segment "$segment" "$tmp/segment.pbtxt" --coco_root="$tmp/scenes/coco" \
  "detection { backbone { width: 4 } }"
echo ok
