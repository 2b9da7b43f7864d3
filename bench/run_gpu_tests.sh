#!/usr/bin/env bash
# run_gpu_tests.sh - the GPU test batch, run on the GPU machine (no MLIR
# there): everything is built and compiled beforehand on a build machine.
#
#   bench/run_gpu_tests.sh [--bin DIR] [--out DIR] [--seed S] KERNELS...
#
# KERNELS: kernel directories written by `flashc compile` (each with a
# flashc.json), or directories of them (e.g. gpu-kernels/, made by
# test/GPU/compile-specs.sh; or mock kernels from
# test/GPU/mock/make_mock_kernels.py).
#
# 1. flashc-gpu-tests over every kernel directory, each in its own process
#    (a kernel that faults leaves its CUDA context unusable; the others still
#    run), all with one seed, printed, so a run can be repeated.
# 2. compute-sanitizer --tool memcheck, racecheck and synccheck on a subset
#    (FLASHC_SANITIZE="name ..." picks it; sizes capped with --max-seq 100).
#    Without compute-sanitizer this step is skipped with a message.
# Logs go to --out DIR, else $OUT/gpu-tests, else ./gpu-test-logs/DATE:
#   run.log (everything), tests/NAME.log, sanitizer/TOOL-NAME.log,
#   summary.json (counts, per-directory results, GPU, commit).
# Exit status: 0 only if every case passed and the sanitizers found nothing.
set -uo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
bin=""
out=""
seed=""
kernels=()
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) kernels+=("$1"); shift ;;
  esac
done
if [ ${#kernels[@]} -eq 0 ]; then
  echo "usage: $0 [--bin DIR] [--out DIR] [--seed S] KERNELS..." >&2
  exit 2
fi

# The test program: --bin, else the first build directory that has one.
tests=""
for candidate in ${bin:+"$bin/flashc-gpu-tests"} "$here"/build/bin/flashc-gpu-tests \
    "$here"/build-*/bin/flashc-gpu-tests; do
  if [ -x "$candidate" ]; then tests="$candidate"; break; fi
done
if [ -z "$tests" ]; then
  echo "run_gpu_tests: flashc-gpu-tests not found (build it on the build machine: ninja flashc-gpu-tests; or pass --bin DIR)" >&2
  exit 2
fi

if [ -z "$out" ]; then
  if [ -n "${OUT:-}" ]; then out="$OUT/gpu-tests"; else out="$here/gpu-test-logs/$(date -u +%Y%m%dT%H%M%SZ)"; fi
fi
mkdir -p "$out/tests" "$out/sanitizer"
log="$out/run.log"
: > "$log"
say() { echo "$@" | tee -a "$log"; }

[ -n "$seed" ] || seed=$(( (RANDOM << 30) ^ (RANDOM << 15) ^ RANDOM ))
# The GPU machine's copy of the tree may have no .git: FLASHC_COMMIT, or a
# COMMIT file written next to the kernels, say which commit this is.
commit="${FLASHC_COMMIT:-}"
[ -n "$commit" ] || [ ! -f "$here/COMMIT" ] || commit="$(cat "$here/COMMIT")"
[ -n "$commit" ] || commit="$(git -C "$here" rev-parse --verify -q HEAD 2>/dev/null)" || commit=""
[ -n "$commit" ] || commit="unknown"
say "run_gpu_tests: $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $commit, seed $seed"
say "test program: $tests"
if command -v nvidia-smi > /dev/null; then
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,temperature.gpu,power.draw \
    --format=csv | tee -a "$log"
  nvidia-smi -q > "$out/nvidia-smi.txt" 2>&1
else
  say "nvidia-smi: not found"
fi

# Expand each argument to kernel directories.
dirs=()
for k in "${kernels[@]}"; do
  if [ -f "$k/flashc.json" ]; then
    dirs+=("$k")
  elif [ -d "$k" ]; then
    while IFS= read -r m; do dirs+=("$(dirname "$m")"); done \
      < <(find "$k" -mindepth 2 -maxdepth 2 -name flashc.json | sort)
  else
    say "run_gpu_tests: $k is neither a kernel directory nor a directory of them"
  fi
done
if [ ${#dirs[@]} -eq 0 ]; then
  say "run_gpu_tests: no kernel directories found"
  say "0 passed, 1 failed"
  exit 1
fi
say "kernel directories: ${#dirs[@]}"

# 1. The tests.
passed=0
failed=0
results=()
for d in "${dirs[@]}"; do
  name="$(basename "$d")"
  dlog="$out/tests/$name.log"
  start=$(date +%s.%N)
  "$tests" --seed "$seed" "$d" > "$dlog" 2>&1
  rc=$?
  secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  grep -E '^(PASS|FAIL|LOAD|ABORT|     reproduce)' "$dlog" >> "$log"
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$dlog" | tail -1)
  p=0; f=0
  if [ -n "$line" ]; then
    p=$(echo "$line" | awk '{print $1}')
    f=$(echo "$line" | awk '{print $3}')
  fi
  # A crash or a missing summary counts as a failure of the directory.
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1
    say "FAIL $name: flashc-gpu-tests exited with $rc without a failing case (crash?); see $dlog"
    tail -5 "$dlog" | tee -a "$log"
  fi
  passed=$((passed + p))
  failed=$((failed + f))
  results+=("{\"dir\": \"$name\", \"passed\": $p, \"failed\": $f, \"exit\": $rc, \"seconds\": ${secs:-0}}")
  say "== $name: $p passed, $f failed (${secs}s)"
done

# 2. compute-sanitizer on a subset.
sanitizer=""
for c in compute-sanitizer /usr/local/cuda/bin/compute-sanitizer; do
  if command -v "$c" > /dev/null 2>&1; then sanitizer="$(command -v "$c")"; break; fi
done
sanitizer_results=()
sanitizer_failed=0
if [ -z "$sanitizer" ]; then
  say "compute-sanitizer: not found on this machine; memcheck, racecheck and synccheck SKIPPED"
else
  subset=()
  preferred="${FLASHC_SANITIZE:-plain_bf16_d64 plain_bf16_d128 causal_br_bf16_d64 layout_bf16_d64 seqlens_qk_causal_br_bf16_d64 dropout_bf16_d64 grad_plain_bf16_d64 grad_layout_bf16_d64 grad_seqlens_bf16_d64 grad_plain_f16_d128 mock_combo_bf16_d64 mock_plain_bf16_d64 mock_dyn_f16_d256_dv128}"
  for d in "${dirs[@]}"; do
    for want in $preferred; do
      [ "$(basename "$d")" = "$want" ] && subset+=("$d")
    done
  done
  if [ ${#subset[@]} -eq 0 ]; then subset=("${dirs[@]:0:3}"); fi
  for tool in ${FLASHC_SANITIZE_TOOLS:-memcheck racecheck synccheck}; do
    for d in "${subset[@]}"; do
      name="$(basename "$d")"
      slog="$out/sanitizer/$tool-$name.log"
      "$sanitizer" --tool "$tool" --error-exitcode 99 "$tests" --seed "$seed" \
        --max-seq 100 "$d" > "$slog" 2>&1
      rc=$?
      summary=$(grep -E '(ERROR SUMMARY|RACECHECK SUMMARY|SYNCCHECK SUMMARY)' "$slog" | tail -1)
      if [ "$rc" -eq 0 ]; then
        say "SANITIZER PASS $tool $name: ${summary:-no errors}"
        sanitizer_results+=("{\"tool\": \"$tool\", \"dir\": \"$name\", \"ok\": true}")
      else
        sanitizer_failed=$((sanitizer_failed + 1))
        say "SANITIZER FAIL $tool $name (exit $rc): ${summary:-see log}; log $slog"
        grep -m 5 -E '=========  (Invalid|Race|Error|Program hit)' "$slog" | tee -a "$log"
        sanitizer_results+=("{\"tool\": \"$tool\", \"dir\": \"$name\", \"ok\": false, \"exit\": $rc}")
      fi
    done
  done
fi

gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
join() { local IFS=,; echo "$*"; }
cat > "$out/summary.json" <<EOF
{
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "commit": "$commit",
  "gpu": "${gpu:-unknown}",
  "seed": $seed,
  "passed": $passed,
  "failed": $failed,
  "sanitizer": "${sanitizer:-not found}",
  "sanitizer_failures": $sanitizer_failed,
  "directories": [$(join "${results[@]}")],
  "sanitizer_runs": [$(join "${sanitizer_results[@]+"${sanitizer_results[@]}"}")]
}
EOF
say "logs: $out"
say "$passed passed, $failed failed"
if [ "$failed" -ne 0 ] || [ "$sanitizer_failed" -ne 0 ]; then
  exit 1
fi
exit 0
