// RUN: flashc-opt %s -split-input-file --attn-tile=target=sm_90 --attn-drop-unread-tiles --attn-assign-register-tiles=chip=sm_90 --attn-pipeline-tile-loads=chip=sm_90 | FileCheck %s
// RUN: flashc-opt %s -split-input-file --attn-tile=target=sm_90 --attn-drop-unread-tiles --attn-assign-register-tiles=chip=sm_90 --attn-pipeline-tile-loads="chip=sm_90 always=1" | FileCheck %s --check-prefix=ALWAYS

// Forward: K and V get second buffers; the first key block's tiles load
// before the loop; each iteration picks its buffers by parity, waits at a
// barrier, prefetches the next block's tiles into the other buffers, and
// computes on its own.
// CHECK-LABEL: func.func @fwd_fwd
// CHECK: %[[K0:.+]] = memref.alloca() : memref<128x64xbf16>
// CHECK-NEXT: %[[K1:.+]] = memref.alloca() : memref<128x64xbf16>
// CHECK: %[[V0:.+]] = memref.alloca() : memref<128x64xbf16>
// CHECK-NEXT: %[[V1:.+]] = memref.alloca() : memref<128x64xbf16>
// CHECK: scf.if
// CHECK: attn.tile.load %{{.+}} into %[[K0]]
// CHECK: attn.tile.load %{{.+}} into %[[V0]]
// CHECK: scf.for %[[J:[^ ]+]] =
// CHECK: %[[EVEN:.+]] = arith.cmpi eq
// CHECK-NEXT: %[[KC:.+]] = arith.select %[[EVEN]], %[[K0]], %[[K1]]
// CHECK-NEXT: %[[KN:.+]] = arith.select %[[EVEN]], %[[K1]], %[[K0]]
// CHECK-NEXT: %[[VC:.+]] = arith.select %[[EVEN]], %[[V0]], %[[V1]]
// CHECK-NEXT: %[[VN:.+]] = arith.select %[[EVEN]], %[[V1]], %[[V0]]
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: %[[NEXT:.+]] = arith.addi %[[J]]
// CHECK-NEXT: %[[MORE:.+]] = arith.cmpi slt, %[[NEXT]]
// CHECK-NEXT: scf.if %[[MORE]]
// CHECK: attn.tile.load %{{.+}} into %[[KN]]
// CHECK: attn.tile.load %{{.+}} into %[[VN]]
// CHECK-NOT: attn.tile.load
// CHECK: attn.tile.matmul %{{.+}}, %[[KC]],
// CHECK: attn.tile.matmul %{{.+}}, %[[VC]],
func.func @fwd(%q: tensor<1x2x300x64xbf16>, %k: tensor<1x2x300x64xbf16>, %v: tensor<1x2x300x64xbf16>) -> (tensor<1x2x300x64xbf16>, tensor<1x2x300xf32>) {
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x300x64xbf16>, tensor<1x2x300x64xbf16>, tensor<1x2x300x64xbf16> -> tensor<1x2x300x64xbf16>, tensor<1x2x300xf32>
  return %o, %lse : tensor<1x2x300x64xbf16>, tensor<1x2x300xf32>
}

// -----

// Dropout: the per-element Philox rounds need the registers; no prefetch,
// unless `always` (tuning) asks for it anyway.
// CHECK-LABEL: func.func @drop_fwd
// CHECK-NOT: arith.select %{{.+}} : memref
// CHECK: scf.for
// CHECK: attn.tile.load
// ALWAYS-LABEL: func.func @drop_fwd
// ALWAYS: scf.for
// ALWAYS: arith.select %{{.+}}, %{{.+}}, %{{.+}} : memref<128x64xbf16>
// ALWAYS: gpu.barrier
func.func @drop(%q: tensor<1x2x300x64xbf16>, %k: tensor<1x2x300x64xbf16>, %v: tensor<1x2x300x64xbf16>) -> (tensor<1x2x300x64xbf16>, tensor<1x2x300xf32>) {
  %o, %lse = attn.attention %q, %k, %v dropout(0.1, seed 7) : tensor<1x2x300x64xbf16>, tensor<1x2x300x64xbf16>, tensor<1x2x300x64xbf16> -> tensor<1x2x300x64xbf16>, tensor<1x2x300xf32>
  return %o, %lse : tensor<1x2x300x64xbf16>, tensor<1x2x300xf32>
}
