// RUN: flashc-opt %s -split-input-file --attn-tile=target=sm_90 --attn-drop-unread-tiles --attn-assign-register-tiles=chip=sm_90 | FileCheck %s

// Forward: the scores, the running max and sum, the accumulator and the LSE
// live in registers (private); Q, K and V stay in shared memory (no space
// yet). 64 query rows: 4 warps of one 16-row slab each.
// The kernel records the f32 registers a thread spends on them where the
// most are live: S 64, O 32, max and sum 2 each (the LSE's 2 come after the
// loop, when S is dead).
// CHECK-LABEL: func.func @fwd_fwd
// CHECK-SAME: attn.register_tile_registers = 100
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

// Backward: the dK/dV kernel works on transposed scores (S^T = K Q^T), so
// P^T and dS^T have dK's and dV's key rows and feed dV += P^T dO and
// dK += dS^T Q from registers: all four of its 128-row f32 tiles live
// there. LSE and D are read per column and stay in shared memory, as does
// bwd_prep's row_dot result. At 4 warps (two slabs) the four tiles take
// 256 f32 a thread, over the budget; 8 warps of one slab take 128. The
// pair's dQ (64 query rows) is split by columns as well: each warp holds one
// slab of 32 of its 64 columns (16 f32, live after P^T and dS^T: the peak
// stays 128); it is only formed by a matmul, copied out and added. The copy
// of dS^T into its 16-bit tile is from registers. bwd_prep's zeros for
// dq_accum are a register tile; bwd_dq only converts dq_accum, through
// shared memory.
// CHECK-LABEL: func.func @bwd_bwd_prep
// CHECK-SAME: attn.register_tile_registers = 32
// CHECK: memref.alloca() : memref<64xf32>
// CHECK: %[[Z:.+]] = memref.alloca() : memref<64x64xf32, #gpu.address_space<private>>
// CHECK: attn.tile.fill %[[Z]]
// CHECK-LABEL: func.func @bwd_bwd_dkdv
// CHECK-SAME: attn.register_tile_registers = 128
// CHECK-SAME: attn.warps = 8
// CHECK: %[[DK:.+]] = memref.alloca() : memref<128x64xf32, #gpu.address_space<private>>
// CHECK: %[[DV:.+]] = memref.alloca() : memref<128x64xf32, #gpu.address_space<private>>
// CHECK: %[[LSE:.+]] = memref.alloca() : memref<64xf32>
// CHECK: %[[D:.+]] = memref.alloca() : memref<64xf32>
// CHECK: %[[P:.+]] = memref.alloca() : memref<128x64xf32, #gpu.address_space<private>>
// CHECK: %[[DS:.+]] = memref.alloca() : memref<128x64xf32, #gpu.address_space<private>>
// CHECK: %[[DST:.+]] = memref.alloca() : memref<128x64xbf16>
// CHECK: %[[DQ:.+]] = memref.alloca() : memref<64x64xf32, #gpu.address_space<private>>
// CHECK: attn.tile.exp_lse %[[P]], %[[LSE]] transposed
// CHECK: attn.tile.softmax_grad %[[P]], %[[DS]], %[[D]] transposed
// CHECK: attn.tile.matmul %[[P]], %{{.+}}, %[[DV]] accumulate
// CHECK: attn.tile.copy %[[DS]], %[[DST]] : memref<128x64xf32, #gpu.address_space<private>>, memref<128x64xbf16>
// CHECK: attn.tile.matmul %[[DS]], %{{.+}}, %[[DK]] accumulate
// CHECK: attn.tile.matmul %[[DST]], %{{.+}}, %[[DQ]] transpose_a
// CHECK-LABEL: func.func @bwd_bwd_dq
// CHECK-NOT: private
// CHECK-LABEL: func.func @bwd_softcap
func.func @bwd(%q: tensor<1x2x100x64xbf16>, %k: tensor<1x2x100x64xbf16>, %v: tensor<1x2x100x64xbf16>, %o: tensor<1x2x100x64xbf16>, %lse: tensor<1x2x100xf32>, %do: tensor<1x2x100x64xbf16>) -> (tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do : tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100xf32>, tensor<1x2x100x64xbf16> -> tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>
  return %dq, %dk, %dv : tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>
}

// -----

// Over the budget, tiles go back to shared memory scores first: at D = 128
// with softcap, the dK/dV kernel's S^T, dP^T and raw-score tiles (32 f32
// each at 4 warps) and dK, dV (64 each) are live together: 224 registers.
// The scores return to shared memory; dK, dV and the pair's dQ (64, live
// only after the scores) stay in registers (4 warps, 192 at the peak).
// CHECK-LABEL: func.func @bwd_softcap_bwd_dkdv
// CHECK-SAME: attn.register_tile_registers = 192
// CHECK-SAME: attn.warps = 4
// CHECK: %[[DK:.+]] = memref.alloca() : memref<64x128xf32, #gpu.address_space<private>>
// CHECK: %[[DV:.+]] = memref.alloca() : memref<64x128xf32, #gpu.address_space<private>>
// CHECK-NOT: memref<64x64xf32, #gpu.address_space<private>>
// CHECK: %[[DQ:.+]] = memref.alloca() : memref<64x128xf32, #gpu.address_space<private>>
// CHECK: attn.tile.matmul %{{.+}}, %{{.+}}, %[[DV]] accumulate : memref<64x64xf32>
// CHECK: attn.tile.matmul %{{.+}}, %{{.+}}, %[[DK]] accumulate alpha
// CHECK: attn.tile.matmul %{{.+}}, %{{.+}}, %[[DQ]] transpose_a
// CHECK-LABEL: func.func @bwd_softcap_bwd_dq
func.func @bwd_softcap(%q: tensor<1x2x100x128xbf16>, %k: tensor<1x2x100x128xbf16>, %v: tensor<1x2x100x128xbf16>, %o: tensor<1x2x100x128xbf16>, %lse: tensor<1x2x100xf32>, %do: tensor<1x2x100x128xbf16>) -> (tensor<1x2x100x128xbf16>, tensor<1x2x100x128xbf16>, tensor<1x2x100x128xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do softcap(30.0) : tensor<1x2x100x128xbf16>, tensor<1x2x100x128xbf16>, tensor<1x2x100x128xbf16>, tensor<1x2x100x128xbf16>, tensor<1x2x100xf32>, tensor<1x2x100x128xbf16> -> tensor<1x2x100x128xbf16>, tensor<1x2x100x128xbf16>, tensor<1x2x100x128xbf16>
  return %dq, %dk, %dv : tensor<1x2x100x128xbf16>, tensor<1x2x100x128xbf16>, tensor<1x2x100x128xbf16>
}
