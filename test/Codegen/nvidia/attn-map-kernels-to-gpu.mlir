// RUN: flashc-opt %s -split-input-file -attn-map-kernels-to-gpu=chip=sm_90 -verify-diagnostics | FileCheck %s
// RUN: flashc-opt %s -split-input-file -attn-map-kernels-to-gpu="chip=sm_90 threads=128" -verify-diagnostics | FileCheck %s --check-prefix=T128
// T128: known_block_size = array<i32: 128, 1, 1>, nvvm.minctasm = 4 : i32

// The kernel becomes the one gpu.func of a gpu.module of its name, with the
// same arguments; the grid (b, h, blk) becomes (block z, block y, block x)
// under a bounds guard; each tile is a view of the dynamic shared memory at
// its planned offset, rows strided by the planned pitch.
// CHECK: module attributes {gpu.container_module}
// CHECK-LABEL: gpu.module @k_fwd
// CHECK: gpu.func @k_fwd(%[[Q:.+]]: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %[[N:.+]]: index) kernel
// CHECK-SAME: attn.kernel_info = {block_k = 64 : i64, block_q = 64 : i64}, attn.kernel_kind = "fwd", attn.shared_bytes = 9472 : i64
// CHECK-SAME: known_block_size = array<i32: 256, 1, 1>
// 9 KiB of shared memory would let 23 CTAs run on an SM; 2 of 256 threads
// leave each thread 128 registers.
// CHECK-SAME: nvvm.minctasm = 2 : i32
// CHECK: %[[SMEM:.+]] = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// CHECK: %[[C0:.+]] = arith.constant 0 : index
// CHECK: %[[V0:.+]] = memref.view %[[SMEM]][%[[C0]]][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<64x72xbf16, #gpu.address_space<workgroup>>
// CHECK: %[[T0:.+]] = memref.subview %[[V0]][0, 0] [64, 64] [1, 1] : memref<64x72xbf16, #gpu.address_space<workgroup>> to memref<64x64xbf16, strided<[72, 1]>, #gpu.address_space<workgroup>>
// CHECK: %[[C9216:.+]] = arith.constant 9216 : index
// CHECK: %[[T1:.+]] = memref.view %[[SMEM]][%[[C9216]]][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<64xf32, #gpu.address_space<workgroup>>
// CHECK-DAG: %[[BZ:.+]] = gpu.block_id z
// CHECK-DAG: %[[BY:.+]] = gpu.block_id y
// CHECK-DAG: %[[BX:.+]] = gpu.block_id x
// CHECK: %[[OKZ:.+]] = arith.cmpi ult, %[[BZ]], %{{.+}} : index
// CHECK: %[[OKY:.+]] = arith.cmpi ult, %[[BY]], %{{.+}} : index
// CHECK: %[[OKX:.+]] = arith.cmpi ult, %[[BX]], %[[N]] : index
// CHECK: scf.if
// CHECK-NOT: memref.alloca
// CHECK: attn.tile.load %[[Q]][%[[BZ]], %[[BY]], %[[BX]]] rows %{{.+}} into %[[T0]]
// CHECK: attn.tile.fill %[[T1]]
// CHECK: gpu.return
// CHECK-NOT: func.func
func.func @k_fwd(%q: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %n: index) attributes {attn.kernel_info = {block_k = 64 : i64, block_q = 64 : i64}, attn.kernel_kind = "fwd", attn.shared_bytes = 9472 : i64} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %b = memref.dim %q, %c0 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %h = memref.dim %q, %c1 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  scf.forall (%ib, %ih, %iblk) in (%b, %h, %n) {
    memref.alloca_scope {
      %t = memref.alloca() {attn.shared_offset = 0 : i64, attn.shared_pitch = 72 : i64} : memref<64x64xbf16>
      %m = memref.alloca() {attn.shared_offset = 9216 : i64} : memref<64xf32>
      attn.tile.load %q[%ib, %ih, %iblk] rows %n into %t : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> memref<64x64xbf16>
      attn.tile.fill %m, 0.0 : memref<64xf32>
    }
  }
  return
}

// -----

// expected-error @+1 {{kernel 'unplanned_fwd' has no shared-memory plan; run attn-plan-shared-memory first}}
func.func @unplanned_fwd(%n: index) attributes {attn.kernel_kind = "fwd"} {
  scf.forall (%b, %h, %blk) in (%n, %n, %n) {
  }
  return
}

// -----

// A swizzled tile (attn-select-wgmma) keeps its mark on its view, unpadded,
// and the kernel keeps its own: the tile load and wgmma lowerings and the
// barriers' async-proxy fence read them.
// CHECK-LABEL: gpu.func @k_swizzled_fwd
// CHECK-SAME: attn.swizzled_128b
// CHECK: memref.view %{{.+}}[%{{.+}}][] {attn.swizzled_128b} : memref<?xi8, #gpu.address_space<workgroup>> to memref<64x64xbf16, #gpu.address_space<workgroup>>
// CHECK-NOT: memref.subview
func.func @k_swizzled_fwd(%q: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %n: index) attributes {attn.kernel_info = {block_k = 64 : i64, block_q = 64 : i64}, attn.kernel_kind = "fwd", attn.shared_bytes = 8192 : i64, attn.swizzled_128b} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %b = memref.dim %q, %c0 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  %h = memref.dim %q, %c1 : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  scf.forall (%ib, %ih, %iblk) in (%b, %h, %n) {
    %t = memref.alloca() {attn.shared_offset = 0 : i64, attn.shared_pitch = 64 : i64, attn.swizzled_128b} : memref<64x64xbf16>
    attn.tile.load %q[%ib, %ih, %iblk] rows %n into %t : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> memref<64x64xbf16>
  }
  return
}
