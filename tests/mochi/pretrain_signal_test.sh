#!/usr/bin/env bash
# SIGTERM mid-run: the pretrain binary finishes its step, writes a checkpoint, exits with 130,
# and --resume then completes the run.
set -uo pipefail
bin="$1"
out="$TEST_TMPDIR/run"
log="$TEST_TMPDIR/log"
overrides='dataset { fashion_mnist { limit: 1024 } } backbone { width: 4 } batch_size: 64
           moco { queue_size: 256 } epochs: 2 log_every_steps: 1 run { num_threads: 2 }'
"$bin" --config=configs/pretrain/mocov2_fmnist.pbtxt --output_dir="$out" --knn_eval=false \
  --override="$overrides" 2>"$log" &
pid=$!
for _ in $(seq 1200); do grep -q "step 3/" "$log" && break; sleep 0.05; done
grep -q "step 3/" "$log" || { echo "run never reached step 3"; cat "$log"; exit 1; }
kill -TERM "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 130 ] || { echo "expected exit code 130 after SIGTERM, got $rc"; cat "$log"; exit 1; }
grep -q "interrupted by signal 15" "$log" || { echo "no interruption message"; cat "$log"; exit 1; }
[ -f "$out/checkpoint.pt" ] || { echo "no checkpoint written on SIGTERM"; exit 1; }
[ ! -e "$out/checkpoint.pt.tmp" ] || { echo "temporary checkpoint left behind"; exit 1; }

"$bin" --config=configs/pretrain/mocov2_fmnist.pbtxt --output_dir="$out" --knn_eval=false \
  --override="$overrides" --resume 2>>"$log" || { echo "resume failed"; cat "$log"; exit 1; }
grep -q "Resuming" "$log" || { echo "resume did not load the checkpoint"; cat "$log"; exit 1; }
lines=$(grep -c '"epoch"' "$out/metrics.jsonl")
[ "$lines" -eq 2 ] || { echo "expected 2 epoch lines in metrics.jsonl, got $lines"; exit 1; }
echo "ok"
