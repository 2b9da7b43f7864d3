# shellcheck shell=bash
# Sourced by fuzz/run-campaign.sh and scripts/sanitize.sh: libFuzzer's
# arguments for each fuzz target (paths relative to the repository root).
# shellcheck disable=SC2034  # used by the scripts that source this
declare -A FLASHC_FUZZ_ARGS=(
  [fuzz-spec]="-dict=fuzz/spec.dict"
  [fuzz-pipeline]="-dict=fuzz/spec.dict"
  [fuzz-spec-builder]="-max_len=512 -len_control=0"
  [fuzz-layout]=""
  [fuzz-runtime-args]="-dict=fuzz/manifest.dict"
  [fuzz-cli]="-dict=fuzz/spec.dict"
)
