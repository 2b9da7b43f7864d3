#!/usr/bin/env bash
# backward_variants.sh - the backward tile and dQ-form variants of session 6,
# compiled for bench/tune.py (on the build machine; the GPU machine has no
# MLIR). Each variant gets the four bench backward specs; a_def also the
# forward ones (tune.py takes O and LSE from the first variant's forward).
#
#   bench/backward_variants.sh [--flashc PATH] OUT_DIR
#
# a_def    the defaults
# b_mix    dK/dV kernel 64 queries x 128 keys (two warpgroups), dQ kernel
#          128 queries x 64 keys
# f_pfmix  b_mix with every kernel's loads prefetched (--prefetch-always)
# h_cs     dQ summed by the dK/dV kernel at 64 x 128 (all five matmuls on
#          wgmma, the pair's dQ split by columns over the warpgroups)
# i_pfcs   h_cs with --prefetch-always
# j_cspin  h_cs with --pin-thread-index (fragment addresses recomputed in
#          the loop instead of hoisted: D = 128 spills 652 -> 400 B)
# k_mixpin b_mix with --pin-thread-index
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
flashc="$here/build/bin/flashc"
if [ "${1:-}" = "--flashc" ]; then flashc="$2"; shift 2; fi
out="${1:?usage: $0 [--flashc PATH] OUT_DIR}"
compile() { # variant spec flags...
  local variant=$1 spec=$2; shift 2
  "$flashc" compile "$here/bench/specs/$spec.mlir" --target sm_90a "$@" \
    -o "$out/$variant/$spec" | grep -E "bwd_(dkdv|dq)  " || true
}
for d in 64 128; do
  for m in full causal; do
    compile a_def "fwd_d${d}_${m}"
    compile a_def "bwd_d${d}_${m}"
    mix=(--block-q 64 --block-k 128 --dq-block-q 128 --dq-block-k 64)
    compile b_mix "bwd_d${d}_${m}" "${mix[@]}"
    compile f_pfmix "bwd_d${d}_${m}" "${mix[@]}" --prefetch-always
    compile h_cs "bwd_d${d}_${m}" --sum-dq --block-q 64 --block-k 128
    compile i_pfcs "bwd_d${d}_${m}" --sum-dq --block-q 64 --block-k 128 \
      --prefetch-always
    compile j_cspin "bwd_d${d}_${m}" --sum-dq --block-q 64 --block-k 128 \
      --pin-thread-index
    compile k_mixpin "bwd_d${d}_${m}" "${mix[@]}" --pin-thread-index
  done
done
