// RUN: flashc-opt %s -split-input-file -attn-select-tiles="block-q=16 block-k=32" -attn-tile-backward | FileCheck %s
// RUN: flashc-opt %s -split-input-file -attn-select-tiles="block-q=16 block-k=32 dq-block-q=32 dq-block-k=16" -attn-tile-backward="sum-dq=false" | FileCheck %s --check-prefix=RECOMP

// Three kernels by recomputation: D = rowsum(dO * O) and zeros into the
// f32 dq_accum; dK/dV over a grid of KV blocks (query heads of the GQA group
// and query blocks looped on chip), each pair's dQ added into dq_accum;
// dQ = dq_accum over a grid of query blocks. No N x N buffer.

// CHECK-LABEL: func.func @train_bwd_prep(
// CHECK-SAME: %[[ACC:[^:]+]]: memref<?x?x?x64xf32, strided<[?, ?, ?, 1], offset: ?>>)
// CHECK-SAME: attn.kernel_kind = "bwd_prep"
// CHECK: scf.forall (%[[B:.+]], %[[H:.+]], %[[QB:.+]]) in
// CHECK: attn.tile.row_dot %{{.+}}, %{{.+}}, %[[D:.+]] : memref<16x64xf16>, memref<16x64xf16>, memref<16xf32>
// CHECK: attn.tile.store %[[D]] into
// CHECK: attn.tile.fill %[[Z:.+]], 0.0
// CHECK: attn.tile.store %[[Z]] into %[[ACC]][%[[B]], %[[H]], %{{.+}}] rows %{{.+}} : memref<16x64xf32>

// CHECK-LABEL: func.func @train_bwd_dkdv(
// CHECK-SAME: attn.kernel_kind = "bwd_dkdv"
// CHECK: scf.forall (%[[B:.+]], %[[HK:.+]], %[[KB:.+]]) in
// CHECK: %[[DK:.+]] = memref.alloca() : memref<32x64xf32>
// CHECK: %[[DV:.+]] = memref.alloca() : memref<32x64xf32>
// CHECK: scf.for %[[G:.+]] = %{{.+}} to %[[GROUP:.+]] step
// Causal seen from a key block: query blocks from floor((k0 - shift) / Br).
// The scores are transposed (S^T = K Q^T, Bc x Br): P^T and dS^T have the
// key rows of dK and dV, so neither product transposes its A operand.
// CHECK: scf.for %[[I:.+]] = %{{.+}} to %{{.+}} step
// CHECK: attn.tile.matmul %[[KT:.+]], %[[QT:.+]], %[[PROBS:.+]] transpose_b alpha(1.250000e-01) : memref<32x64xf16>, memref<16x64xf16>, memref<32x16xf32>
// CHECK: attn.tile.mask %[[PROBS]] at [{{.+}}] transposed shift
// CHECK: attn.tile.exp_lse %[[PROBS]], %{{.+}} transposed : memref<32x16xf32>, memref<16xf32>
// CHECK: attn.tile.matmul %[[VT:.+]], %[[DOT:.+]], %[[DP:.+]] transpose_b : memref<32x64xf16>, memref<16x64xf16>, memref<32x16xf32>
// CHECK: attn.tile.softmax_grad %[[PROBS]], %[[DP]], %{{.+}} transposed : memref<32x16xf32>, memref<32x16xf32>, memref<16xf32>
// CHECK: attn.tile.matmul %[[PROBS]], %[[DOT]], %[[DV]] accumulate : memref<32x16xf32>, memref<16x64xf16>, memref<32x64xf32>
// dQ of the pair: dS^T in f16 read transposed (dS K), added into dq_accum.
// CHECK: attn.tile.copy %[[DP]], %[[DST:.+]] : memref<32x16xf32>, memref<32x16xf16>
// CHECK: attn.tile.matmul %[[DP]], %[[QT]], %[[DK]] accumulate alpha(1.250000e-01) : memref<32x16xf32>, memref<16x64xf16>, memref<32x64xf32>
// CHECK: attn.tile.matmul %[[DST]], %[[KT]], %[[DQ:.+]] transpose_a alpha(1.250000e-01) : memref<32x16xf16>, memref<32x64xf16>, memref<16x64xf32>
// CHECK: attn.tile.copy %[[DQ]], %[[STAGED:.+]] : memref<16x64xf32>, memref<16x64xf32>
// CHECK: attn.tile.store %[[STAGED]] into %{{.+}}[%[[B]], %{{.+}}, %{{.+}}] rows %{{.+}} accumulate : memref<16x64xf32>
// CHECK: attn.tile.store %[[DK]] into %{{.+}}[%[[B]], %[[HK]],
// CHECK-NOT: accumulate :

// CHECK-LABEL: func.func @train_bwd_dq(
// CHECK-SAME: %[[ACC:[^:]+]]: memref<?x?x?x64xf32, strided<[?, ?, ?, 1], offset: ?>>, %[[OUT:[^:]+]]: memref<?x?x?x64xf16
// CHECK-SAME: attn.kernel_kind = "bwd_dq"
// CHECK: scf.forall (%[[B:.+]], %[[H:.+]], %[[QB:.+]]) in
// CHECK: attn.tile.load %[[ACC]][%[[B]], %[[H]], %[[Q0:.+]]] rows %[[R:.+]] into %[[T:.+]] :
// CHECK: attn.tile.store %[[T]] into %[[OUT]][%[[B]], %[[H]], %[[Q0]]] rows %[[R]] :
// CHECK-NOT: attn.tile.matmul
// Recomputation (sum-dq=false), bwd_dq with tiles of its own: the dK/dV
// kernel fixes a 32-row key tile and walks 16-row query tiles, the dQ kernel
// fixes a 32-row query tile and walks 16-row key tiles, recomputing S and dP.
// RECOMP-LABEL: func.func @train_bwd_dkdv(
// RECOMP-SAME: attn.kernel_info = {block_k = 32 : i64, block_q = 16 : i64}
// RECOMP: attn.tile.matmul %{{.+}}, %{{.+}}, %{{.+}} transpose_b alpha(1.250000e-01) : memref<32x64xf16>, memref<16x64xf16>, memref<32x16xf32>
// RECOMP-NOT: attn.tile.store {{.*}} accumulate
// RECOMP-LABEL: func.func @train_bwd_dq(
// RECOMP-SAME: attn.kernel_info = {block_k = 16 : i64, block_q = 32 : i64}
// RECOMP: attn.tile.load %{{.+}} into %[[QT:.+]] : {{.+}} -> memref<32x64xf16>
// RECOMP: %[[DQ:.+]] = memref.alloca() : memref<32x64xf32>
// RECOMP: scf.for
// RECOMP: attn.tile.load %{{.+}} into %[[KT:.+]] : {{.+}} -> memref<16x64xf16>
// RECOMP: attn.tile.matmul %[[QT]], %[[KT]], %[[S:.+]] transpose_b alpha(1.250000e-01) : memref<32x64xf16>, memref<16x64xf16>, memref<32x16xf32>
// RECOMP: attn.tile.exp_lse %[[S]]
// RECOMP: attn.tile.softmax_grad %[[S]], %[[DP:.+]], %{{.+}} : memref<32x16xf32>
// RECOMP: attn.tile.matmul %[[DP]], %[[KT]], %[[DQ]] accumulate alpha(1.250000e-01) : memref<32x16xf32>, memref<16x64xf16>, memref<32x64xf32>
// RECOMP: attn.tile.store %[[DQ]] into
func.func @train(%q: tensor<1x4x64x64xf16>, %k: tensor<1x2x64x64xf16>, %v: tensor<1x2x64x64xf16>, %o: tensor<1x4x64x64xf16>, %lse: tensor<1x4x64xf32>, %do: tensor<1x4x64x64xf16>) -> tensor<1x4x64x64xf16> {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do causal : tensor<1x4x64x64xf16>, tensor<1x2x64x64xf16>, tensor<1x2x64x64xf16>, tensor<1x4x64x64xf16>, tensor<1x4x64xf32>, tensor<1x4x64x64xf16> -> tensor<1x4x64x64xf16>, tensor<1x2x64x64xf16>, tensor<1x2x64x64xf16>
  return %dq : tensor<1x4x64x64xf16>
}

// -----

// Dropout is regenerated for P (into a copy used for dV) and for dP with the
// same coordinates; score modifiers are differentiated through score_grad on
// the raw scores.
// CHECK-LABEL: func.func @mods_bwd_dkdv(
// CHECK: attn.tile.copy %[[S:.+]], %[[RAW:.+]] :
// CHECK: attn.tile.score_mod %[[S]] at [{{.+}}] transposed shift
// CHECK: attn.tile.copy %[[S]], %[[PZ:.+]] :
// CHECK: attn.tile.dropout %[[PZ]] at [%[[B:.+]], %[[H:.+]], %[[Q0:.+]], %[[K0:.+]]] transposed heads
// CHECK: attn.tile.dropout %[[DP:.+]] at [%[[B]], %[[H]], %[[Q0]], %[[K0]]] transposed heads
// CHECK: attn.tile.score_grad %[[DP]], %[[RAW]] at [{{.+}}] transposed shift {{.+}} softcap(5.000000e+01)
// CHECK: attn.tile.matmul %[[PZ]], %{{.+}} accumulate :
// dQ from the same dS^T (dropped, and through the modifiers' derivative).
// CHECK: attn.tile.copy %[[DP]], %{{.+}} : memref<32x16xf32>, memref<32x16xf16>
func.func @mods(%q: tensor<1x1x32x64xf16>, %k: tensor<1x1x32x64xf16>, %v: tensor<1x1x32x64xf16>, %o: tensor<1x1x32x64xf16>, %lse: tensor<1x1x32xf32>, %do: tensor<1x1x32x64xf16>) -> tensor<1x1x32x64xf16> {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do softcap(50.0) dropout(0.5, seed 1) : tensor<1x1x32x64xf16>, tensor<1x1x32x64xf16>, tensor<1x1x32x64xf16>, tensor<1x1x32x64xf16>, tensor<1x1x32xf32>, tensor<1x1x32x64xf16> -> tensor<1x1x32x64xf16>, tensor<1x1x32x64xf16>, tensor<1x1x32x64xf16>
  return %dq : tensor<1x1x32x64xf16>
}
