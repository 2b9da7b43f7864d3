// RUN: flashc-opt %s --attn-tile=target=sm_90 --attn-lower-to-nvvm=chip=sm_90 | FileCheck %s --check-prefixes=CHECK,SM90
// RUN: flashc-opt %s --attn-tile=target=sm_80 --attn-lower-to-nvvm=chip=sm_80 | FileCheck %s --check-prefixes=CHECK,SM80
// RUN: flashc-opt %s --attn-tile=target=sm_90 --attn-lower-to-nvvm="chip=sm_90 stage=nvvm" | FileCheck %s --check-prefix=NVVM

// The whole pipeline: one gpu.binary of PTX per kernel, named after it, for
// the chip and PTX version of TargetInfo; 128 threads (the 4 warps of the
// register tiles' 64 rows, 2 CTAs an SM at up to 255 registers); tensor
// cores through ldmatrix and mma.sync on bf16; CTA barriers between the
// shared-memory tile ops; row reductions with shuffles.
// CHECK: gpu.binary @causal_fwd
// SM90-SAME: #nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">
// SM90-SAME: .version 8.0\0A.target sm_90\0A
// SM80-SAME: #nvvm.target<O = 3, chip = "sm_80", features = "+ptx70">
// SM80-SAME: .version 7.0\0A.target sm_80\0A
// CHECK-SAME: .visible .entry causal_fwd(
// CHECK-SAME: .maxntid 128, 1, 1\0A.minnctapersm 2\0A
// CHECK-DAG: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// CHECK-DAG: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// CHECK-DAG: bar.sync
// CHECK-DAG: shfl.sync.bfly.b32
// CHECK-DAG: ex2.approx

// The NVVM stage: the memrefs of the ABI expanded into descriptor fields.
// NVVM: llvm.func @causal_fwd(%{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: i64, %{{.+}}: i64, %{{.+}}: i64, %{{.+}}: i64, %{{.+}}: i64, %{{.+}}: i64, %{{.+}}: i64, %{{.+}}: i64, %{{.+}}: i64,
// NVVM-SAME: gpu.kernel
// NVVM-SAME: nvvm.kernel
// NVVM: nvvm.mma.sync
func.func @causal(%q: tensor<2x4x100x64xbf16>, %k: tensor<2x4x100x64xbf16>, %v: tensor<2x4x100x64xbf16>) -> (tensor<2x4x100x64xbf16>, tensor<2x4x100xf32>) {
  %o, %lse = attn.attention %q, %k, %v causal : tensor<2x4x100x64xbf16>, tensor<2x4x100x64xbf16>, tensor<2x4x100x64xbf16> -> tensor<2x4x100x64xbf16>, tensor<2x4x100xf32>
  return %o, %lse : tensor<2x4x100x64xbf16>, tensor<2x4x100xf32>
}
