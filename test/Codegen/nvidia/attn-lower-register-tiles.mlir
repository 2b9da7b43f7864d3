// RUN: flashc-opt %s -split-input-file -attn-lower-register-tiles -verify-diagnostics | FileCheck %s

// One forward step on register tiles in a CTA of 4 warps: 64 rows are one
// 16-row slab a warp, 16 columns two 8-column blocks. Each tile becomes a
// thread-private array of its fragments ([slab][block][c0..c3], rows
// [slab][g, g + 8]); QK^T and PV are two mma.sync each (PV's A operand
// from the P fragments, no ldmatrix), Q, K and V come through one ldmatrix
// each (V transposed); the row max and sum cross the quad with two xor
// shuffles (1, 2) per row half and reduction; exp2 for the 8 P elements
// and the 2 rescale factors; every held element of O (8) and row of LSE (2)
// is stored; no barrier anywhere.
// CHECK-LABEL: gpu.func @fwd
// CHECK-COUNT-2: memref.alloca() : memref<1x2xf32>
// CHECK-COUNT-2: memref.alloca() : memref<1x2x4xf32>
// CHECK: memref.alloca() : memref<1x2xf32>
// CHECK-NOT: attn.tile
// CHECK-NOT: gpu.barrier
// CHECK: nvgpu.ldmatrix %arg0{{.*}}transpose = false
// CHECK: nvgpu.ldmatrix %arg1{{.*}}transpose = false
// CHECK-COUNT-2: nvvm.mma.sync
// CHECK: gpu.shuffle xor %{{.+}}, %c1_i32
// CHECK: gpu.shuffle xor %{{.+}}, %c2_i32
// CHECK: math.exp2
// CHECK: nvgpu.ldmatrix %arg2{{.*}}transpose = true
// CHECK-COUNT-2: nvvm.mma.sync
// CHECK-NOT: nvvm.mma.sync
// CHECK: math.log
// CHECK-COUNT-8: memref.store %{{.+}}, %arg3
// CHECK-COUNT-2: memref.store %{{.+}}, %arg4
// CHECK-NOT: attn.tile
// CHECK-NOT: gpu.barrier
// CHECK: gpu.return
!q = memref<64x16xbf16, #gpu.address_space<workgroup>>
!kv = memref<16x16xbf16, #gpu.address_space<workgroup>>
!s = memref<64x16xf32, #gpu.address_space<private>>
!r = memref<64xf32, #gpu.address_space<private>>
!o = memref<?x?x?x16xbf16, strided<[?, ?, ?, 1], offset: ?>>
!l = memref<?x?x?xf32, strided<[?, ?, 1], offset: ?>>
gpu.module @m {
gpu.func @fwd(%q: !q, %k: !kv, %v: !kv, %out: !o, %lse_out: !l, %i: index) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
  %m = memref.alloca() : !r
  %l = memref.alloca() : !r
  %acc = memref.alloca() : !s
  %s = memref.alloca() : !s
  %lse = memref.alloca() : !r
  attn.tile.fill %m, 0xFF800000 : !r
  attn.tile.fill %l, 0.0 : !r
  attn.tile.fill %acc, 0.0 : !s
  attn.tile.matmul %q, %k, %s transpose_b alpha(0.25) : !q, !kv, !s
  attn.tile.softmax_update %s, %m, %l, %acc : !s, !r, !r, !s
  attn.tile.matmul %s, %v, %acc accumulate : !s, !kv, !s
  attn.tile.finalize %acc, %m, %l, %lse : !s, !r, !r, !r
  attn.tile.store %acc into %out[%i, %i, %i] rows %i : !s -> !o
  attn.tile.store %lse into %lse_out[%i, %i, %i] rows %i : !r -> !l
  gpu.return
}
}

// -----

!q = memref<64x64xbf16, #gpu.address_space<workgroup>>
!b = memref<64x16xf32, #gpu.address_space<private>>
!s = memref<64x16xf32, #gpu.address_space<private>>
gpu.module @m {
gpu.func @b_in_registers(%q: !q) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
  %acc = memref.alloca() : !s
  %b = memref.alloca() : !b
  // expected-error @+1 {{register matmul needs its accumulator in registers and B in shared memory}}
  attn.tile.matmul %q, %b, %acc : !q, !b, !s
  gpu.return
}
}

// -----

!s = memref<48x16xf32, #gpu.address_space<private>>
gpu.module @m {
gpu.func @rows(%i: index) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
  // expected-error @+1 {{register tile rows are not a multiple of 16 x the kernel's warps}}
  %acc = memref.alloca() : !s
  attn.tile.fill %acc, 0.0 : !s
  gpu.return
}
}

// -----

!s = memref<64x16xf32, #gpu.address_space<private>>
!r = memref<64xf32, #gpu.address_space<private>>
!w = memref<64x16xf32, #gpu.address_space<workgroup>>
gpu.module @m {
gpu.func @mixed(%acc: !w) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
  %s = memref.alloca() : !s
  %m = memref.alloca() : !r
  %l = memref.alloca() : !r
  // expected-error @+1 {{operand 'memref<64x16xf32, #gpu.address_space<workgroup>>' must be a register tile as well}}
  attn.tile.softmax_update %s, %m, %l, %acc : !s, !r, !r, !w
  gpu.return
}
}

// -----

// Transposed score tiles (the dK/dV kernel's S^T): element (r, c) is the
// score of query q0 + c and key k0 + r, so the mask compares q0 + the
// thread's column (2t) and k0 + its row (16 w + g); LSE and D are read from
// shared memory at the element's column, one load per held element (8).
// CHECK-LABEL: gpu.func @transposed
// CHECK-SAME: (%[[LSE:[^:]+]]: memref<16xf32, #gpu.address_space<workgroup>>, %[[D:[^:]+]]: memref<16xf32, #gpu.address_space<workgroup>>, %[[B:[^:]+]]: index, %[[H:[^:]+]]: index, %[[Q0:[^:]+]]: index, %[[K0:[^:]+]]: index, %[[N:[^:]+]]: index)
// CHECK: %[[T2:.+]] = arith.muli %{{.+}}, %c2{{[_0-9]*}} : index
// CHECK: %[[W16:.+]] = arith.muli %{{.+}}, %c16{{[_0-9]*}} : index
// CHECK-NEXT: %[[ROW:.+]] = arith.addi %[[W16]], %{{.+}} : index
// CHECK: %[[I:.+]] = arith.addi %[[Q0]], %[[T2]] : index
// CHECK-NEXT: %[[J:.+]] = arith.addi %[[K0]], %[[ROW]] : index
// CHECK-NEXT: arith.cmpi slt, %[[I]], %[[N]] : index
// CHECK-NEXT: arith.cmpi slt, %[[J]], %[[N]] : index
// CHECK-COUNT-8: memref.load %[[LSE]][%{{.+}}] : memref<16xf32, #gpu.address_space<workgroup>>
// CHECK-COUNT-8: memref.load %[[D]][%{{.+}}] : memref<16xf32, #gpu.address_space<workgroup>>
// CHECK-NOT: gpu.barrier
// CHECK: gpu.return
!s = memref<64x16xf32, #gpu.address_space<private>>
!c = memref<16xf32, #gpu.address_space<workgroup>>
gpu.module @m {
gpu.func @transposed(%lse: !c, %d: !c, %b: index, %h: index, %q0: index, %k0: index, %n: index) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
  %s = memref.alloca() : !s
  %dp = memref.alloca() : !s
  attn.tile.mask %s at [%b, %h, %q0, %k0] transposed shift %n bounds [%n, %n] causal : !s
  attn.tile.exp_lse %s, %lse transposed : !s, !c
  attn.tile.softmax_grad %s, %dp, %d transposed : !s, !s, !c
  gpu.return
}
}

// -----

!s = memref<64x64xf32, #gpu.address_space<private>>
!r = memref<64xf32, #gpu.address_space<private>>
gpu.module @m {
gpu.func @column_rows_in_registers() kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
  %s = memref.alloca() : !s
  %lse = memref.alloca() : !r
  // expected-error @+1 {{a 1-D tile read at the column must be in shared memory, and the tile written 2-D}}
  attn.tile.exp_lse %s, %lse transposed : !s, !r
  gpu.return
}
}
