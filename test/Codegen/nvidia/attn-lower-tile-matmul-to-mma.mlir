// RUN: flashc-opt %s -split-input-file -attn-lower-tile-matmul-to-mma=chip=sm_90 | FileCheck %s

!qt = memref<64x64xbf16, strided<[72, 1]>, #gpu.address_space<workgroup>>
!st = memref<64x64xf32, strided<[72, 1]>, #gpu.address_space<workgroup>>

// S = 0.125 Q K^T on bf16 tiles: both operands with ldmatrix (K^T already
// as the B fragment wants it, so not transposed); nvvm.mma.sync m16n8k16
// with bf16 operands packed in i32 and f32 accumulators; 8 warps, each 16
// rows x 4 column blocks; the result scaled and stored in pairs.
// CHECK-LABEL: gpu.func @qk
// CHECK: %{{.+}}:16 = scf.for %{{.+}} = %{{.+}} to %c64 step %c16{{.*}} iter_args
// CHECK: nvgpu.ldmatrix %{{.+}} {numTiles = 4 : i32, transpose = false} : memref<64x64xbf16, strided<[72, 1]>, #gpu.address_space<workgroup>> -> vector<4x2xbf16>
// CHECK: vector.bitcast %{{.+}} : vector<2xbf16> to vector<1xi32>
// CHECK: nvvm.mma.sync A[{{.+}}] B[{{.+}}] C[{{.+}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK: arith.mulf %{{.+}}, %{{.+}} : vector<2xf32>
// CHECK: vector.store %{{.+}} {alignment = 8 : i64} : memref<64x64xf32, strided<[72, 1]>, #gpu.address_space<workgroup>>, vector<2xf32>
// CHECK-NOT: attn.tile.matmul
gpu.module @m {
gpu.func @qk(%q: !qt, %k: !qt, %s: !st) kernel {
  attn.tile.matmul %q, %k, %s transpose_b alpha(0.125) : !qt, !qt, !st
  gpu.return
}
}

// -----

!pt = memref<64x64xf32, strided<[72, 1]>, #gpu.address_space<workgroup>>
!vt = memref<64x64xf16, strided<[72, 1]>, #gpu.address_space<workgroup>>

// acc += P V with f32 P: P's fragments are loaded as f32 pairs and rounded
// to f16 (FlashAttention-2), V's come from ldmatrix.trans (V is [K][N]);
// f16 operands stay vector<2xf16>; the old accumulator is added.
// CHECK-LABEL: gpu.func @pv
// CHECK: vector.load %{{.+}} {alignment = 8 : i64} : memref<64x64xf32, strided<[72, 1]>, #gpu.address_space<workgroup>>, vector<2xf32>
// CHECK: arith.truncf %{{.+}} : vector<2xf32> to vector<2xf16>
// CHECK: nvgpu.ldmatrix %{{.+}} {numTiles = 4 : i32, transpose = true} : memref<64x64xf16, strided<[72, 1]>, #gpu.address_space<workgroup>> -> vector<4x2xf16>
// CHECK: nvvm.mma.sync {{.+}} shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (vector<2xf16>, vector<2xf16>, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK: vector.load
// CHECK: arith.addf %{{.+}}, %{{.+}} : vector<2xf32>
gpu.module @m {
gpu.func @pv(%p: !pt, %v: !vt, %acc: !pt) kernel {
  attn.tile.matmul %p, %v, %acc accumulate : !pt, !vt, !pt
  gpu.return
}
}

// -----

!pt = memref<64x32xf32, #gpu.address_space<workgroup>>
!dt = memref<64x16xbf16, #gpu.address_space<workgroup>>
!ct = memref<32x16xf32, #gpu.address_space<workgroup>>

// dV += P^T dO: P^T's fragment pairs run down a column of P, two element
// loads each; 32 rows give 2 slabs, so warps split the 2 column blocks too.
// CHECK-LABEL: gpu.func @ptdo
// CHECK: memref.load %{{.+}} : memref<64x32xf32, #gpu.address_space<workgroup>>
// CHECK: memref.load %{{.+}} : memref<64x32xf32, #gpu.address_space<workgroup>>
// CHECK: vector.from_elements
// CHECK: nvgpu.ldmatrix %{{.+}} {numTiles = 2 : i32, transpose = true}
// CHECK: nvvm.mma.sync
gpu.module @m {
gpu.func @ptdo(%p: !pt, %do: !dt, %dv: !ct) kernel {
  attn.tile.matmul %p, %do, %dv transpose_a accumulate : !pt, !dt, !ct
  gpu.return
}
}

// -----

!ft = memref<32x32xf32, #gpu.address_space<workgroup>>

// f32 x f32 stays off the tensor cores (tf32 would break the f32
// tolerance), for attn-lower-tile-ops-to-gpu.
// CHECK-LABEL: gpu.func @f32
// CHECK-NEXT: attn.tile.matmul
gpu.module @m {
gpu.func @f32(%a: !ft, %b: !ft, %c: !ft) kernel {
  attn.tile.matmul %a, %b, %c : !ft, !ft, !ft
  gpu.return
}
}
