//===- CpuPipeline.h - tiled attn kernels to the llvm dialect ---*- C++ -*-===//

#ifndef FLASHC_CODEGEN_CPU_CPUPIPELINE_H
#define FLASHC_CODEGEN_CPU_CPUPIPELINE_H

#include "mlir/Pass/PassManager.h"

namespace flashc::codegen::cpu {

/// Lowers a module of tiled-level kernels (scf.forall / scf.for / scf.if,
/// arith, math, memref and attn.tile ops) to the llvm dialect, ready for
/// mlir::ExecutionEngine:
///
///  1. attn-lower-tiles-to-loops: attn.tile ops become scf.for loops.
///  2. scf-forall-to-for: the grid runs sequentially, one CTA at a time.
///  3. attn-hoist-static-allocas: tiles are allocated once, not per CTA.
///  4. canonicalize, cse.
///  5. attn-emit-kernel-c-interface: kernels get `_mlir_ciface_` wrappers.
///  6. arith-expand (with bf16: extf/truncf of bf16 become integer ops, as
///     the JIT has no bf16 conversion routines to call), expand-strided-
///     metadata, lower-affine, convert-scf-to-cf.
///  7. math to LLVM intrinsics, and to libm calls where there is none;
///     memref (first, while memref.dim indices are still arith.constant),
///     arith, cf, func, ub to LLVM; reconcile-unrealized-casts.
void buildCpuLoweringPipeline(mlir::OpPassManager &pm);

} // namespace flashc::codegen::cpu

#endif // FLASHC_CODEGEN_CPU_CPUPIPELINE_H
