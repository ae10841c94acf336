#!/usr/bin/env bash
# LibTorch 2.11.0 from the PyPI wheels, pinned by file name and sha256, unpacked into
# .deps/libtorch (torch/ beside nvidia/, the layout the wheel's $ORIGIN RPATHs expect).
# Called by tools/setup.sh; usage: install_libtorch.sh 0|1   (1: also the CUDA runtime set).
# Only the headers and the libraries the build links or loads are extracted (no Python parts).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/disk_space.sh
want_cuda="${1:-0}"
prefix=.deps/libtorch
cache="${MOCHI_WHEEL_CACHE:-$HOME/.cache/mochi/wheels}"

# name==version | wheel file | sha256 | members to extract
CPU_WHEELS=(
  "torch==2.11.0|torch-2.11.0-cp312-cp312-manylinux_2_28_x86_64.whl|0f68f4ac6d95d12e896c3b7a912b5871619542ec54d3649cf48cc1edd4dd2756|torch/include/* torch/lib/libc10.so torch/lib/libtorch_cpu.so torch/lib/libgomp.so.1"
  "nvidia-cuda-runtime==13.0.96|nvidia_cuda_runtime-13.0.96-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl|7f82250d7782aa23b6cfe765ecc7db554bd3c2870c43f3d1821f1d18aebf0548|nvidia/cu13/lib/libcudart.so.13"
  "nvidia-cuda-cupti==13.0.85|nvidia_cuda_cupti-13.0.85-py3-none-manylinux_2_25_x86_64.whl|4eb01c08e859bf924d222250d2e8f8b8ff6d3db4721288cf35d14252a4d933c8|nvidia/cu13/lib/libcupti.so.13"
)
# What libtorch_cuda.so and its dependencies load (readelf -d NEEDED, closed over), at the
# versions torch 2.11.0 requires (its cuda-toolkit==13.0.2 extras and direct pins).
CUDA_WHEELS=(
  "torch==2.11.0|torch-2.11.0-cp312-cp312-manylinux_2_28_x86_64.whl|0f68f4ac6d95d12e896c3b7a912b5871619542ec54d3649cf48cc1edd4dd2756|torch/lib/libtorch_cuda.so torch/lib/libc10_cuda.so torch/lib/libtorch_nvshmem.so torch/lib/libtorch_cuda_linalg.so torch/lib/libcaffe2_nvrtc.so"
  "nvidia-cublas==13.1.0.3|nvidia_cublas-13.1.0.3-py3-none-manylinux_2_27_x86_64.whl|ee8722c1f0145ab246bccb9e452153b5e0515fd094c3678df50b2a0888b8b171|nvidia/cu13/lib/libcublas.so.13 nvidia/cu13/lib/libcublasLt.so.13"
  "nvidia-cufft==12.0.0.61|nvidia_cufft-12.0.0.61-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl|6c44f692dce8fd5ffd3e3df134b6cdb9c2f72d99cf40b62c32dde45eea9ddad3|nvidia/cu13/lib/libcufft.so.12"
  "nvidia-cufile==1.15.1.6|nvidia_cufile-1.15.1.6-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl|08a3ecefae5a01c7f5117351c64f17c7c62efa5fffdbe24fc7d298da19cd0b44|nvidia/cu13/lib/libcufile.so.0"
  "nvidia-curand==10.4.0.35|nvidia_curand-10.4.0.35-py3-none-manylinux_2_27_x86_64.whl|1aee33a5da6e1db083fe2b90082def8915f30f3248d5896bcec36a579d941bfc|nvidia/cu13/lib/libcurand.so.10"
  "nvidia-cusparse==12.6.3.3|nvidia_cusparse-12.6.3.3-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl|2b3c89c88d01ee0e477cb7f82ef60a11a4bcd57b6b87c33f789350b59759360b|nvidia/cu13/lib/libcusparse.so.12"
  "nvidia-nvjitlink==13.0.88|nvidia_nvjitlink-13.0.88-py3-none-manylinux2010_x86_64.manylinux_2_12_x86_64.whl|13a74f429e23b921c1109976abefacc69835f2f433ebd323d3946e11d804e47b|nvidia/cu13/lib/libnvJitLink.so.13"
  "nvidia-cudnn-cu13==9.19.0.56|nvidia_cudnn_cu13-9.19.0.56-py3-none-manylinux_2_27_x86_64.whl|d20e1734305e9d68889a96e3f35094d733ff1f83932ebe462753973e53a572bf|nvidia/cudnn/lib/*"
  "nvidia-cusparselt-cu13==0.8.0|nvidia_cusparselt_cu13-0.8.0-py3-none-manylinux2014_x86_64.whl|25e30a8a7323935d4ad0340b95a0b69926eee755767e8e0b1cf8dd85b197d3fd|nvidia/cusparselt/lib/libcusparseLt.so.0"
  "nvidia-nccl-cu13==2.28.9|nvidia_nccl_cu13-2.28.9-py3-none-manylinux_2_18_x86_64.whl|e4553a30f34195f3fa1da02a6da3d6337d28f2003943aa0a3d247bbc25fefc42|nvidia/nccl/lib/libnccl.so.2"
  "nvidia-nvshmem-cu13==3.4.5|nvidia_nvshmem_cu13-3.4.5-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl|290f0a2ee94c9f3687a02502f3b9299a9f9fe826e6d0287ee18482e78d495b80|nvidia/nvshmem/lib/libnvshmem_host.so.3"
)

wheels=("${CPU_WHEELS[@]}")
[ "$want_cuda" = 1 ] && wheels+=("${CUDA_WHEELS[@]}")
# The stamp names exactly what was unpacked: a different pin set or --cuda reinstalls.
stamp=$(printf '%s\n' "${wheels[@]}" | sha256sum | cut -c1-16)
if [ "$(cat "$prefix/.installed" 2>/dev/null)" = "$stamp" ]; then
  echo "setup: LibTorch 2.11.0 already in $prefix ($([ "$want_cuda" = 1 ] && echo CPU + CUDA || echo CPU))."
  exit 0
fi
# A CPU-only call keeps an existing CUDA install: it is a superset.
cuda_stamp=$(printf '%s\n' "${CPU_WHEELS[@]}" "${CUDA_WHEELS[@]}" | sha256sum | cut -c1-16)
if [ "$want_cuda" = 0 ] && [ "$(cat "$prefix/.installed" 2>/dev/null)" = "$cuda_stamp" ]; then
  echo "setup: LibTorch 2.11.0 already in $prefix (CPU + CUDA)."
  exit 0
fi

pip=(python3 -m pip)
if ! "${pip[@]}" --version >/dev/null 2>&1; then
  echo "setup: python3 -m pip is missing (apt: python3-pip)" >&2; exit 1
fi
mkdir -p "$cache"

fetch() {  # fetch name==version file sha256: into the cache, verified
  local spec="$1" file="$2" sha="$3" tag
  if [ -f "$cache/$file" ] && echo "$sha  $cache/$file" | sha256sum -c --status; then return 0; fi
  rm -f "$cache/$file"
  # The platform tag of the pinned file (pip download takes one exact tag per --platform).
  local platforms=()
  for tag in $(echo "$file" | sed -E 's/.*-(manylinux[^.]*(\.manylinux[^.]*)*)\.whl$/\1/' | tr '.' ' '); do
    platforms+=(--platform "$tag")
  done
  echo "setup: downloading $spec ($file)"
  if ! "${pip[@]}" download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
      --implementation cp "${platforms[@]}" -d "$cache" "$spec" >/tmp/mochi-setup-pip.log 2>&1; then
    tail -n 20 /tmp/mochi-setup-pip.log >&2
    echo "setup: pip download $spec failed (log: /tmp/mochi-setup-pip.log). Is PyPI reachable?" >&2
    exit 1
  fi
  if ! echo "$sha  $cache/$file" | sha256sum -c --status; then
    echo "setup: $cache/$file does not have the pinned sha256 $sha; removed it." >&2
    rm -f "$cache/$file"; exit 1
  fi
}

# Unpack into a fresh staging directory and move it in place at the end: an interrupted setup
# never leaves a half-unpacked LibTorch that the build would take as installed.
stage="$prefix.staging"
rm -rf "$stage"
unpacked_bytes=0
for entry in "${wheels[@]}"; do
  IFS='|' read -r spec file sha members <<<"$entry"
  fetch "$spec" "$file" "$sha"
  # shellcheck disable=SC2086  # members are unzip patterns
  listed=$(unzip -l "$cache/$file" $members | tail -n 1 | awk '{ print $1 }')
  unpacked_bytes=$(( unpacked_bytes + listed ))
done
# The old install is removed only after the new one is in place: both must fit.
require_free_bytes "$stage" "$unpacked_bytes" "Unpacking LibTorch 2.11.0"
mkdir -p "$stage"
for entry in "${wheels[@]}"; do
  IFS='|' read -r spec file sha members <<<"$entry"
  # shellcheck disable=SC2086
  unzip -q -o "$cache/$file" $members -d "$stage" </dev/null
done
echo "$stamp" >"$stage/.installed"
rm -rf "$prefix.old"
[ -d "$prefix" ] && mv "$prefix" "$prefix.old"
mv "$stage" "$prefix"
rm -rf "$prefix.old"
echo "setup: LibTorch 2.11.0 unpacked into $prefix ($(du -sh "$prefix" | cut -f1))."
