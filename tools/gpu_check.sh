#!/usr/bin/env bash
# The GPU check: CUDA-vs-CPU tests and paper-scale step throughput, with binaries built here
# (--config=cuda) and carried to a GPU machine that has no Bazel.
#
#   bash tools/gpu_check.sh prepare        # here: build, then copy the binaries and their
#                                          # non-torch runtime libraries into gpu_check/
#   bash tools/gpu_check.sh run OUT_DIR    # on the GPU machine (the same tree, gpu_check/ carried):
#                                          # tests, benchmarks, plain PyTorch; OUT_DIR/summary.json
#   bash tools/gpu_check.sh run-cpu OUT_DIR  # its CPU parts here, small shapes (CI runs this)
#
# On the GPU machine the binaries take LibTorch and the CUDA libraries from TORCH_DIR (default:
# /opt/torch/.venv/lib/python3.12/site-packages/torch, the same 2.11.0+cu130 build as the wheel
# they were linked against) through LD_LIBRARY_PATH, which precedes their RUNPATH.
set -uo pipefail
cd "$(dirname "$0")/.."
mode="${1:-}"
bundle=gpu_check
targets=(//bench:mixing_benchmark //tests/gpu:cuda_vs_cpu_test //tests/mochi/port:device_test)

prepare() {
  bazel build --config=cuda "${targets[@]}" || exit 1
  rm -rf "$bundle"; mkdir -p "$bundle/bin" "$bundle/lib"
  local bin
  for t in "${targets[@]}"; do
    bin="bazel-bin/$(echo "${t#//}" | tr ':' '/')"
    cp "$bin" "$bundle/bin/" && chmod u+w "$bundle/bin/$(basename "$bin")"
    strip "$bundle/bin/$(basename "$bin")"
    # Non-torch, non-CUDA, non-glibc libraries it loads: Debian's Abseil, protobuf, stb, and the
    # project's own (tests link them dynamically). LibTorch and CUDA come from the GPU machine.
    ldd "$bin" | awk '/=> \// {print $3}' |
      grep -vE '/\.deps/libtorch/|/(libc|libm|libdl|libpthread|librt|ld-linux-x86-64|libstdc\+\+|libgcc_s)\.so' |
      while read -r lib; do cp -L "$lib" "$bundle/lib/"; done
  done
  local size
  size=$(du -sm "$bundle" | cut -f1)
  echo "gpu_check: $bundle/ holds $(ls "$bundle/bin" | wc -l) binaries and $(ls "$bundle/lib" | wc -l) libraries, ${size} MiB (the carry limit is 64)"
  [ "$size" -lt 64 ] || { echo "gpu_check: $bundle/ is over the 64 MiB carry limit" >&2; exit 1; }
}

# run OUT_DIR DEVICE: every part, each logged; a part that fails is recorded, the rest still run.
run_check() {
  local out="$1" device="$2"
  mkdir -p "$out"
  local log="$out/gpu_check.log" bin=$bundle/bin
  : >"$log"
  if [ "$device" = cuda ]; then
    local torch_dir="${TORCH_DIR:-/opt/torch/.venv/lib/python3.12/site-packages/torch}"
    # torch/lib, and the CUDA runtime and NCCL that the binaries NEED directly (the other CUDA
    # libraries come through the torch libraries' own $ORIGIN RPATHs).
    local nvidia="$torch_dir/../nvidia"
    export LD_LIBRARY_PATH="$torch_dir/lib:$nvidia/cu13/lib:$nvidia/nccl/lib:$PWD/$bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    python="${PYTHON:-/opt/torch/.venv/bin/python}"
    config=configs/pretrain/mocov2_r50_in1k_200ep.pbtxt   # ResNet-50, 224 px, batch 256
    queue=65536; steps=100; warmup=5
    plain_model=(--depth=50 --width=64 --channels=3 --image_size=224 --batch=256)
    [ -d "$bin" ] || bin=bazel-bin   # built in place (a machine with Bazel)
  else
    python="${PYTHON:-.deps/python/bin/python}"   # the project's Python environment
    bazel build "${targets[@]}" >>"$log" 2>&1 || { echo "gpu_check: build failed ($log)" >&2; return 1; }
    config=configs/pretrain/mocov2_fmnist.pbtxt
    queue=4096; steps=3; warmup=1
    plain_model=(--depth=18 --width=16 --channels=1 --image_size=28 --small_stem --batch=128
      --bn_groups=4 --tau=0.1)
    bin=bazel-bin
  fi
  local results=()
  part() {  # part NAME COMMAND...: runs it, logs it, records pass/fail
    local name="$1"; shift
    echo "== $name: $*" | tee -a "$log"
    local start=$SECONDS
    "$@" >>"$log" 2>&1
    local rc=$?
    echo "== $name: rc $rc, $((SECONDS - start)) s" | tee -a "$log"
    results+=("{\"part\": \"$name\", \"rc\": $rc, \"seconds\": $((SECONDS - start))}")
  }
  [ "$device" = cuda ] && part nvidia_smi nvidia-smi
  local tests=("$bin"/cuda_vs_cpu_test "$bin"/device_test)
  [ "$bin" = bazel-bin ] && tests=(bazel-bin/tests/gpu/cuda_vs_cpu_test bazel-bin/tests/mochi/port/device_test)
  for t in "${tests[@]}"; do part "$(basename "$t")" "$t"; done
  local mb="$bin/mixing_benchmark"
  [ "$bin" = bazel-bin ] && mb=bazel-bin/bench/mixing_benchmark
  for precision in fp32 bf16; do
    local override=""
    [ "$precision" = bf16 ] && override="run { autocast_bf16: true }"
    mkdir -p "$out/bench_$precision"
    part "step_$precision" "$mb" --config="$config" --device="$device" --override="$override" \
      --queue_sizes=$queue --mixings=1024:512:256 --steps=$steps --warmup=$warmup \
      --pieces=false --count_memory=false --json_dir="$out/bench_$precision"
  done
  if "$python" -c "import torch" >/dev/null 2>&1; then
    for precision in fp32 bf16; do
      part "plain_pytorch_$precision" "$python" bench/plain_pytorch_step.py --device="$device" \
        --config="$config" "${plain_model[@]}" --queue_size=$queue --steps=$steps --warmup=$warmup \
        --precision=$precision --json="$out/plain_pytorch_$precision.json"
    done
  else
    echo "== plain PyTorch: $python has no torch; skipped" | tee -a "$log"
  fi
  { echo "{\"device\": \"$device\", \"config\": \"$config\", \"queue_size\": $queue, \"steps\": $steps,"
    echo " \"parts\": ["; (IFS=,; echo "  ${results[*]}"); echo " ]}"; } >"$out/summary.json"
  local failed
  failed=$(printf '%s\n' "${results[@]}" | grep -vc '"rc": 0,' || true)
  echo "gpu_check: ${#results[@]} parts, $failed failed; $out/summary.json"
  [ "$failed" -eq 0 ]
}

case "$mode" in
  prepare) prepare ;;
  run) run_check "${2:?usage: gpu_check.sh run OUT_DIR}" cuda ;;
  run-cpu) run_check "${2:?usage: gpu_check.sh run-cpu OUT_DIR}" cpu ;;
  *) sed -n '2,13p' "$0"; exit 2 ;;
esac
