// RUN: flashc-opt %s -split-input-file -attn-select-tiles="block-q=32 block-k=16" -attn-tile-forward | FileCheck %s

// The forward kernel: a grid over (batch, head, query block), Q's tile loaded
// once, the running state initialised, a loop over the key blocks that mask
// analysis allows, the mask only on partial blocks, and one store of O/LSE.
// Every on-chip buffer is a tile; nothing is N x N.

// CHECK-LABEL: func.func @causal_fwd(
// CHECK-SAME: %[[Q:[^:]+]]: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
// CHECK-SAME: %[[LSE:[^:]+]]: memref<?x?x?xf32, strided<[?, ?, 1], offset: ?>>)
// CHECK-SAME: attn.kernel_info = {block_k = 16 : i64, block_q = 32 : i64}, attn.kernel_kind = "fwd", llvm.emit_c_interface
// CHECK: %[[NQB:.+]] = arith.ceildivui %{{.+}}, %{{.+}} : index
// CHECK: scf.forall (%[[B:.+]], %[[H:.+]], %[[QB:.+]]) in (%{{.+}}, %{{.+}}, %[[NQB]])
// CHECK: memref.alloca_scope
// CHECK: %[[QT:.+]] = memref.alloca() : memref<32x64xbf16>
// CHECK: attn.tile.load %[[Q]][%[[B]], %[[H]], %{{.+}}] rows %{{.+}} into %[[QT]]
// CHECK: attn.tile.fill %[[M:.+]], 0xFF800000 : memref<32xf32>
// CHECK: attn.tile.fill %{{.+}}, 0.000000e+00 : memref<32xf32>
// CHECK: attn.tile.fill %{{.+}}, 0.000000e+00 : memref<32x64xf32>
// CHECK: %[[S:.+]] = memref.alloca() : memref<32x16xf32>
// Causal bounds: hi = floor((last row + shift) / Bc) + 1.
// CHECK: arith.floordivsi
// CHECK: scf.for %[[J:.+]] = %{{.+}} to %[[HI:.+]] step
// CHECK: attn.tile.matmul %[[QT]], %{{.+}}, %[[S]] transpose_b alpha(1.250000e-01)
// CHECK: scf.if
// CHECK-NEXT: attn.tile.mask %[[S]] at [%[[B]], %[[H]], %{{.+}}, %{{.+}}] shift %{{.+}} bounds [%{{.+}}, %{{.+}}] causal
// CHECK: attn.tile.softmax_update %[[S]], %[[M]]
// CHECK: attn.tile.matmul %[[S]], %{{.+}}, %{{.+}} accumulate
// CHECK: attn.tile.finalize
// CHECK: attn.tile.store %{{.+}} into %[[LSE]]
// CHECK-NOT: memref<{{[0-9]+}}x{{[0-9]+}}x
func.func @causal(%q: tensor<2x4x100x64xbf16>, %k: tensor<2x4x100x64xbf16>, %v: tensor<2x4x100x64xbf16>) -> (tensor<2x4x100x64xbf16>, tensor<2x4x100xf32>) {
  %o, %lse = attn.attention %q, %k, %v causal : tensor<2x4x100x64xbf16>, tensor<2x4x100x64xbf16>, tensor<2x4x100x64xbf16> -> tensor<2x4x100x64xbf16>, tensor<2x4x100xf32>
  return %o, %lse : tensor<2x4x100x64xbf16>, tensor<2x4x100xf32>
}

// -----

// GQA: query head h reads KV head h / (Hq / Hkv).
// CHECK-LABEL: func.func @gqa_fwd(
// CHECK: %[[GROUP:.+]] = arith.divui %{{.+}}, %{{.+}} : index
// CHECK: scf.forall (%[[B:.+]], %[[H:.+]], %{{.+}}) in
// CHECK: %[[HK:.+]] = arith.divui %[[H]], %[[GROUP]] : index
// CHECK: attn.tile.load %{{.+}}[%[[B]], %[[HK]], %{{.+}}] rows
func.func @gqa(%q: tensor<1x8x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>) -> tensor<1x8x64x32xf32> {
  %o, %lse = attn.attention %q, %k, %v : tensor<1x8x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x8x64x32xf32>, tensor<1x8x64xf32>
  return %o : tensor<1x8x64x32xf32>
}

// -----

// A run-time layout: the loop walks the layout row's index list, and each
// listed layout block (64 wide) covers 64 / Bc = 4 key tiles.
// CHECK-LABEL: func.func @sparse_fwd(
// CHECK-SAME: %[[OFF:[^:]+]]: memref<?x?x?xi32>, %[[BLK:[^:]+]]: memref<?xi32>)
// CHECK-SAME: layout, layout_block_k = 64 : i64, layout_block_q = 64 : i64
// CHECK: %[[START:.+]] = memref.load %[[OFF]]
// CHECK: %[[END:.+]] = memref.load %[[OFF]]
// CHECK: scf.for %[[T:.+]] = %{{.+}} to %{{.+}} step
// CHECK: memref.load %[[BLK]][%[[T]]] : memref<?xi32>
// CHECK: arith.muli %{{.+}}, %c4
// CHECK: scf.for
// CHECK: attn.tile.softmax_update
func.func @sparse(%q: tensor<1x2x256x32xf16>, %k: tensor<1x2x256x32xf16>, %v: tensor<1x2x256x32xf16>, %l: tensor<1x2x4x4xi8>) -> tensor<1x2x256x32xf16> {
  %o, %lse = attn.attention %q, %k, %v layout(%l : tensor<1x2x4x4xi8>, block [64, 64]) : tensor<1x2x256x32xf16>, tensor<1x2x256x32xf16>, tensor<1x2x256x32xf16> -> tensor<1x2x256x32xf16>, tensor<1x2x256xf32>
  return %o : tensor<1x2x256x32xf16>
}

// -----

// Padding, modifiers, dropout and a custom mask: the kernel takes the
// optional arguments in ABI order; modifiers apply to every block, the custom
// mask region is carried into the partial-block mask.
// CHECK-LABEL: func.func @everything_fwd(
// CHECK-SAME: %[[SQ:[^:]+]]: memref<?xi32>, %[[SK:[^:]+]]: memref<?xi32>, %[[SEED:[^:]+]]: i64, %[[OFFSET:[^:]+]]: i64)
// CHECK-SAME: dropout, seqlens_k, seqlens_q
// CHECK: memref.load %[[SQ]]
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: attn.tile.score_mod %{{.+}} softcap(3.000000e+01) alibi
// CHECK: attn.tile.mask {{.+}} window(8, 2) mask {
// CHECK: arith.cmpi ne
// CHECK: attn.tile.softmax_update
// CHECK: attn.tile.dropout %{{.+}} seed %[[SEED]] offset %[[OFFSET]] prob(2.500000e-01)
func.func @everything(%q: tensor<3x2x50x16xf32>, %k: tensor<3x2x70x16xf32>, %v: tensor<3x2x70x8xf32>, %sq: tensor<3xi32>, %sk: tensor<3xi32>) -> tensor<3x2x50x8xf32> {
  %o, %lse = attn.attention %q, %k, %v seqlens_q(%sq : tensor<3xi32>) seqlens_k(%sk : tensor<3xi32>) window(8, 2) softcap(30.0) alibi dropout(0.25, seed 3) mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c5 = arith.constant 5 : index
    %r = arith.remui %j, %c5 : index
    %c0 = arith.constant 0 : index
    %keep = arith.cmpi ne, %r, %c0 : index
    attn.yield %keep : i1
  } : tensor<3x2x50x16xf32>, tensor<3x2x70x16xf32>, tensor<3x2x70x8xf32> -> tensor<3x2x50x8xf32>, tensor<3x2x50xf32>
  return %o : tensor<3x2x50x8xf32>
}

