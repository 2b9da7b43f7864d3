set -u
# gpu-flashc/fpkg.tar.xz: scripts/package-flashc.sh
tar xJf gpu-flashc/fpkg.tar.xz -C /tmp
export LD_LIBRARY_PATH=/tmp/fpkg/lib
F=/tmp/fpkg/flashc
log=$OUT/flashc-run-gpu.txt
run() { echo "\$ flashc run $*" >> $log; timeout 60 $F run "$@" >> $log 2>&1; echo "exit $?" >> $log; echo >> $log; }
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $log
run examples/causal.mlir
for e in training block_sparse padded_batch dropout gqa custom_score custom_mask softcap_alibi sliding_window; do run examples/$e.mlir --grad; done
run test/GPU/specs/plain_f32_d64.mlir --grad --seqlen-q 100 --seqlen-k 37
run test/GPU/specs/plain_bf16_d128.mlir --grad --seqlen-q 1 --seqlen-k 1
run test/GPU/specs/plain_bf16_d96.mlir --grad --seqlen-q 300 --seqlen-k 700
run test/GPU/specs/grad_combo_bf16_d128.mlir
run test/GPU/specs/combo_seqlens_layout_alibi_f16_d64.mlir --grad
run examples/causal.mlir --backend cpu
grep -c "^PASS" $log; grep -B3 "^exit [^0]" $log | head -40
