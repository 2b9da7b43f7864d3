//===- LowerTileOpsToGpu.h - attn.tile ops to CTA code ----------*- C++ -*-===//

#ifndef FLASHC_CODEGEN_NVIDIA_LOWERTILEOPSTOGPU_H
#define FLASHC_CODEGEN_NVIDIA_LOWERTILEOPSTOGPU_H

#include "codegen/nvidia/TargetInfo.h"

#include "mlir/IR/PatternMatch.h"

namespace flashc::nvidia {

/// Every attn.tile op to code the CTA's threads run together (one pattern
/// per op; tile.matmul on the FMA units). tile.score_grad's custom region
/// must have passed verifyDifferentiable (codegen/RegionDerivative.h).
void populateLowerTileOpsToGpuPatterns(mlir::RewritePatternSet &patterns,
                                       const TargetInfo &target);

// The families that make up the set, one file each.
/// load, store.
void populateGpuMemoryTileOpsPatterns(mlir::RewritePatternSet &patterns,
                                      const TargetInfo &target);
/// fill, copy, score_mod, score_grad, mask, dropout, exp_lse, softmax_grad
/// (ElementwiseTileOps.h).
void populateGpuElementwiseTileOpsPatterns(mlir::RewritePatternSet &patterns,
                                           const TargetInfo &target);
/// softmax_update, finalize, row_dot.
void populateGpuSoftmaxTileOpsPatterns(mlir::RewritePatternSet &patterns,
                                       const TargetInfo &target);
/// matmul, each thread computing output elements in f32.
void populateGpuScalarMatmulPatterns(mlir::RewritePatternSet &patterns,
                                     const TargetInfo &target);

/// Makes every gpu.barrier in \p root first wait for the thread's cp.async
/// copies (tile.load commits them and does not wait), so that a tile loaded
/// before a barrier is complete and visible to the CTA after it.
void waitForAsyncCopiesAtBarriers(mlir::Operation *root);

/// tile.matmul on tensor cores (warp-level mma.sync) where
/// isMmaCompatible holds.
void populateTileMatmulToMmaPatterns(mlir::RewritePatternSet &patterns,
                                     const TargetInfo &target);
/// Whether tile.matmul \p op can run on \p target's tensor cores.
bool isMmaCompatible(mlir::Operation *op, const TargetInfo &target);

} // namespace flashc::nvidia

#endif // FLASHC_CODEGEN_NVIDIA_LOWERTILEOPSTOGPU_H
