#!/usr/bin/env bash
# Installs what flashc needs (Debian packages) and builds it into ./build.
# Safe to run again: installs only what is missing, builds incrementally.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  cmake ninja-build
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools clang-22 lld-22
  libcli11-dev libfmt-dev libgtest-dev nlohmann-json3-dev
)
# shellcheck source=scripts/lib/packages.sh
source scripts/lib/packages.sh
FLASHC_LOG_PREFIX="setup: " flashc_install_packages "${PACKAGES[@]}" ||
  { echo "setup: apt-get failed (above)" >&2; exit 1; }

BUILD_DIR=${FLASHC_BUILD_DIR:-build}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -G Ninja -S . -B "$BUILD_DIR" \
    -DCMAKE_BUILD_TYPE=${FLASHC_BUILD_TYPE:-Release} \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DLLVM_USE_LINKER=lld ${FLASHC_CMAKE_ARGS:-}
fi
ninja -C "$BUILD_DIR"
