#!/usr/bin/env bash
# run_bench.sh - the benchmark batch on the GPU machine: flashc against
# torch SDPA (FA2, cuDNN), FlexAttention and SDPA math, by bench/bench.py.
#
#   bench/run_bench.sh [--lib SO] [--kernels DIR] [--out DIR] [--part PART]
#                      [--processes 1|2] [--budget SECONDS]
#                      [--part-limit SECONDS] [-- BENCH_ARGS...]
#
# PART (one device command each: every part ends within --part-limit):
#   grid-d64    the FA3-paper grid at d = 64   (~3.5 min, estimated:
#               bench/README.md, "Device time")
#   grid-d128   the FA3-paper grid at d = 128  (~3.5 min)
#   rest        block-sparse + window, memory, compile  (~3 min)
#   all         the three above, one after the other (default; ~10 min)
# Each part runs bench.py twice, one process after the other (--processes,
# default 2): the first sweeps the rows in order, the second in reverse
# order on fresh inputs (the `rest` part's second process times only the
# block-sparse rows: memory and compile are measured once). Each process
# times every row in 2 rounds; bench/report.py pools the rounds of both, so
# the noise it reports includes the drift between processes
# (bench/README.md, "Rounds and noise").
# --lib: libflashc_runtime.so (default gpu-bin/, else build/lib/).
# --kernels: the directory bench/compile_kernels.sh wrote (default
#   gpu-bench-new/; it holds COMMIT and compile_times.json).
# --out: default $OUT/bench if $OUT is set, else ./bench-out/DATE.
# --budget: seconds after which the first process starts no new row
#   (default 300); it is stopped (SIGTERM: it writes what it measured) 90 s
#   later.
# --part-limit: seconds from a part's start by which both processes have
#   ended (default 540): the second gets what the first left, less 105 s
#   of margins, and is not started with less than 60 s.
# Torch's inductor and Triton caches live in a fresh directory for the whole
# invocation (removed at the end): the first process compiles every Flex
# shape cold (its first-call times are the per-shape compile), the second
# reads what the first compiled.
# Writes OUT/bench-PART-p{1,2}.{json,md,log}, OUT/nvidia-smi-PART.txt and the
# merged report of every part so far, OUT/bench.md. Then, on the build
# machine:
#   python3 bench/plot.py OUT -o bench/results/DATE-h200/
# Exit status: non-zero if flashc failed an output check or a process failed.
set -uo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
lib=""
kernels=""
out=""
part="all"
budget=300
part_limit=540
processes=2
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --lib) lib="$2"; shift 2 ;;
    --kernels) kernels="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --part) part="$2"; shift 2 ;;
    --budget) budget="$2"; shift 2 ;;
    --part-limit) part_limit="$2"; shift 2 ;;
    --processes) processes="$2"; shift 2 ;;
    -h|--help) sed -n '2,40p' "$0"; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "run_bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$processes" in 1|2) ;; *) echo "run_bench: --processes takes 1 or 2" >&2; exit 2 ;; esac
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
cache="$(mktemp -d /tmp/flashc-bench-cache.XXXXXX)"
trap 'rm -rf "$cache"' EXIT
export TORCHINDUCTOR_CACHE_DIR="$cache/inductor" TRITON_CACHE_DIR="$cache/triton"
py="${PYTHON:-python3}"
status=0

# run_one TAG BUDGET ARGS...: one bench.py process, stopped at BUDGET + 90 s.
run_one() {
  local tag="$1" b="$2"
  shift 2
  echo "run_bench: $tag, $(date -u +%Y-%m-%dT%H:%M:%SZ), budget ${b}s, lib $lib, kernels $kernels, out $out"
  timeout --signal=TERM --kill-after=15 $((b + 90)) \
    "$py" -u "$here/bench/bench.py" --lib "$lib" --kernels "$kernels" --out "$out" \
      --tag "$tag" --budget "$b" "$@" ${extra[@]+"${extra[@]}"} \
    2>&1 | tee "$out/bench-$tag.log"
  local rc=${PIPESTATUS[0]}
  echo "run_bench: $tag exited with $rc"
  [ "$rc" -eq 0 ] || status=1
}

for p in "${parts[@]}"; do
  t0=$(date +%s)
  # shellcheck disable=SC2054  # "compile,sparse,memory" is one argument
  case "$p" in
    grid-d64) a1=(--sections grid --d 64); a2=("${a1[@]}") ;;
    grid-d128) a1=(--sections grid --d 128); a2=("${a1[@]}") ;;
    rest) a1=(--sections compile,sparse,memory); a2=(--sections sparse) ;;
  esac
  nvidia-smi -q > "$out/nvidia-smi-$p.txt" 2>&1 || true
  run_one "$p-p1" "$budget" "${a1[@]}"
  if [ "$processes" -eq 2 ]; then
    # What is left of the part's time, less the stop margin (90 s), the
    # kill grace (15 s) and nothing else: the merged report takes a second.
    b2=$((part_limit - ($(date +%s) - t0) - 105))
    if [ "$b2" -ge 60 ]; then
      run_one "$p-p2" "$b2" "${a2[@]}" --reverse
    else
      echo "run_bench: $p-p2 not started: ${b2}s left of the part's ${part_limit}s" \
           "(the report gives this part's noise from one process)"
    fi
  fi
  echo "run_bench: part $p took $(( $(date +%s) - t0 ))s"
done
"$py" "$here/bench/report.py" "$out" -o "$out/bench.md" && echo "run_bench: merged report $out/bench.md"
ls -la "$out"
exit $status
