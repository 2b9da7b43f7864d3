// RUN: flashc-opt %s -split-input-file --attn-tile=target=sm_90 --attn-drop-unread-tiles --attn-assign-register-tiles=chip=sm_90 | FileCheck %s

// Forward: the scores, the running max and sum, the accumulator and the LSE
// live in registers (private); Q, K and V stay in shared memory (no space
// yet). 64 query rows: 4 warps of one 16-row slab each.
// CHECK-LABEL: func.func @fwd_fwd
// CHECK-SAME: attn.warps = 4
// CHECK: %[[Q:.+]] = memref.alloca() : memref<64x64xbf16>
// CHECK: %[[M:.+]] = memref.alloca() : memref<64xf32, #gpu.address_space<private>>
// CHECK: %[[L:.+]] = memref.alloca() : memref<64xf32, #gpu.address_space<private>>
// CHECK: %[[ACC:.+]] = memref.alloca() : memref<64x64xf32, #gpu.address_space<private>>
// CHECK: memref.alloca() : memref<128x64xbf16>
// CHECK: memref.alloca() : memref<128x64xbf16>
// CHECK: %[[S:.+]] = memref.alloca() : memref<64x128xf32, #gpu.address_space<private>>
// CHECK: attn.tile.matmul %[[Q]], %{{.+}}, %[[S]] transpose_b
// CHECK: attn.tile.softmax_update %[[S]], %[[M]], %[[L]], %[[ACC]]
// CHECK: attn.tile.matmul %[[S]], %{{.+}}, %[[ACC]] accumulate
// CHECK: memref.alloca() : memref<64xf32, #gpu.address_space<private>>
func.func @fwd(%q: tensor<1x2x100x64xbf16>, %k: tensor<1x2x100x64xbf16>, %v: tensor<1x2x100x64xbf16>) -> (tensor<1x2x100x64xbf16>, tensor<1x2x100xf32>) {
  %o, %lse = attn.attention %q, %k, %v causal : tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16> -> tensor<1x2x100x64xbf16>, tensor<1x2x100xf32>
  return %o, %lse : tensor<1x2x100x64xbf16>, tensor<1x2x100xf32>
}

// -----

// Backward: dK and dV accumulate in registers. P and dS are the transposed
// A operands of dV += P^T dO and dK += dS^T Q, which only shared memory
// gives, so they (and the scores they come from) stay there; so does the
// row_dot result of bwd_prep. 128 key rows: 4 warps of two slabs each
// (128 f32 registers a thread; 4 warps come first: every B fragment then
// serves two slabs). The dQ kernel keeps S,
// dP, dQ and the LSE and D rows in registers (164 f32 a thread).
// CHECK-LABEL: func.func @bwd_bwd_prep
// CHECK-NOT: attn.warps
// CHECK-NOT: private
// CHECK-LABEL: func.func @bwd_bwd_dkdv
// CHECK-SAME: attn.warps = 4
// CHECK: %[[DK:.+]] = memref.alloca() : memref<128x64xf32, #gpu.address_space<private>>
// CHECK: %[[DV:.+]] = memref.alloca() : memref<128x64xf32, #gpu.address_space<private>>
// CHECK: %[[P:.+]] = memref.alloca() : memref<64x128xf32>
// CHECK: %[[DS:.+]] = memref.alloca() : memref<64x128xf32>
// CHECK: attn.tile.matmul %[[P]], %{{.+}}, %[[DV]] transpose_a accumulate
// CHECK: attn.tile.matmul %[[DS]], %{{.+}}, %[[DK]] transpose_a accumulate
// CHECK-LABEL: func.func @bwd_bwd_dq
// CHECK-SAME: attn.warps = 4
// CHECK-COUNT-3: memref<64x{{[0-9]+}}xf32, #gpu.address_space<private>>
func.func @bwd(%q: tensor<1x2x100x64xbf16>, %k: tensor<1x2x100x64xbf16>, %v: tensor<1x2x100x64xbf16>, %o: tensor<1x2x100x64xbf16>, %lse: tensor<1x2x100xf32>, %do: tensor<1x2x100x64xbf16>) -> (tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do : tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100xf32>, tensor<1x2x100x64xbf16> -> tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>
  return %dq, %dk, %dv : tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>
}
