#!/usr/bin/env bash
# The CPU backend against the float64 reference, for every spec of the shared
# feature matrix (test/GPU/specs: each feature and the useful combinations),
# forward and backward (--grad), at odd sizes: N = 1, Nq = 17 != Nk = 45, and
# Nq = 1000 != Nk = 777; fresh random inputs each time (seeds are printed).
# Tolerances are flashc run's: relative error <= 1e-5 for f32 inputs, <= 1e-2
# for f16/bf16 inputs; a NaN or a mismatched -inf LSE fails; every run is
# repeated on poisoned outputs and must come back bitwise identical.
#
# usage: cpu-matrix.sh FLASHC SPEC_DIR [JOBS]
set -uo pipefail
flashc=$1
specs=$2
jobs=${3:-2}
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

cases=()
for spec in "$specs"/*.mlir; do
  name=$(basename "$spec" .mlir)
  if grep -q 'tensor<[^>]*?' "$spec"; then
    # The large size runs one batch entry, so that the O(N^2) float64
    # reference stays within its budget for every head dimension.
    cases+=("$spec|--seqlen-q 1 --seqlen-k 1|$name.q1.k1")
    cases+=("$spec|--seqlen-q 17 --seqlen-k 45|$name.q17.k45")
    cases+=("$spec|--batch 1 --seqlen-q 1000 --seqlen-k 777|$name.q1000.k777")
  else
    cases+=("$spec||$name.static")
  fi
done

run_case() {
  IFS='|' read -r spec args id <<<"$1"
  # shellcheck disable=SC2086
  if "$flashc" run "$spec" $args --grad >"$log/$id.out" 2>&1; then
    echo "PASS $id"
  else
    echo "FAIL $id"
    sed 's/^/    /' "$log/$id.out"
  fi
}
export -f run_case
export flashc log

printf '%s\n' "${cases[@]}" | xargs -P "$jobs" -I{} bash -c 'run_case "$@"' _ {} \
  | tee "$log/summary"
passed=$(grep -c '^PASS' "$log/summary")
failed=$(grep -c '^FAIL' "$log/summary")
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
