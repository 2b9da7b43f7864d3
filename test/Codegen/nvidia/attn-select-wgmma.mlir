// RUN: flashc-opt %s -split-input-file --attn-tile=target=sm_90a --attn-drop-unread-tiles --attn-assign-register-tiles=chip=sm_90a --attn-pipeline-tile-loads=chip=sm_90a --attn-select-wgmma=chip=sm_90a | FileCheck %s
// RUN: flashc-opt %s -split-input-file --attn-tile=target=sm_90 --attn-drop-unread-tiles --attn-assign-register-tiles=chip=sm_90 --attn-pipeline-tile-loads=chip=sm_90 --attn-select-wgmma=chip=sm_90 | FileCheck %s --check-prefix=SM90
// RUN: flashc-opt %s -split-input-file --attn-tile="target=sm_90a block-q=128 block-k=64" --attn-drop-unread-tiles --attn-assign-register-tiles=chip=sm_90a --attn-pipeline-tile-loads=chip=sm_90a --attn-select-wgmma=chip=sm_90a | FileCheck %s --check-prefix=TUNED

// sm_90 has no wgmma: nothing is marked.
// SM90-NOT: attn.wgmma
// SM90-NOT: attn.swizzled_128b

// Forward, D = 64: both matmuls have their accumulator in registers (S, O)
// and 64-column bf16 tiles in shared memory: they run on wgmma, and Q, K, V
// and the double buffers of K and V are stored swizzled (every use of them
// is a tile.load or one of these matmuls).
// CHECK-LABEL: func.func @fwd_fwd
// CHECK-SAME: attn.swizzled_128b
// CHECK: %[[Q:.+]] = memref.alloca() {attn.swizzled_128b} : memref<64x64xbf16>
// CHECK-COUNT-4: memref.alloca() {attn.swizzled_128b} : memref<128x64xbf16>
// CHECK: attn.tile.matmul %[[Q]], %{{.+}}, %{{.+}} transpose_b alpha({{.+}}) {attn.wgmma}
// CHECK: attn.tile.matmul %{{.+}}, %{{.+}}, %{{.+}} accumulate {attn.wgmma}
func.func @fwd(%q: tensor<1x2x100x64xbf16>, %k: tensor<1x2x100x64xbf16>, %v: tensor<1x2x100x64xbf16>) -> (tensor<1x2x100x64xbf16>, tensor<1x2x100xf32>) {
  %o, %lse = attn.attention %q, %k, %v causal : tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16> -> tensor<1x2x100x64xbf16>, tensor<1x2x100xf32>
  return %o, %lse : tensor<1x2x100x64xbf16>, tensor<1x2x100xf32>
}

// -----

// D = 96: a row of Q, K or V is not a whole number of 128-byte swizzle
// atoms: mma.sync stays.
// CHECK-LABEL: func.func @fwd96_fwd
// CHECK-NOT: attn.swizzled_128b
// CHECK-NOT: attn.wgmma
// CHECK: return
func.func @fwd96(%q: tensor<1x2x100x96xbf16>, %k: tensor<1x2x100x96xbf16>, %v: tensor<1x2x100x96xbf16>) -> (tensor<1x2x100x96xbf16>, tensor<1x2x100xf32>) {
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x100x96xbf16>, tensor<1x2x100x96xbf16>, tensor<1x2x100x96xbf16> -> tensor<1x2x100x96xbf16>, tensor<1x2x100xf32>
  return %o, %lse : tensor<1x2x100x96xbf16>, tensor<1x2x100xf32>
}

// -----

// Backward: bwd_prep and bwd_dq have no matmul. In the dK/dV kernel at the
// tuned 128 x 64 tiles (TUNED) all five matmuls run on wgmma: S^T = K Q^T
// and dP^T = V dO^T read Q and dO K-major, dV += P^T dO and dK += dS^T Q
// read them MN-major (the same swizzled bytes), and the pair's dQ = dS K
// reads the copy of dS^T as an MN-major A and K as an MN-major B.
// TUNED-LABEL: func.func @bwd_bwd_dkdv
// TUNED-SAME: attn.swizzled_128b
// TUNED: %[[K:.+]] = memref.alloca() {attn.swizzled_128b} : memref<64x64xbf16>
// TUNED: %[[V:.+]] = memref.alloca() {attn.swizzled_128b} : memref<64x64xbf16>
// TUNED: %[[Q:.+]] = memref.alloca() {attn.swizzled_128b} : memref<128x64xbf16>
// TUNED: %[[DO:.+]] = memref.alloca() {attn.swizzled_128b} : memref<128x64xbf16>
// TUNED: %[[P:.+]] = memref.alloca() : memref<64x128xf32, #gpu.address_space<private>>
// TUNED: %[[DS:.+]] = memref.alloca() : memref<64x128xf32, #gpu.address_space<private>>
// TUNED: %[[DST:.+]] = memref.alloca() {attn.swizzled_128b} : memref<64x128xbf16>
// TUNED: %[[DQ:.+]] = memref.alloca() : memref<128x64xf32, #gpu.address_space<private>>
// TUNED: attn.tile.matmul %[[K]], %[[Q]], %{{.+}} transpose_b alpha({{.+}}) {attn.wgmma}
// TUNED: attn.tile.matmul %[[V]], %[[DO]], %[[DS]] transpose_b {attn.wgmma}
// TUNED: attn.tile.matmul %[[P]], %[[DO]], %{{.+}} accumulate {attn.wgmma}
// TUNED: attn.tile.copy %[[DS]], %[[DST]]
// TUNED: attn.tile.matmul %[[DS]], %[[Q]], %{{.+}} accumulate alpha({{.+}}) {attn.wgmma}
// TUNED: attn.tile.matmul %[[DST]], %[[K]], %[[DQ]] transpose_a alpha({{.+}}) {attn.wgmma}
// TUNED-LABEL: func.func @bwd_bwd_dq
// At the default 64 x 128 tiles the dK/dV kernel runs 8 warps over its 128
// key rows (two warpgroups), and the pair's dQ (64 query rows) is split by
// columns: warpgroup g forms columns [32 g, 32 g + 32) on wgmma (B from
// half an atom of K, MN-major). All five matmuls run on wgmma.
// CHECK-LABEL: func.func @bwd_bwd_prep
// CHECK-NOT: attn.swizzled_128b
// CHECK-LABEL: func.func @bwd_bwd_dkdv
// CHECK-SAME: attn.swizzled_128b
// CHECK: %[[K:.+]] = memref.alloca() {attn.swizzled_128b} : memref<128x64xbf16>
// CHECK: %[[V:.+]] = memref.alloca() {attn.swizzled_128b} : memref<128x64xbf16>
// CHECK: %[[Q:.+]] = memref.alloca() {attn.swizzled_128b} : memref<64x64xbf16>
// CHECK: %[[DO:.+]] = memref.alloca() {attn.swizzled_128b} : memref<64x64xbf16>
// CHECK: %[[DQ:.+]] = memref.alloca() : memref<64x64xf32, #gpu.address_space<private>>
// CHECK: attn.tile.matmul %[[K]], %[[Q]], %{{.+}} transpose_b alpha({{.+}}) {attn.wgmma}
// CHECK: attn.tile.matmul %[[V]], %[[DO]], %{{.+}} transpose_b {attn.wgmma}
// CHECK: attn.tile.matmul %{{.+}}, %[[DO]], %{{.+}} accumulate {attn.wgmma}
// CHECK: attn.tile.matmul %{{.+}}, %[[Q]], %{{.+}} accumulate alpha({{.+}}) {attn.wgmma}
// CHECK: attn.tile.matmul %{{.+}}, %[[K]], %[[DQ]] transpose_a alpha({{.+}}) {attn.wgmma}
// CHECK-LABEL: func.func @bwd_bwd_dq
// CHECK-NOT: attn.swizzled_128b
// CHECK: return
func.func @bwd(%q: tensor<1x2x100x64xbf16>, %k: tensor<1x2x100x64xbf16>, %v: tensor<1x2x100x64xbf16>, %o: tensor<1x2x100x64xbf16>, %lse: tensor<1x2x100xf32>, %do: tensor<1x2x100x64xbf16>) -> (tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do : tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100xf32>, tensor<1x2x100x64xbf16> -> tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>
  return %dq, %dk, %dv : tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>
}
