#!/usr/bin/env bash
# compile-specs.sh - compiles every GPU test spec into a kernel directory,
# on the build machine (needs the flashc tool; the GPU machine has no MLIR).
#
#   test/GPU/compile-specs.sh [--flashc PATH] [--target sm_90a] [--flag F]... OUT_DIR [SPEC...]
#
# --flag F (repeatable) passes F to every `flashc compile`, e.g. --flag
# --sum-dq to test the summing backward on every gradient spec.
# Writes OUT_DIR/NAME/ (flashc.json + PTX/cubin) for test/GPU/specs/NAME.mlir;
# the directory name is what flashc-gpu-tests keys custom regions by, so keep
# it. Also writes OUT_DIR/COMMIT. A spec that fails to compile is reported and
# the script goes on; it exits non-zero if any failed.
set -uo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
flashc=""
target="sm_90a"
flags=()
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --flashc) flashc="$2"; shift 2 ;;
    --target) target="$2"; shift 2 ;;
    --flag) flags+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
if [ ${#args[@]} -lt 1 ]; then
  echo "usage: $0 [--flashc PATH] [--target sm_90a] [--flag F]... OUT_DIR [SPEC...]" >&2
  exit 2
fi
out="${args[0]}"
specs=("${args[@]:1}")
[ ${#specs[@]} -gt 0 ] || specs=("$here"/test/GPU/specs/*.mlir)
if [ -z "$flashc" ]; then
  for candidate in "$here"/build/bin/flashc "$here"/build-*/bin/flashc; do
    if [ -x "$candidate" ]; then flashc="$candidate"; break; fi
  done
fi
if [ -z "$flashc" ]; then
  echo "compile-specs: no flashc binary (build it, or pass --flashc PATH)" >&2
  exit 2
fi
mkdir -p "$out"
git -C "$here" rev-parse HEAD > "$out/COMMIT" 2>/dev/null || true
failed=0
for spec in "${specs[@]}"; do
  name="$(basename "$spec" .mlir)"
  if "$flashc" compile "$spec" --target "$target" ${flags[@]+"${flags[@]}"} \
       -o "$out/$name" > "$out/$name.compile.log" 2>&1; then
    echo "compiled $name"
    rm -f "$out/$name.compile.log"
  else
    echo "FAILED   $name (see $out/$name.compile.log)"
    failed=$((failed + 1))
  fi
done
echo "${#specs[@]} specs, $failed failed to compile"
[ "$failed" -eq 0 ]
