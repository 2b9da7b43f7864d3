#!/usr/bin/env bash
# run_bench.sh - the benchmark batch on the GPU machine: flashc against
# torch SDPA (FA2, cuDNN), FlexAttention and SDPA math, by bench/bench.py.
#
#   bench/run_bench.sh [--lib SO] [--kernels DIR] [--out DIR] [--part PART]
#                      [--budget SECONDS] [-- BENCH_ARGS...]
#
# PART (each one process, under 10 minutes on an H200; run them as separate
# commands where a command is limited to 10 minutes):
#   grid-d64    the FA3-paper grid at d = 64   (~4 min)
#   grid-d128   the FA3-paper grid at d = 128  (~4 min)
#   rest        block-sparse + window, memory, compile  (~4 min)
#   all         the three above, one after the other (default)
# --lib: libflashc_runtime.so (default gpu-bin/, else build/lib/).
# --kernels: the directory bench/compile_kernels.sh wrote (default
#   gpu-bench-new/; it holds COMMIT and compile_times.json).
# --out: default $OUT/bench if $OUT is set, else ./bench-out/DATE.
# --budget: seconds after which bench.py starts no new row (default 450);
#   the process is stopped (SIGTERM; it writes what it measured) at
#   budget + 100 s.
# Writes OUT/bench-PART.{json,md,log}, OUT/nvidia-smi-PART.txt and the merged
# report of every part so far, OUT/bench.md. Then, on the build machine:
#   python3 bench/plot.py OUT -o bench/results/DATE-h200/
# Exit status: non-zero if flashc failed an output check or a part failed.
set -uo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
lib=""
kernels=""
out=""
part="all"
budget=450
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --lib) lib="$2"; shift 2 ;;
    --kernels) kernels="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --part) part="$2"; shift 2 ;;
    --budget) budget="$2"; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "run_bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ -z "$lib" ]; then
  for c in "$here/gpu-bin/libflashc_runtime.so" "$here/build/lib/libflashc_runtime.so"; do
    if [ -f "$c" ]; then lib="$c"; break; fi
  done
fi
[ -n "$kernels" ] || kernels="$here/gpu-bench-new"
if [ -z "$out" ]; then
  if [ -n "${OUT:-}" ]; then out="$OUT/bench"; else out="$here/bench-out/$(date -u +%Y%m%dT%H%M%SZ)"; fi
fi
mkdir -p "$out"
if [ -z "$lib" ] || [ ! -f "$lib" ]; then
  echo "run_bench: no libflashc_runtime.so (--lib); flashc rows will record the error" >&2
  lib="${lib:-missing-libflashc_runtime.so}"
fi
if [ ! -f "$kernels/compile_times.json" ]; then
  echo "run_bench: $kernels has no compile_times.json: run bench/compile_kernels.sh $kernels first" >&2
fi
case "$part" in
  all) parts=(grid-d64 grid-d128 rest) ;;
  grid-d64|grid-d128|rest) parts=("$part") ;;
  *) echo "run_bench: unknown part $part (grid-d64, grid-d128, rest, all)" >&2; exit 2 ;;
esac
py="${PYTHON:-python3}"
status=0
for p in "${parts[@]}"; do
  # shellcheck disable=SC2054  # "compile,sparse,memory" is one argument
  case "$p" in
    grid-d64) args=(--sections grid --d 64) ;;
    grid-d128) args=(--sections grid --d 128) ;;
    rest) args=(--sections compile,sparse,memory) ;;
  esac
  nvidia-smi -q > "$out/nvidia-smi-$p.txt" 2>&1 || true
  echo "run_bench: part $p, $(date -u +%Y-%m-%dT%H:%M:%SZ), lib $lib, kernels $kernels, out $out"
  timeout --signal=TERM --kill-after=30 $((budget + 100)) \
    "$py" -u "$here/bench/bench.py" --lib "$lib" --kernels "$kernels" --out "$out" \
      --tag "$p" --budget "$budget" "${args[@]}" ${extra[@]+"${extra[@]}"} \
    2>&1 | tee "$out/bench-$p.log"
  rc=${PIPESTATUS[0]}
  echo "run_bench: part $p exited with $rc"
  [ "$rc" -eq 0 ] || status=1
done
"$py" "$here/bench/report.py" "$out" -o "$out/bench.md" && echo "run_bench: merged report $out/bench.md"
ls -la "$out"
exit $status
