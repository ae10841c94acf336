#!/usr/bin/env bash
# Two Gloo processes, interrupted and resumed, end bit for bit where an uninterrupted pair ends:
#   1. max_steps: both stop mid-epoch 0 (the path SIGTERM takes) and --resume;
#   2. kill -9 of both in epoch 1, after epoch 0's checkpoint, and --resume from it.
# Each rank's RNG streams must come back (the checkpoint holds every rank's), or the resumed
# runs draw other key shuffles and mixing pairs and the final checkpoints differ.
set -uo pipefail
bin="$1"
compare="$2"  # checkpoint_compare: tensor by tensor (archives carry a random id)
tmp="$TEST_TMPDIR"
overrides='dataset { fashion_mnist { limit: 512 } } backbone { width: 4 } batch_size: 64
           head { output_dim: 16 } moco { queue_size: 256 mixing { num_hardest: 32
           num_mixed_pairs: 16 num_query_mixed: 8 } } epochs: 2 log_every_steps: 1
           checkpoint_every_epochs: 1 run { num_threads: 1 }'
fail() { echo "FAIL: $*"; for f in "$tmp"/*.log; do echo "== $f"; tail -n 5 "$f"; done; exit 1; }

# pair NAME EXTRA_FLAGS...: both ranks in the background; their pids in $pids.
pair() {
  local name="$1"; shift
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  pids=()
  for rank in 0 1; do
    RANK=$rank WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
      "$bin" --config=configs/pretrain/mocov2_fmnist.pbtxt --output_dir="$tmp/$name" \
      --knn_eval=false --override="$overrides" "$@" >>"$tmp/$name.rank$rank.log" 2>&1 &
    pids+=($!)
  done
}
wait_pair() {
  local rc=0
  for pid in "${pids[@]}"; do wait "$pid" || rc=$?; done
  return $rc
}

pair straight && wait_pair || fail "uninterrupted pair failed"
[ -f "$tmp/straight/checkpoint.pt" ] || fail "no checkpoint from the uninterrupted pair"

# 1. Stop mid-epoch, resume.
pair stopped --max_steps=5 && wait_pair || fail "max_steps pair failed"
pair stopped --resume && wait_pair || fail "resumed pair (after max_steps) failed"
grep -q "Resuming" "$tmp/stopped.rank1.log" || fail "rank 1 did not resume"
"$compare" "$tmp/straight/checkpoint.pt" "$tmp/stopped/checkpoint.pt" ||
  fail "stopped at step 5 and resumed: final checkpoint differs from the uninterrupted pair's"

# 2. kill -9 both in epoch 1, once epoch 0's checkpoint is in place; resume.
pair killed
for _ in $(seq 2400); do
  grep -q "epoch 2/2 step 3/" "$tmp/killed.rank0.log" 2>/dev/null && break
  sleep 0.05
done
grep -q "epoch 2/2 step 3/" "$tmp/killed.rank0.log" || fail "the killed pair never reached epoch 1"
kill -9 "${pids[@]}"
wait_pair
[ -f "$tmp/killed/checkpoint.pt" ] || fail "no epoch-0 checkpoint before the kill"
pair killed --resume && wait_pair || fail "resumed pair (after kill -9) failed"
"$compare" "$tmp/straight/checkpoint.pt" "$tmp/killed/checkpoint.pt" ||
  fail "killed in epoch 1 and resumed: final checkpoint differs from the uninterrupted pair's"
echo "ok: 2 Gloo processes, stopped mid-epoch and killed -9, resumed bit for bit"
