// RUN: flashc-opt %s -split-input-file -attn-insert-tile-barriers | FileCheck %s

!g = memref<?x?x?x16xf16, strided<[?, ?, ?, 1], offset: ?>>
!t = memref<16x16xf16, #gpu.address_space<workgroup>>
!s = memref<16x16xf32, #gpu.address_space<workgroup>>
!r = memref<16xf32, #gpu.address_space<workgroup>>

// Independent writes need no barrier; reading what another op wrote does.
// CHECK-LABEL: gpu.func @straight
// CHECK-NEXT: attn.tile.fill %[[A:[^,]+]], 1.0
// CHECK-NEXT: attn.tile.fill %[[B:[^,]+]], 2.0
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: attn.tile.row_dot
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: attn.tile.store
// Reading again what was only read needs none; overwriting what was read
// (d, by the store) does.
// CHECK-NEXT: attn.tile.row_dot %[[A]], %[[B]], %[[E:.+]] :
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: attn.tile.row_dot
// CHECK-NEXT: gpu.return
gpu.module @m {
gpu.func @straight(%a: !s, %b: !s, %d: !r, %e: !r, %out: memref<?x?x?xf32, strided<[?, ?, 1], offset: ?>>, %i: index) kernel {
  attn.tile.fill %a, 1.0 : !s
  attn.tile.fill %b, 2.0 : !s
  attn.tile.row_dot %a, %b, %d : !s, !s, !r
  attn.tile.store %d into %out[%i, %i, %i] rows %i : !r -> memref<?x?x?xf32, strided<[?, ?, 1], offset: ?>>
  attn.tile.row_dot %a, %b, %e : !s, !s, !r
  attn.tile.row_dot %a, %a, %d : !s, !s, !r
  gpu.return
}
}

// -----

!g = memref<?x?x?x16xf16, strided<[?, ?, ?, 1], offset: ?>>
!t = memref<16x16xf16, #gpu.address_space<workgroup>>
!s = memref<16x16xf32, #gpu.address_space<workgroup>>

// Across the loop's back edge: the next iteration's load overwrites the K
// tile the previous matmul read (write after read), so it waits. Inside an
// scf.if, the barrier goes where the conflict is.
// CHECK-LABEL: gpu.func @loop
// CHECK: scf.for
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: attn.tile.load
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: attn.tile.matmul
// CHECK-NEXT: scf.if
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: attn.tile.mask
// CHECK: }
// CHECK-NEXT: }
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: attn.tile.row_dot
gpu.module @m {
gpu.func @loop(%q: !t, %kt: !t, %s: !s, %k: !g, %d: memref<16xf32, #gpu.address_space<workgroup>>, %n: index, %c: i1) kernel {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %j = %c0 to %n step %c1 {
    attn.tile.load %k[%c0, %c0, %j] rows %n into %kt : !g -> !t
    attn.tile.matmul %q, %kt, %s transpose_b : !t, !t, !s
    scf.if %c {
      attn.tile.mask %s at [%c0, %c0, %c0, %j] shift %c0 bounds [%n, %n] causal : !s
    }
  }
  attn.tile.row_dot %s, %s, %d : !s, !s, memref<16xf32, #gpu.address_space<workgroup>>
  gpu.return
}
}

// -----

!t = memref<64x16xbf16, #gpu.address_space<workgroup>>
!kt = memref<16x16xbf16, #gpu.address_space<workgroup>>
!p = memref<64x16xf32, #gpu.address_space<private>>
!r = memref<64xf32, #gpu.address_space<private>>

// Register tiles are each thread's own: writing and re-reading them needs
// no barrier; only the shared-memory tiles count.
// CHECK-LABEL: gpu.func @registers
// CHECK-NEXT: attn.tile.fill
// CHECK-NEXT: attn.tile.matmul
// CHECK-NEXT: attn.tile.softmax_update
// CHECK-NEXT: attn.tile.matmul
// CHECK-NEXT: gpu.return
gpu.module @m {
gpu.func @registers(%q: !t, %k: !kt, %s: !p, %acc: !p, %m: !r, %l: !r) kernel {
  attn.tile.fill %acc, 0.0 : !p
  attn.tile.matmul %q, %k, %s transpose_b : !t, !kt, !p
  attn.tile.softmax_update %s, %m, %l, %acc : !p, !r, !r, !p
  attn.tile.matmul %s, %k, %acc accumulate : !p, !kt, !p
  gpu.return
}
}
