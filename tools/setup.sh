#!/usr/bin/env bash
# Installs every Debian package the MoCHi benchmark suite needs. Idempotent: packages already
# installed are skipped, so a second run costs one dpkg query. Needs root (or sudo) and Debian 12.
set -euo pipefail

PACKAGES=(
  bazel-bootstrap        # Bazel 4.2.3 (/usr/bin/bazel)
  bazel-rules-java       # @rules_java: Bazel 4 loads it during C++ toolchain resolution
  libtorch-dev           # LibTorch 1.13.1, CPU
  libgloo-dev            # headers for c10d ProcessGroupGloo
  libabsl-dev            # Abseil 20220623
  libprotobuf-dev        # Protobuf 3.21 runtime + well-known types
  protobuf-compiler      # protoc
  libgtest-dev           # GoogleTest / GoogleMock (static)
  libopenblas0-pthread   # replaces reference BLAS (30x faster matmul)
  libstb-dev             # stb_image: JPEG/PNG decoding for the ImageFolder reader
  dataset-fashion-mnist  # the default profile's data: /usr/share/datasets/fashion-mnist
  zlib1g-dev             # gunzip of the idx files
  libssl-dev             # MD5 content checksums (EVP)
  nlohmann-json3-dev     # JSON for COCO annotations/results and metrics files (header-only)
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

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
check /usr/include/torch/csrc/api/include/torch/torch.h libtorch-dev
check /usr/include/gloo/config.h libgloo-dev
check /usr/include/absl/status/status.h libabsl-dev
check /usr/bin/protoc protobuf-compiler
check /usr/lib/x86_64-linux-gnu/libgtest.a libgtest-dev
check /usr/include/stb/stb_image.h libstb-dev
check /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz dataset-fashion-mnist
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 || true)
case "$blas" in
  *openblas*) ;;
  *) echo "setup: warning: libblas.so.3 resolves to $blas, not OpenBLAS; matmul will be ~30x slower." \
          "Fix: update-alternatives --config libblas.so.3-x86_64-linux-gnu" >&2 ;;
esac
echo "setup: ok"
