#!/usr/bin/env bash
# A long local fuzzing campaign: each target in turn for a number of
# executions (or until a time limit), from its committed seed corpus plus
# what earlier campaigns found (kept in the work directory). Prints one
# markdown table row per target for fuzz/CAMPAIGN.md.
#
# Usage: fuzz/run-campaign.sh BUILD_DIR [TARGET...]
# Environment:
#   FLASHC_CAMPAIGN_RUNS     executions per target (default 1100000)
#   FLASHC_CAMPAIGN_SECONDS  time limit per target (default 7200)
#   FLASHC_CAMPAIGN_WORK     work directory (default BUILD_DIR/campaign)
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:?usage: fuzz/run-campaign.sh BUILD_DIR [TARGET...]}
shift
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(fuzz-spec fuzz-pipeline fuzz-layout fuzz-runtime-args fuzz-cli fuzz-spec-builder)
RUNS=${FLASHC_CAMPAIGN_RUNS:-1100000}
SECONDS_LIMIT=${FLASHC_CAMPAIGN_SECONDS:-7200}
WORK=${FLASHC_CAMPAIGN_WORK:-$BUILD_DIR/campaign}
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-22/bin/llvm-symbolizer

# shellcheck source=fuzz/targets.sh
source fuzz/targets.sh

status=0
for target in "${TARGETS[@]}"; do
  bin="$BUILD_DIR/bin/$target"
  [ -x "$bin" ] || { echo "campaign: no $bin" >&2; continue; }
  mkdir -p "$WORK/$target" "$WORK/artifacts"
  log="$WORK/$target.log"
  start=$(date +%s)
  # shellcheck disable=SC2086
  "$bin" ${FLASHC_FUZZ_ARGS[$target]} -runs="$RUNS" -max_total_time="$SECONDS_LIMIT" \
    -timeout=60 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$WORK/artifacts/$target-" \
    "$WORK/$target" "fuzz/corpus/$target" >"$log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  execs=$(LC_ALL=C awk '/^stat::number_of_executed_units/ {print $2}' "$log")
  cov=$(grep -aoE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  corp=$(grep -aoE 'corp: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  result="no crash"
  if [ $rc -ne 0 ]; then
    result="CRASH (see $log)"
    status=1
  fi
  echo "| $target | ${execs:-?} | ${secs}s | $(( ${execs:-0} / (secs > 0 ? secs : 1) )) | ${cov:-?} | ${corp:-?} | $result |"
done
exit $status
