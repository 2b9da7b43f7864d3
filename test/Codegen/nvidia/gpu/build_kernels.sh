#!/bin/sh
# Compiles the specs that check_kernels.py runs into kernel directories:
#   build_kernels.sh BUILD_DIR OUT_DIR [CHIP [FLAGS...]]
# (here, on a build machine; the GPU machine needs only OUT_DIR). FLAGS go
# to every flashc-nvidia call (e.g. --cta-threads 256).
set -e
build=$1
out=$2
chip=${3:-sm_90}
shift 3 2>/dev/null || shift $#
flags="$*"
here=$(cd "$(dirname "$0")" && pwd)
examples="$here/../../../../examples"
mkdir -p "$out"
compile() { # case spec [flags...]
  name=$1; spec=$2; shift 2
  "$build/bin/flashc-nvidia" "$spec" --chip "$chip" -o "$out/$name" "$@" \
    $flags > "$out/$name.txt"
}
for ex in causal gqa sliding_window softcap_alibi dropout custom_mask \
          custom_score padded_batch block_sparse training; do
  compile "$ex" "$examples/$ex.mlir"
done
for spec in odd_causal_d128 odd_causal_d128_grad f32_causal f32_causal_grad \
            mixed_fwd mixed_grad perf_causal_d64 perf_causal_d128 \
            perf_full_d128 perf_causal_d128_grad; do
  compile "$spec" "$here/specs/$spec.mlir"
done
cat "$out"/*.txt
