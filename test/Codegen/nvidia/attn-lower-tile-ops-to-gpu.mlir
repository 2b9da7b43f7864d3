// RUN: flashc-opt %s -split-input-file -attn-lower-tile-ops-to-gpu=chip=sm_90 | FileCheck %s

!g = memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
!t = memref<64x64xbf16, strided<[72, 1]>, #gpu.address_space<workgroup>>

// tile.load: 256 threads, 16 bytes (8 bf16) each with cp.async, when the
// tensor's pointer, offset and strides allow it, else element by element;
// rows at or past min(rows, 64, N - row0) get zeros (a copy of 0 source
// elements) and are never read. The copies are committed, and waited for
// at the next barrier.
// CHECK-LABEL: gpu.func @load
// CHECK: %[[TID:.+]] = gpu.thread_id x
// CHECK: %[[N:.+]] = memref.dim %{{.+}}, %c2{{.*}} :
// CHECK: %[[AVAIL:.+]] = arith.subi %[[N]], %[[ROW0:[^ ]+]] : index
// CHECK: arith.minsi
// CHECK: arith.minsi %{{.+}}, %[[AVAIL]]
// CHECK: %[[ROWS:.+]] = arith.maxsi
// CHECK: memref.extract_strided_metadata
// CHECK: memref.extract_aligned_pointer_as_index
// CHECK: scf.if
// CHECK: scf.for %{{.+}} = %c0{{(_[0-9]+)?}} to %c2{{(_[0-9]+)?}} step %c1{{(_[0-9]+)?}}
// CHECK: %[[IN:.+]] = arith.cmpi slt, %{{.+}}, %[[ROWS]] : index
// CHECK: %[[COUNT:.+]] = arith.select %[[IN]], %c8{{.*}}, %c0{{.*}} : index
// CHECK: nvgpu.device_async_copy %{{.+}}, %{{.+}}, 8, %[[COUNT]] {bypassL1} : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> to memref<64x64xbf16, strided<[72, 1]>, #gpu.address_space<workgroup>>
// CHECK: nvvm.cp.async.commit.group
// CHECK: } else {
// CHECK: scf.for %{{.+}} = %c0{{(_[0-9]+)?}} to %c16{{(_[0-9]+)?}} step %c1{{(_[0-9]+)?}}
// CHECK: memref.load %{{.+}} : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-NEXT: gpu.barrier
gpu.module @m {
gpu.func @load(%k: !g, %kt: !t, %b: index, %h: index, %row0: index, %rows: index) kernel {
  attn.tile.load %k[%b, %h, %row0] rows %rows into %kt : !g -> !t
  gpu.barrier
  gpu.return
}
}

// -----

!s = memref<64x128xf32, #gpu.address_space<workgroup>>
!r = memref<64xf32, #gpu.address_space<workgroup>>
!a = memref<64x64xf32, #gpu.address_space<workgroup>>

// softmax_update: a warp per row (here 4 warps, from the kernel's
// known_block_size, 16 rows each), lanes over the columns, max and sum by
// butterfly shuffles, exp as exp2; lane 0 writes the row's new max and sum.
// CHECK-LABEL: gpu.func @softmax
// CHECK: scf.for %{{.+}} = %c0{{(_[0-9]+)?}} to %c16{{(_[0-9]+)?}} step %c1{{(_[0-9]+)?}}
// CHECK: scf.for %{{.+}} = %c0{{(_[0-9]+)?}} to %c4{{(_[0-9]+)?}} step %c1{{(_[0-9]+)?}} iter_args
// CHECK: arith.maximumf
// CHECK: gpu.shuffle  xor %{{.+}}, %c16_i32{{.*}}, %c32_i32{{.*}} : f32
// CHECK: gpu.shuffle  xor %{{.+}}, %c8_i32{{.*}}, %c32_i32{{.*}} : f32
// CHECK: gpu.shuffle  xor %{{.+}}, %c4_i32{{.*}}, %c32_i32{{.*}} : f32
// CHECK: gpu.shuffle  xor %{{.+}}, %c2_i32{{.*}}, %c32_i32{{.*}} : f32
// CHECK: gpu.shuffle  xor %{{.+}}, %c1_i32{{.*}}, %c32_i32{{.*}} : f32
// CHECK: math.exp2
// CHECK: gpu.shuffle  xor
// CHECK: arith.cmpi eq, %{{.+}}, %c0{{.*}} : index
// CHECK: scf.if
gpu.module @m {
gpu.func @softmax(%s: !s, %m: !r, %l: !r, %acc: !a) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
  attn.tile.softmax_update %s, %m, %l, %acc : !s, !r, !r, !a
  gpu.return
}
}

// -----

!s = memref<64x64xf32, #gpu.address_space<workgroup>>

// dropout: Philox4x32-10 per element (its multipliers 0xD2511F53 and
// 0xCD9E8D57 as i32) over counter (j, i, b * heads + h, offset), keep iff
// word0 >> 8 >= ceil(p 2^24); 4 consecutive elements per thread.
// CHECK-LABEL: gpu.func @dropout
// CHECK: vector.load %{{.+}} : memref<64x64xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// CHECK-DAG: arith.constant -766435501 : i32
// CHECK-DAG: arith.constant -845247145 : i32
// CHECK: arith.mului_extended
// CHECK: arith.constant 1677722 : i32
// CHECK: arith.cmpi uge
// CHECK: vector.store %{{.+}} : memref<64x64xf32, #gpu.address_space<workgroup>>, vector<4xf32>
gpu.module @m {
gpu.func @dropout(%p: !s, %b: index, %h: index, %i: index, %hq: index, %seed: i64, %off: i64) kernel {
  attn.tile.dropout %p at [%b, %h, %i, %i] heads %hq seed %seed offset %off prob(0.1) : !s
  gpu.return
}
}

// -----

!f = memref<32x32xf32, #gpu.address_space<workgroup>>

// A matmul the tensor cores did not take: each of the 256 threads sums its
// 4 output elements' products in f32 with fma.
// CHECK-LABEL: gpu.func @scalar_matmul
// CHECK: scf.for %{{.+}} = %c0{{(_[0-9]+)?}} to %c4{{(_[0-9]+)?}} step %c1{{(_[0-9]+)?}}
// CHECK: scf.for %{{.+}} = %c0{{(_[0-9]+)?}} to %c32{{(_[0-9]+)?}} step %c1{{(_[0-9]+)?}} iter_args
// CHECK: math.fma
// CHECK-NOT: attn.tile
gpu.module @m {
gpu.func @scalar_matmul(%a: !f, %b: !f, %c: !f) kernel {
  attn.tile.matmul %a, %b, %c transpose_b : !f, !f, !f
  gpu.return
}
}

// -----

!s = memref<64x32xf32, #gpu.address_space<workgroup>>
!c = memref<32xf32, #gpu.address_space<workgroup>>

// A transposed exp_lse on a shared-memory tile (S^T of the dK/dV kernel):
// the LSE is read at each element's column (c0 + e of the thread's 4
// consecutive elements), not at its row.
// CHECK-LABEL: gpu.func @exp_lse_transposed
// CHECK-SAME: (%[[S:[^:]+]]: memref<64x32xf32, #gpu.address_space<workgroup>>, %[[LSE:[^:]+]]: memref<32xf32, #gpu.address_space<workgroup>>)
// CHECK: %[[ROW:.+]] = arith.divui %{{.+}}, %c8{{[_0-9]*}} : index
// CHECK: %[[COL:.+]] = arith.muli %{{.+}}, %c4{{[_0-9]*}} : index
// CHECK: vector.load %[[S]][%[[ROW]], %[[COL]]]
// CHECK: %[[C0:.+]] = arith.addi %[[COL]], %c0{{[_0-9]*}} : index
// CHECK: memref.load %[[LSE]][%[[C0]]] : memref<32xf32, #gpu.address_space<workgroup>>
// CHECK: math.exp2
// CHECK: %[[C1:.+]] = arith.addi %[[COL]], %c1{{[_0-9]*}} : index
// CHECK: memref.load %[[LSE]][%[[C1]]] : memref<32xf32, #gpu.address_space<workgroup>>
// CHECK-NOT: memref.load %[[LSE]][%[[ROW]]]
gpu.module @m {
gpu.func @exp_lse_transposed(%s: !s, %lse: !c) kernel {
  attn.tile.exp_lse %s, %lse transposed : !s, !c
  gpu.return
}
}

// -----

!g = memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>

// tile.load into a 128-byte-swizzled tile (wgmma's operand layout,
// codegen/nvidia/Wgmma.h): the 16-byte chunk (row r, column c) goes to
// chunk (c / 8) ^ (r % 8) of row r, here through the flat element offset
// (c / 64) 4096 + 64 r + 8 chunk + c % 8 of the [64][64] view. In a kernel
// with swizzled tiles the copies are fenced for the async proxy before the
// barrier that completes them.
// CHECK-LABEL: gpu.func @load_swizzled
// CHECK: %[[IDX:.+]] = arith.addi %{{.+}}, %thread_id_x : index
// CHECK: %[[COL:.+]] = arith.muli %{{.+}}, %c8{{.*}} : index
// CHECK: %[[INATOM:.+]] = arith.remui %[[COL]], %c64{{.*}} : index
// CHECK: %[[CHUNK:.+]] = arith.divui %[[INATOM]], %c8{{.*}} : index
// CHECK: %[[R8:.+]] = arith.remui %{{.+}}, %c8{{.*}} : index
// CHECK: %[[SWZ:.+]] = arith.xori %[[CHUNK]], %[[R8]] : index
// CHECK: %[[ATOM:.+]] = arith.divui %[[COL]], %c64{{.*}} : index
// CHECK: arith.muli %[[ATOM]], %c4096{{.*}} : index
// CHECK: arith.muli %[[SWZ]], %c8{{.*}} : index
// CHECK: %[[PROW:.+]] = arith.divui %[[FLAT:.+]], %c64{{.*}} : index
// CHECK: %[[PCOL:.+]] = arith.remui %[[FLAT]], %c64{{.*}} : index
// CHECK: nvgpu.device_async_copy %{{.+}}, %{{.+}}[%[[PROW]], %[[PCOL]]], 8
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-NEXT: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT: gpu.barrier
gpu.module @m {
gpu.func @load_swizzled(%k: !g, %b: index, %h: index, %row0: index, %rows: index) kernel attributes {attn.swizzled_128b} {
  %c0 = arith.constant 0 : index
  %buf = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
  %kt = memref.view %buf[%c0][] {attn.swizzled_128b} : memref<?xi8, #gpu.address_space<workgroup>> to memref<64x64xbf16, #gpu.address_space<workgroup>>
  attn.tile.load %k[%b, %h, %row0] rows %rows into %kt : !g -> memref<64x64xbf16, #gpu.address_space<workgroup>>
  gpu.barrier
  gpu.return
}
}

// -----

!acc = memref<?x?x?x64xf32, strided<[?, ?, ?, 1], offset: ?>>
!st = memref<128x64xf32, strided<[72, 1]>, #gpu.address_space<workgroup>>

// An f32 tile added into f32 rows (a pair's dQ into dq_accum): when every
// row of the tensor starts on 16 bytes, each thread adds a row of the tile
// (rows tid, tid + 256, ... below min(rows, 128, N - row0)) with one
// cp.reduce.async.bulk of 64 x 4 bytes from the padded shared row, after
// the tile's writes are fenced for the async proxy and a barrier, and
// waits until its row has been read; else element by element, with atomic
// adds.
// CHECK-LABEL: gpu.func @store_accumulate
// CHECK: %[[TID:.+]] = gpu.thread_id x
// CHECK: %[[ROWS:.+]] = arith.maxsi
// CHECK: scf.if
// CHECK: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT: gpu.barrier
// CHECK: %[[BYTES:.+]] = arith.constant 256 : i32
// CHECK: scf.for %[[R:.+]] = %[[TID]] to %[[ROWS]] step %c256
// CHECK: llvm.inline_asm has_side_effects asm_dialect = att "{{.*}}cp.reduce.async.bulk.global.shared::cta.bulk_group.add.f32 [g], [$1], $2;\0Acp.async.bulk.commit_group;\0Acp.async.bulk.wait_group.read 0;{{.*}}", "l,r,r,~{memory}" %{{.+}}, %{{.+}}, %[[BYTES]] : (i64, i32, i32) -> ()
// CHECK: } else {
// CHECK: memref.atomic_rmw addf
gpu.module @m {
gpu.func @store_accumulate(%dq: !acc, %t: !st, %b: index, %h: index, %row0: index, %rows: index) kernel {
  attn.tile.store %t into %dq[%b, %h, %row0] rows %rows accumulate : !st -> !acc
  gpu.return
}
}
