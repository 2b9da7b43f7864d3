// RUN: flashc-opt %s -split-input-file -attn-lower-register-tiles -verify-diagnostics | FileCheck %s
// RUN: flashc-opt %s -split-input-file -attn-lower-register-tiles=pin-thread-index=1 -verify-diagnostics | FileCheck %s --check-prefix=PIN

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

// -----

// Matmuls marked for wgmma (attn-select-wgmma) on 128-byte-swizzled tiles:
// the 4 warps are one warpgroup and the 64 rows one m64 block. S = Q K^T
// issues 4 k16 steps with both operands by descriptor (K-major: leading
// offset 1, stride 1024 B = 64, swizzle mode 1 in bits 62-63); O += P V
// takes A from the P fragments (four 32-bit registers) and V N-major (the
// leading offset steps a 64-column atom: 64 rows x 128 B = 8192 B). Each
// group is fenced, committed and waited for, and its 32 results pinned
// after the wait.
// CHECK-LABEL: gpu.func @wgmma
// CHECK: nvvm.wgmma.fence.aligned
// CHECK: arith.constant 4611686293305360384 : i64
// CHECK-COUNT-4: llvm.inline_asm has_side_effects asm_dialect = att "{{.*}}wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{.*}}}, $64, $65, p, 1, 1, 0, 0;{{.*}}", "{{.*}},31,l,l,r,~{memory}"
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-COUNT-32: llvm.inline_asm has_side_effects asm_dialect = att "", "=f,0,~{memory}"
// CHECK: nvvm.wgmma.fence.aligned
// CHECK: arith.constant 4611686293338849280 : i64
// CHECK-COUNT-4: llvm.inline_asm has_side_effects asm_dialect = att "{{.*}}wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{.*}}}, {$64, $65, $66, $67}, $68, p, 1, 1, 1;{{.*}}", "{{.*}},31,r,r,r,r,l,r,~{memory}"
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-COUNT-32: llvm.inline_asm has_side_effects asm_dialect = att "", "=f,0,~{memory}"
// CHECK-NOT: nvvm.mma.sync
// CHECK: gpu.return
!q = memref<64x64xbf16, #gpu.address_space<workgroup>>
!kv = memref<64x64xbf16, #gpu.address_space<workgroup>>
!s = memref<64x64xf32, #gpu.address_space<private>>
gpu.module @m {
gpu.func @wgmma(%i: index) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
  %c0 = arith.constant 0 : index
  %c8192 = arith.constant 8192 : index
  %c16384 = arith.constant 16384 : index
  %buf = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
  %q = memref.view %buf[%c0][] {attn.swizzled_128b} : memref<?xi8, #gpu.address_space<workgroup>> to !q
  %k = memref.view %buf[%c8192][] {attn.swizzled_128b} : memref<?xi8, #gpu.address_space<workgroup>> to !kv
  %v = memref.view %buf[%c16384][] {attn.swizzled_128b} : memref<?xi8, #gpu.address_space<workgroup>> to !kv
  %s = memref.alloca() : !s
  %acc = memref.alloca() : !s
  attn.tile.fill %acc, 0.0 : !s
  attn.tile.matmul %q, %k, %s transpose_b alpha(0.25) {attn.wgmma} : !q, !kv, !s
  attn.tile.matmul %s, %v, %acc accumulate {attn.wgmma} : !s, !kv, !s
  gpu.return
}
}

// -----

!q = memref<64x64xbf16, #gpu.address_space<workgroup>>
!s = memref<64x64xf32, #gpu.address_space<private>>
gpu.module @m {
gpu.func @swizzled_without_wgmma(%i: index) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
  %c0 = arith.constant 0 : index
  %buf = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
  %q = memref.view %buf[%c0][] {attn.swizzled_128b} : memref<?xi8, #gpu.address_space<workgroup>> to !q
  %s = memref.alloca() : !s
  // expected-error @+1 {{a swizzled tile is read only by wgmma}}
  attn.tile.matmul %q, %q, %s transpose_b : !q, !q, !s
  gpu.return
}
}

// -----

// A pair's dQ in the dK/dV kernel: dS^T (a register tile, key rows) is
// copied into its 16-bit shared tile, swizzled (each thread writes its
// column pairs: 16 blocks x 2 row halves), and read back transposed as the
// A of dQ = dS K: an MN-major descriptor, trans-a 1 (B, K as [K][N], is
// MN-major too). The product is only stored (added into dq_accum), so it
// is formed and stored 64 columns at a time: per chunk 4 k16 steps x 2
// 64-row blocks of m64n64k16, then the chunk's 64 atomic adds a thread.
// CHECK-LABEL: gpu.func @pair_dq
// CHECK: arith.xori
// CHECK-COUNT-32: vector.store %{{.+}}, %{{.+}}[%{{.+}}, %{{.+}}] : memref<64x128xbf16, #gpu.address_space<workgroup>>, vector<2xbf16>
// CHECK: nvvm.wgmma.fence.aligned
// CHECK-COUNT-8: llvm.inline_asm has_side_effects asm_dialect = att "{{.*}}wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{.*}}}, $64, $65, p, 1, 1, 1, 1;{{.*}}"
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-COUNT-64: memref.atomic_rmw addf
// CHECK: nvvm.wgmma.fence.aligned
// CHECK-COUNT-8: llvm.inline_asm has_side_effects asm_dialect = att "{{.*}}wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{.*}}}, $64, $65, p, 1, 1, 1, 1;{{.*}}"
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-COUNT-64: memref.atomic_rmw addf
// CHECK-NOT: memref.atomic_rmw
// CHECK-NOT: wgmma.mma_async
// CHECK: gpu.return
!dst = memref<64x128xbf16, #gpu.address_space<workgroup>>
!k = memref<64x128xbf16, #gpu.address_space<workgroup>>
!ds = memref<64x128xf32, #gpu.address_space<private>>
!dq = memref<128x128xf32, #gpu.address_space<private>>
!acc = memref<?x?x?x128xf32, strided<[?, ?, ?, 1], offset: ?>>
gpu.module @m {
gpu.func @pair_dq(%out: !acc, %i: index) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
  %c0 = arith.constant 0 : index
  %c16384 = arith.constant 16384 : index
  %buf = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
  %dst = memref.view %buf[%c0][] {attn.swizzled_128b} : memref<?xi8, #gpu.address_space<workgroup>> to !dst
  %k = memref.view %buf[%c16384][] {attn.swizzled_128b} : memref<?xi8, #gpu.address_space<workgroup>> to !k
  %ds = memref.alloca() : !ds
  %dq = memref.alloca() : !dq
  attn.tile.fill %ds, 1.0 : !ds
  attn.tile.copy %ds, %dst : !ds, !dst
  attn.tile.matmul %dst, %k, %dq transpose_a alpha(0.125) {attn.wgmma} : !dst, !k, !dq
  attn.tile.store %dq into %out[%i, %i, %i] rows %i accumulate : !dq -> !acc
  gpu.return
}
}

// -----

// A tile of fewer rows than 16 x the warps, split by columns (two
// warpgroups, 64 rows): warp w holds slab w % 4 of columns [32 (w / 4),
// 32 (w / 4) + 32), 4 blocks. Its wgmma is m64n32k16 over K = 128 (8 k16
// steps): B (K, MN-major) from the group's first column, 64 bytes into the
// atom's rows; the store writes the group's columns: 16 elements a thread.
// With pin-thread-index, the thread index of each op's fragment
// coordinates comes from an opaque asm (LLVM does not hoist what depends on
// it out of loops), not gpu.thread_id.
// PIN-LABEL: gpu.func @column_groups
// PIN-NOT: gpu.thread_id
// PIN: llvm.inline_asm has_side_effects asm_dialect = att "mov.u32 $0, %tid.x;", "=r"  : () -> i32
// PIN-NOT: gpu.thread_id
// PIN: gpu.return
// CHECK-LABEL: gpu.func @column_groups
// CHECK: memref.alloca() : memref<1x4x4xf32>
// CHECK: %[[TID:.+]] = gpu.thread_id x
// CHECK: %[[W:.+]] = arith.divui %[[TID]], %{{.+}} : index
// CHECK: %[[G:.+]] = arith.divui %[[W]], %c4{{.*}} : index
// CHECK: %[[COL0:.+]] = arith.muli %[[G]], %c32{{.*}} : index
// CHECK: nvvm.wgmma.fence.aligned
// CHECK: %[[IN:.+]] = arith.remui %[[COL0]], %c64{{.*}} : index
// CHECK: arith.muli %[[IN]], %c2{{.*}} : index
// CHECK-COUNT-8: wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-COUNT-16: memref.store %{{.+}}, %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}] : memref<?x?x?x64xf32
// CHECK-NOT: memref.store
// CHECK: gpu.return
!dst = memref<128x64xbf16, #gpu.address_space<workgroup>>
!k = memref<128x64xbf16, #gpu.address_space<workgroup>>
!dq = memref<64x64xf32, #gpu.address_space<private>>
!out = memref<?x?x?x64xf32, strided<[?, ?, ?, 1], offset: ?>>
gpu.module @m {
gpu.func @column_groups(%out: !out, %i: index) kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
  %c0 = arith.constant 0 : index
  %c16384 = arith.constant 16384 : index
  %buf = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
  %dst = memref.view %buf[%c0][] {attn.swizzled_128b} : memref<?xi8, #gpu.address_space<workgroup>> to !dst
  %k = memref.view %buf[%c16384][] {attn.swizzled_128b} : memref<?xi8, #gpu.address_space<workgroup>> to !k
  %dq = memref.alloca() : !dq
  attn.tile.matmul %dst, %k, %dq transpose_a alpha(0.125) {attn.wgmma} : !dst, !k, !dq
  attn.tile.store %dq into %out[%i, %i, %i] rows %i : !dq -> !out
  gpu.return
}
}
