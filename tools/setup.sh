#!/usr/bin/env bash
# Installs what the MoCHi benchmark suite needs: Debian packages, and LibTorch 2.11.0 unpacked
# from the pinned PyPI `torch` wheel (plus the CUDA runtime libraries it loads) into the
# project-local prefix .deps/libtorch, which Bazel uses by default (third_party/libtorch.bzl).
#   bash tools/setup.sh          CPU builds: torch + cudart + CUPTI (libtorch_cpu links both)
#   bash tools/setup.sh --cuda   also what --config=cuda binaries load (cuBLAS, cuDNN, NCCL, ...)
# Always: the project's Python environment .deps/python (tools/python/requirements.txt: the same
# torch 2.11.0 for Python, torchvision, pycocotools; ~4.6 GiB with torch's CUDA wheels), the
# official references some tests compare against and the plain-PyTorch side of
# //bench:side_by_side.
# Idempotent: a second run checks what is there and downloads nothing. Needs root (or sudo) and
# Debian 12 for the packages; wheels are cached in ${MOCHI_WHEEL_CACHE:-~/.cache/mochi/wheels}.
set -euo pipefail
cd "$(dirname "$0")/.."
want_cuda=0
for arg in "$@"; do
  case "$arg" in
    --cuda) want_cuda=1 ;;
    --bench-python) ;;  # what it installed is now always installed (.deps/python)
    *) echo "setup: unknown argument $arg (usage: bash tools/setup.sh [--cuda])" >&2
       exit 2 ;;
  esac
done

PACKAGES=(
  bazel-bootstrap        # Bazel 4.2.3 (/usr/bin/bazel)
  bazel-rules-java       # @rules_java: Bazel 4 loads it during C++ toolchain resolution
  libabsl-dev            # Abseil 20220623
  libprotobuf-dev        # Protobuf 3.21 runtime + well-known types
  protobuf-compiler      # protoc
  libgtest-dev           # GoogleTest / GoogleMock (static)
  libgloo-dev            # gloo headers for c10d's ProcessGroupGloo.hpp: the torch wheel ships none
  unzip                  # unpacks the torch and nvidia wheels
  libstb-dev             # stb_image: PNG decoding for the ImageFolder reader
  libjpeg62-turbo-dev    # libjpeg-turbo: JPEG decoding (SIMD, DCT-domain downscaling) and encoding
  dataset-fashion-mnist  # the default profile's data: /usr/share/datasets/fashion-mnist
  zlib1g-dev             # gunzip of the idx files
  libssl-dev             # MD5 content checksums (EVP)
  nlohmann-json3-dev     # JSON for COCO annotations/results and metrics files (header-only)
  chromium               # headless rendering of reports/index.html in the tests
  slurm-wlm              # slurmctld, slurmd, sbatch: the SLURM plan test (tests/pipelines/slurm_test.sh)
  munge                  # SLURM's authentication daemon
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# install_libtorch.sh downloads the pinned wheels with `python3 -m pip`: Debian's pip only where
# the python3 on PATH has none (a pyenv or venv python brings its own).
if ! python3 -m pip --version >/dev/null 2>&1; then missing+=(python3-pip); fi
if ! python3 -c "import ensurepip" >/dev/null 2>&1; then
  missing+=(python3-venv)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} Debian packages already installed."
else
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "setup: need root to install: ${missing[*]}" >&2; exit 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: apt-get not found; this project targets Debian 12 (bookworm). Install: ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq \
      --no-install-recommends "${missing[@]}" >/tmp/mochi-setup-apt.log 2>&1; then
    tail -n 30 /tmp/mochi-setup-apt.log >&2
    echo "setup: apt-get install failed (full log: /tmp/mochi-setup-apt.log)." \
         "Is Debian's bookworm main reachable?" >&2
    exit 1
  fi
fi

# Verify what the build relies on, so a broken install fails here and not in a compile error.
check() { [ -e "$1" ] || { echo "setup: expected $1 ($2) is missing" >&2; exit 1; }; }
check /usr/bin/bazel bazel-bootstrap
check /usr/share/bazel/rules/java rules_java
check /usr/include/absl/status/status.h libabsl-dev
check /usr/bin/protoc protobuf-compiler
check /usr/lib/x86_64-linux-gnu/libgtest.a libgtest-dev
check /usr/include/gloo/algorithm.h libgloo-dev
check /usr/include/stb/stb_image.h libstb-dev
check /usr/include/jpeglib.h libjpeg62-turbo-dev
check /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz dataset-fashion-mnist
check /usr/bin/chromium chromium
check /usr/sbin/slurmctld slurm-wlm
check /usr/sbin/munged munge

bash tools/install_libtorch.sh "$want_cuda"

bash tools/python/install_python_env.sh
echo "setup: ok"
