// RUN: flashc-opt %s -split-input-file -allow-unregistered-dialect -attn-drop-unread-tiles | FileCheck %s

// The raw-score copy that only a score_grad would read is dropped with its
// tile; the tiles that feed a store stay.
// CHECK-LABEL: func.func @k_bwd_dq(
// CHECK: %[[S:.+]] = memref.alloca() : memref<16x16xf32>
// CHECK-NOT: memref.alloca() : memref<16x16xf32>
// CHECK: attn.tile.fill %[[S]]
// CHECK-NOT: attn.tile.copy
// CHECK: attn.tile.store %[[S]]
func.func @k_bwd_dq(%out: memref<?x?x?x16xf32, strided<[?, ?, ?, 1], offset: ?>>, %i: index) attributes {attn.kernel_kind = "bwd_dq"} {
  %s = memref.alloca() : memref<16x16xf32>
  %raw = memref.alloca() : memref<16x16xf32>
  attn.tile.fill %s, 1.0 : memref<16x16xf32>
  attn.tile.copy %s, %raw : memref<16x16xf32>, memref<16x16xf32>
  attn.tile.mask %raw at [%i, %i, %i, %i] shift %i bounds [%i, %i] causal : memref<16x16xf32>
  attn.tile.store %s into %out[%i, %i, %i] rows %i : memref<16x16xf32> -> memref<?x?x?x16xf32, strided<[?, ?, ?, 1], offset: ?>>
  return
}

// -----

// A tile read by another op stays.
// CHECK-LABEL: func.func @read(
// CHECK: attn.tile.copy
// CHECK: attn.tile.row_dot
func.func @read(%i: index) attributes {attn.kernel_kind = "fwd"} {
  %a = memref.alloca() : memref<16x16xf32>
  %b = memref.alloca() : memref<16x16xf32>
  %d = memref.alloca() : memref<16xf32>
  attn.tile.fill %a, 1.0 : memref<16x16xf32>
  attn.tile.copy %a, %b : memref<16x16xf32>, memref<16x16xf32>
  attn.tile.row_dot %a, %b, %d : memref<16x16xf32>, memref<16x16xf32>, memref<16xf32>
  "test.use"(%d) : (memref<16xf32>) -> ()
  return
}
