#!/usr/bin/env bash
# package-flashc.sh - packs build/bin/flashc and the shared libraries it
# loads (MLIR, LLVM and theirs; not glibc or libstdc++, which the GPU
# machine has newer) into one tar.xz, so that `flashc run` can be tried on
# the GPU machine, which has no MLIR.
#
#   scripts/package-flashc.sh [OUT.tar.xz]     (default gpu-flashc/fpkg.tar.xz)
#
# There: tar xJf fpkg.tar.xz -C /tmp && LD_LIBRARY_PATH=/tmp/fpkg/lib
# /tmp/fpkg/flashc run SPEC. libicudata (31 MB of ICU data that libxml2's
# ICU needs loaded but flashc never reads) is replaced by a one-symbol stub,
# so that the package (about 53 MB) fits the 64 MiB a device call carries
# beside the tree. bench/results/2026-12-06-h100-session4/flashc-run-gpu.sh
# is the run that used it.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-gpu-flashc/fpkg.tar.xz}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/fpkg/lib" "$(dirname "$out")"
cp build/bin/flashc "$work/fpkg/" && strip "$work/fpkg/flashc"
ldd build/bin/flashc | awk '$3 ~ /^\// {print $3}' | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so*|libm.so*|libstdc++*|libgcc_s*|ld-linux*|libpthread*|libdl*|librt*) ;;
    libicudata.so.*)
      # ICU names its data symbol after its major version: icudt72_dat.
      echo "char icudt${lib##*.so.}_dat[16];" > "$work/stub.c"
      cc -shared -fPIC -o "$work/fpkg/lib/$(basename "$lib")" \
        -Wl,-soname,"$(basename "$lib")" "$work/stub.c" ;;
    *) cp -L "$lib" "$work/fpkg/lib/" ;;
  esac
done
tar cf - -C "$work" fpkg | xz -9e -T2 > "$out"
ls -l "$out"
